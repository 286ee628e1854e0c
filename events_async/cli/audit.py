"""`events-async audit`: audit the account's set-up and exit by what was found."""

from __future__ import annotations

import argparse
import sys

from ..audit import audit_account
from .connection import open_client, output_width
from .render import ProgressBar, render
from .spec import POSITIVE, Arg, Command, Group

__all__ = ["AUDIT"]


async def _audit(args: argparse.Namespace) -> int:
    bar = ProgressBar()
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
    return 1 if report.has_errors else 0


AUDIT = Group(
    "audit",
    "audit the account's set-up (exit 0: clean, 1: errors found, 2: could not sign in)",
    (
        Command(
            "",
            "audit the account's set-up",
            _audit,
            (
                Arg(
                    ("--concurrency",),
                    "reads in flight at once (default: 10)",
                    {"type": POSITIVE, "default": 10, "metavar": "N"},
                ),
            ),
        ),
    ),
)
