"""`events-async audit --subaccounts | --accounts FILE`: audit a fleet, streamed.

Reports arrive as each account finishes: with `--json`, one JSON line per account as it
comes, then a summary line; otherwise a table of accounts (errors first) and a headline,
after each account's findings with `--findings`. The exit status follows `--fail-on`;
Ctrl-C prints what finished, says the audit was interrupted, and exits 130.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator, Coroutine, Iterable
from pathlib import Path
from typing import Any

import attrs

from .._text import KEEP, counted, wrap
from ..accounts import AccountsClient
from ..audit import AuditReport, Severity
from ..errors import InvalidRequestError
from ..fleet import FleetMember, FleetSummary, Shard, audit_fleet
from .accounts_file import parse_accounts
from .connection import output_width
from .render import ProgressBar, render
from .spec import UsageError

__all__ = [
    "EXIT_INTERRUPTED",
    "audit_fleet_command",
    "check_fleet_options",
    "client_options",
    "exit_status",
    "fleet_accounts",
    "headline",
    "is_fleet",
    "shard",
    "until_ctrl_c",
    "write_line",
]

STATUSES = ("active", "suspended", "closed", "all")


def shard(text: str) -> Shard:
    """`--shard K/N` for argparse."""
    try:
        return Shard.parse(text)
    except InvalidRequestError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def is_fleet(args: argparse.Namespace) -> bool:
    """Whether the command audits a fleet rather than one account."""
    return bool(args.subaccounts or args.accounts)


def check_fleet_options(args: argparse.Namespace) -> None:
    """Refuse combinations that cannot work, before connecting."""
    if args.subaccounts and args.accounts:
        raise UsageError("--subaccounts and --accounts cannot be combined")
    if (args.include_parent or args.status is not None) and not args.subaccounts:
        raise UsageError("--include-parent and --status go with --subaccounts")
    if args.shard is not None and not is_fleet(args):
        raise UsageError("--shard needs --subaccounts or --accounts")
    if args.fake and args.accounts:
        raise UsageError("--fake audits its demo fleet with --subaccounts, not --accounts")


def exit_status(with_errors: bool, with_warnings: bool, fail_on: str) -> int:
    """1 when the findings reach `--fail-on` (error, warning or never), else 0."""
    if fail_on == "never":
        return 0
    return 1 if with_errors or (fail_on == "warning" and with_warnings) else 0


@attrs.frozen
class _Row:
    """One account in the fleet table (short headers, so it reads at 80 columns)."""

    account: str
    result: str
    errors: int = attrs.field(metadata={"header": "ERR"})
    warnings: int = attrs.field(metadata={"header": "WARN"})
    info: int
    sinks: int
    subscriptions: int = attrs.field(metadata={"header": "SUBS"})

    @classmethod
    def of(cls, report: AuditReport) -> _Row:
        errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
        if report.authentication_failed:
            result = SIGN_IN_FAILED
        elif any(f.code == "AUDIT_INCOMPLETE" for f in report.findings):
            result = "incomplete"
        else:
            result = "errors" if errors else "warnings" if warnings else "clean"
        return cls(
            account=report.account_sid,
            result=result,
            errors=errors,
            warnings=warnings,
            info=report.count(Severity.INFO),
            sinks=report.sinks,
            subscriptions=report.subscriptions,
        )

    def order(self) -> tuple[bool, bool, int, int, str]:
        """Accounts with errors first, then with warnings; most first, then by SID."""
        return (not self.errors, not self.warnings, -self.errors, -self.warnings, self.account)


SIGN_IN_FAILED = "sign-in failed"


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "base_url": args.base_url,
        "region": args.region,
        "edge": args.edge,
        "timeout": args.timeout,
        "max_retries": args.max_retries,
    }


def _status(args: argparse.Namespace) -> str | None:
    status: str = args.status or "active"
    return None if status == "all" else status


def _read_file(name: str) -> str:
    try:
        if name == "-":
            return sys.stdin.read()
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise UsageError(f"cannot read --accounts {name}: {reason}") from None


@contextlib.asynccontextmanager
async def fleet_accounts(
    args: argparse.Namespace,
) -> AsyncIterator[tuple[Iterable[FleetMember] | AsyncIterator[FleetMember], dict[str, Any]]]:
    """The accounts the options name, and the options every account's client takes."""
    options = client_options(args)
    if args.accounts:
        yield parse_accounts(_read_file(args.accounts), args.accounts), options
        return
    discovery = {"timeout": args.timeout, "max_retries": args.max_retries}
    if args.fake:
        from ..testing import FakeEventsServer
        from ..testing.demo import seed_demo_fleet

        async with FakeEventsServer() as fake:
            seed_demo_fleet(fake)
            parent = fake.account
            async with AccountsClient(
                parent.sid, parent.auth_token, base_url=fake.url, **discovery
            ) as accounts:
                listed = accounts.subaccounts(
                    status=_status(args), include_parent=args.include_parent
                )
                yield listed, {**options, "base_url": fake.url}
        return
    async with AccountsClient(
        args.account_sid,
        args.auth_token,
        api_key=args.api_key,
        api_secret=args.api_secret,
        base_url=args.accounts_url,
        **discovery,
    ) as accounts:
        yield (
            accounts.subaccounts(status=_status(args), include_parent=args.include_parent),
            options,
        )


def write_line(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def headline(summary: FleetSummary, *, interrupted: bool = False) -> str:
    """The fleet's totals in one sentence (words that belong together joined by KEEP)."""
    phrases = [
        counted(summary.accounts, "account", KEEP),
        f"{summary.with_errors} with{KEEP}errors ({summary.incomplete}{KEEP}incomplete)",
        f"{summary.with_warnings} with{KEEP}warnings;",
        counted(summary.errors, "error", KEEP),
        counted(summary.warnings, "warning", KEEP),
        f"{counted(summary.info, 'info', KEEP)} in{KEEP}all",
    ]
    title = "Fleet audit (interrupted):" if interrupted else "Fleet audit:"
    return f"{title} {', '.join(phrases[:3])} {', '.join(phrases[3:])}"


@attrs.define
class _Results:
    """What has arrived so far; kept when Ctrl-C stops the audit."""

    summary: FleetSummary = attrs.field(factory=FleetSummary)
    rows: list[_Row] = attrs.field(factory=list)
    with_findings: list[AuditReport] = attrs.field(factory=list)  # with --findings only


async def _collect(args: argparse.Namespace, bar: ProgressBar, results: _Results) -> None:
    async with fleet_accounts(args) as (accounts, options):
        reports = audit_fleet(
            accounts,
            concurrency=args.concurrency,
            accounts_at_once=args.accounts_at_once,
            max_in_flight=args.max_in_flight,
            shard=args.shard,
            progress=bar,
            **options,
        )
        async with contextlib.aclosing(reports):
            async for report in reports:
                results.summary.add(report)
                if args.json:
                    write_line(report.to_json())
                    continue
                results.rows.append(_Row.of(report))
                if args.findings and report.findings:
                    results.with_findings.append(report)


async def until_ctrl_c(work: Coroutine[Any, Any, None]) -> bool:
    """Run `work`; Ctrl-C cancels it (its `finally` blocks run). True if it was Ctrl-C."""
    task = asyncio.ensure_future(work)
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        task.cancel()

    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError):  # no signal handlers here: Ctrl-C ends it all
        await task
        return False
    try:
        await task
    except asyncio.CancelledError:
        if not interrupted:
            raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    return interrupted


async def audit_fleet_command(args: argparse.Namespace) -> int:
    """Audit the fleet the options name; print as reports arrive; exit by `--fail-on`.

    Ctrl-C stops it: what finished is printed, said to be partial, and the exit is 130.
    """
    bar = ProgressBar(label="accounts", counter=lambda done: f"{counted(done, 'account')} audited…")
    bar.active = bar.active and not (args.json and sys.stdout.isatty())
    results = _Results()
    try:
        interrupted = await until_ctrl_c(_collect(args, bar, results))
    finally:
        bar.finish()
    summary = results.summary
    if args.json:
        write_line({**summary.to_json(), "interrupted": interrupted})
    else:
        _print_table(args, results, interrupted)
    if interrupted:
        print(
            f"events-async: interrupted: {counted(summary.accounts, 'account')} audited "
            "before Ctrl-C; the others were not",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return exit_status(summary.with_errors > 0, summary.with_warnings > 0, args.fail_on)


EXIT_INTERRUPTED = 128 + signal.SIGINT


def _print_table(args: argparse.Namespace, results: _Results, interrupted: bool) -> None:
    """With --findings, each account's findings (in the table's order); then the table of
    accounts and the headline, last, where a terminal leaves them in view."""
    width = None if args.wide else output_width()
    results.rows.sort(key=_Row.order)
    order = {row.account: n for n, row in enumerate(results.rows)}
    for report in sorted(results.with_findings, key=lambda r: order[r.account_sid]):
        sys.stdout.write(report.summary(width) + "\n\n")
    render(results.rows, as_json=False, width=width, wide=args.wide)
    sys.stdout.write("\n".join(wrap(headline(results.summary, interrupted=interrupted), width)))
    sys.stdout.write("\n")
