"""`events-async audit`: audit one account, or a fleet of them, and exit by what was found."""

from __future__ import annotations

import argparse
import sys

from .._text import counted
from ..audit import Severity, audit_account
from ..fleet import DEFAULT_ACCOUNTS_AT_ONCE, DEFAULT_MAX_IN_FLIGHT
from .connection import open_client, output_width
from .fleet import STATUSES, audit_fleet_command, check_fleet_options, exit_status, is_fleet, shard
from .render import ProgressBar, render
from .spec import POSITIVE, Arg, Command, Group

__all__ = ["AUDIT"]


async def _audit(args: argparse.Namespace) -> int:
    check_fleet_options(args)
    if is_fleet(args):
        return await audit_fleet_command(args)
    bar = ProgressBar(counter=lambda done: f"auditing: {counted(done, 'read')} done…")
    async with open_client(args) as client:
        try:
            report = await audit_account(client, concurrency=args.concurrency, progress=bar)
        finally:
            bar.finish()
    if args.json:
        render(report.to_json(), as_json=True)
    else:
        render(report.summary(None if args.wide else output_width()), as_json=False)
    if report.authentication_failed:
        print("events-async: error: authentication failed", file=sys.stderr)
        return 2
    warnings = report.count(Severity.WARNING) > 0
    return exit_status(report.has_errors, warnings, args.fail_on)


AUDIT = Group(
    "audit",
    "audit an account's set-up, or a fleet's (exit 0: clean, 1: findings at --fail-on, "
    "2: could not sign in)",
    (
        Command(
            "",
            "audit an account's set-up, or every account of a fleet",
            _audit,
            (
                Arg(
                    ("--concurrency",),
                    "reads in flight at once for one account (default: 10)",
                    {"type": POSITIVE, "default": 10, "metavar": "N"},
                ),
                Arg(
                    ("--fail-on",),
                    "exit 1 when any finding is this severe: error, warning or never "
                    "(default: error)",
                    {"choices": ("error", "warning", "never"), "default": "error"},
                ),
                Arg(
                    ("--findings",),
                    "with a fleet, list each account's findings above the table (one "
                    "account's are always listed)",
                    {"action": "store_true"},
                ),
                Arg(
                    ("--subaccounts",),
                    "audit the subaccounts the credentials own (Twilio's Accounts API)",
                    {"action": "store_true"},
                ),
                Arg(
                    ("--include-parent",),
                    "with --subaccounts, audit the parent account too",
                    {"action": "store_true"},
                ),
                Arg(
                    ("--status",),
                    "with --subaccounts, the accounts' status: active, suspended, closed "
                    "or all (default: active)",
                    {"choices": STATUSES},
                ),
                Arg(
                    ("--accounts",),
                    "audit the accounts a file lists (CSV sid,token or JSON lines; - for "
                    "stdin; an SK… sid is an API key)",
                    {"metavar": "FILE"},
                ),
                Arg(
                    ("--accounts-url",),
                    "the Accounts API's origin (default: $EVENTS_ASYNC_ACCOUNTS_BASE_URL, "
                    "else https://api.twilio.com)",
                    {"metavar": "URL"},
                ),
                Arg(
                    ("--shard",),
                    "audit only shard K of N (1 ≤ K ≤ N), split by a stable hash of the "
                    "account SID",
                    {"type": shard, "metavar": "K/N"},
                ),
                Arg(
                    ("--accounts-at-once",),
                    f"accounts audited at a time (default: {DEFAULT_ACCOUNTS_AT_ONCE})",
                    {"type": POSITIVE, "default": DEFAULT_ACCOUNTS_AT_ONCE, "metavar": "N"},
                ),
                Arg(
                    ("--max-in-flight",),
                    f"requests in flight across the fleet (default: {DEFAULT_MAX_IN_FLIGHT})",
                    {"type": POSITIVE, "default": DEFAULT_MAX_IN_FLIGHT, "metavar": "N"},
                ),
            ),
        ),
    ),
)
