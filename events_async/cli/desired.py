"""`events-async plan`, `apply` and `export`: Event Streams as code, for one account or a fleet.

Without fleet flags the command works on the credentials' own account; with
`--subaccounts` or `--accounts FILE` on a fleet, with the audit's account selection and
caps (`cli/fleet.py` opens the accounts, `events_async.desired` does the work). A file
that cannot be used is one line naming its key path, exit 1, before any request.

Exit status: 0 done; 1 an account failed, was ambiguous or moved since a saved plan, or
the file or the saved plan cannot be used; 2 usage (and `apply` without `--yes` where it
cannot ask), and, for `plan --detailed-exitcode`, changes to make (then every error is 1);
74 the output cannot be written; 130 Ctrl-C, after printing what finished.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Any

import attrs

from .._fleet_run import label
from .._text import counted, printable, wrap
from .._validate import is_sid
from ..accounts import AccountsClient
from ..client import EventsClient
from ..desired import (
    AccountResult,
    FileError,
    SavedPlanError,
    StreamsFile,
    apply_account,
    apply_fleet,
    export_account,
    export_fleet,
    load_file,
    plan_account,
    plan_fleet,
    read_saved_plan,
)
from ..desired.converge import Exported
from ..errors import EventsError
from .audit import AUDIT
from .connection import open_account, output_width
from .fleet import (
    EXIT_INTERRUPTED,
    check_fleet_options,
    fleet_accounts,
    is_fleet,
    until_ctrl_c,
    write_line,
)
from .output import EXIT_OUTPUT
from .plan_render import Totals, account_lines
from .render import ProgressBar
from .spec import Arg, Command, Group, Handler, UsageError, each_arg

__all__ = ["APPLY", "EXPORT", "PLAN", "fleet_args"]

EXIT_FAILED, EXIT_CHANGES = 1, 2
EXPORT_SCHEMA = "events_async.export/1"


class _Stop(Exception):
    """The command ends here: `message` on stderr, exit `status`."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def _error(message: str) -> None:
    print(f"events-async: error: {printable(message)}", file=sys.stderr)


def _command(run: Handler) -> Handler:
    """`run`, its `_Stop` printed as one line; with `--detailed-exitcode` every error
    (usage, sign-in, API) is 1, since 2 says "changes"."""

    async def handler(args: argparse.Namespace) -> int:
        try:
            return await run(args)
        except _Stop as stop:
            _error(str(stop))
            return stop.status
        except (UsageError, EventsError) as error:
            if not getattr(args, "detailed_exitcode", False):
                raise
            _error(str(error))
            return EXIT_FAILED

    return handler


def _streams(args: argparse.Namespace) -> StreamsFile:
    try:
        return load_file(args.file)
    except FileError as error:
        raise _Stop(str(error)) from None


def _bar(args: argparse.Namespace, participle: str) -> ProgressBar:
    bar = ProgressBar(
        label="accounts", counter=lambda done: f"{counted(done, 'account')} {participle}…"
    )
    bar.active = bar.active and is_fleet(args) and not (args.json and sys.stdout.isatty())
    return bar


async def _friendly_name(client: EventsClient, accounts: Callable[[], AccountsClient]) -> str:
    """The account's friendly name, from the Accounts API (for `{friendly_name}`)."""
    sid = client.account_sid
    why = "{friendly_name} is used, but the account's friendly name could not be read"
    try:
        async with accounts() as listing:
            async for account in listing.list(status=None):
                if account.sid == sid and account.friendly_name:
                    return account.friendly_name
    except EventsError as error:
        raise _Stop(f"{why}: {error}") from None
    raise _Stop(f"{why}: the Accounts API lists no friendly name for {sid}")


@attrs.define
class _Target:
    """The accounts the options select, opened: one account's client, or a fleet."""

    args: argparse.Namespace
    streams: StreamsFile | None
    client: EventsClient | None = None
    friendly_name: str | None = None
    source: Any = None
    options: dict[str, Any] = attrs.field(factory=dict)
    seen: list[Any] = attrs.field(factory=list)  # the fleet's members, as pulled

    def _fleet_options(self, bar: ProgressBar, *, shard: bool = True) -> dict[str, Any]:
        args = self.args
        return {
            "max_in_flight": args.max_in_flight,
            "accounts_at_once": args.accounts_at_once,
            "concurrency": args.concurrency,
            "account_timeout": args.account_timeout,
            "shard": args.shard if shard else None,
            "progress": bar,
            **self.options,
        }

    def _source(self) -> Any:
        if isinstance(self.source, list):
            self.seen = self.source
            return self.source
        return self._recorded()

    async def _recorded(self) -> AsyncIterator[Any]:
        async for member in self.source:
            self.seen.append(member)
            yield member

    async def plan(self, bar: ProgressBar) -> AsyncGenerator[AccountResult, None]:
        """Each account's plan, as it finishes."""
        assert self.streams is not None
        if self.client is not None:
            work = plan_account(
                self.client, self.streams, prune=self.args.prune,
                friendly_name=self.friendly_name, concurrency=self.args.concurrency,
            )  # fmt: skip
            yield await _timed(work, self.args.account_timeout)
            return
        results = plan_fleet(
            self._source(), self.streams, prune=self.args.prune, **self._fleet_options(bar)
        )
        async with contextlib.aclosing(results):
            async for result in results:
                yield result

    async def apply(
        self, bar: ProgressBar, expected: dict[str, str] | None, only: set[str] | None = None
    ) -> AsyncGenerator[AccountResult, None]:
        """Each account's apply, as it finishes: of the fleet, or (`only`) of those
        accounts of the plan just made."""
        assert self.streams is not None
        if self.client is not None:
            sid = self.client.account_sid or ""
            yield await apply_account(
                self.client, self.streams, prune=self.args.prune,
                expected=None if expected is None else expected.get(sid, ""),
                timeout=self.args.account_timeout, friendly_name=self.friendly_name,
                concurrency=self.args.concurrency,
            )  # fmt: skip
            return
        source = self._source() if only is None else self._planned(only)
        results = apply_fleet(
            source, self.streams, prune=self.args.prune, expected=expected,
            **self._fleet_options(bar, shard=only is None),
        )  # fmt: skip
        async with contextlib.aclosing(results):
            async for result in results:
                yield result

    def _planned(self, only: set[str]) -> list[Any]:
        return [m for n, m in enumerate(self.seen) if label(m, n) in only]

    async def export(self, bar: ProgressBar) -> AsyncGenerator[Exported, None]:
        """Each account's file, as it finishes."""
        if self.client is not None:
            text = await _timed(
                export_account(self.client, concurrency=self.args.concurrency),
                self.args.account_timeout,
            )
            yield Exported(self.client.account_sid or "", text)
            return
        results = export_fleet(self._source(), **self._fleet_options(bar))
        async with contextlib.aclosing(results):
            async for result in results:
                yield result


async def _timed(work: Awaitable[Any], seconds: float | None) -> Any:
    if seconds is None:
        return await work
    try:
        return await asyncio.wait_for(work, seconds)
    except asyncio.TimeoutError:
        raise _Stop(f"the account took over {seconds:g}s (--account-timeout)") from None


@contextlib.asynccontextmanager
async def _opened(args: argparse.Namespace, streams: StreamsFile | None) -> AsyncIterator[_Target]:
    """The selected accounts, open for the whole command (a prompt included)."""
    if is_fleet(args):
        async with fleet_accounts(args) as (accounts, options):
            yield _Target(args, streams, source=accounts, options=options)
        return
    async with open_account(args) as (client, accounts):
        name = None
        if streams is not None and streams.uses_friendly_name:
            name = await _friendly_name(client, accounts)
        yield _Target(args, streams, client=client, friendly_name=name)


def _open_out(name: str, flag: str) -> IO[str]:
    try:
        return open(name, "w", encoding="utf-8")
    except OSError as error:
        raise _Stop(f"cannot write {flag} {name}: {error.strerror or error}", EXIT_OUTPUT) from None


@attrs.define
class _Shown:
    """Prints each account's result as it arrives (a block, or a JSON line) and counts it."""

    args: argparse.Namespace
    bar: ProgressBar
    totals: Totals
    out: IO[str] | None = None
    width: int | None = None

    def __call__(self, result: AccountResult) -> None:
        self.totals.add(result)
        if self.out is not None:
            try:
                self.out.write(_json_line(result))
                self.out.flush()
            except OSError as error:
                raise _Stop(f"cannot write --out: {error.strerror or error}", EXIT_OUTPUT) from None
        if self.args.json:
            write_line(result.to_json())
            return
        plan = result.plan
        quiet = result.ok and plan is not None and not result.made and not plan.changes
        quiet = quiet and plan is not None and not plan.unmanaged
        quiet = quiet and not getattr(plan, "waiting", ())
        if quiet and is_fleet(self.args):
            return  # counted in the closing line
        self.bar.finish()
        sys.stdout.write("\n".join(account_lines(result, self.width)) + "\n\n")
        sys.stdout.flush()

    def closing(self, interrupted: bool) -> None:
        """The line of totals (not with --json, whose lines are all results)."""
        if not self.args.json:
            text = "\n".join(wrap(self.totals.line(interrupted=interrupted), self.width))
            sys.stdout.write(text + "\n")


def _json_line(result: AccountResult) -> str:
    return json.dumps(result.to_json(), separators=(",", ":")) + "\n"


def _interrupted(totals: Totals, participle: str, more: str = "the others were not") -> int:
    print(
        f"events-async: interrupted: {counted(totals.accounts, 'account')} {participle} "
        f"before Ctrl-C; {more}",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


def _width(args: argparse.Namespace) -> int | None:
    return None if args.wide else output_width()


async def _plan(args: argparse.Namespace) -> int:
    streams = _streams(args)
    check_fleet_options(args)
    out = _open_out(args.out, "--out") if args.out else None
    bar = _bar(args, "planned")
    shown = _Shown(args, bar, Totals(), out, _width(args))

    async def work(target: _Target) -> None:
        async for result in target.plan(bar):
            shown(result)

    try:
        async with _opened(args, streams) as target:
            interrupted = await until_ctrl_c(work(target))
    finally:
        bar.finish()
        if out is not None:
            out.close()
    shown.closing(interrupted)
    totals = shown.totals
    if interrupted:
        return _interrupted(totals, "planned")
    if totals.failed:
        return EXIT_FAILED
    return EXIT_CHANGES if args.detailed_exitcode and totals.changing else 0


def _saved_plan(name: str) -> dict[str, str]:
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise _Stop(f"cannot read the saved plan {name}: {reason}") from None
    try:
        return read_saved_plan(text, name)
    except SavedPlanError as error:
        raise _Stop(str(error)) from None


def _confirmed() -> bool:
    sys.stderr.write("Apply these changes? [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        raise _Stop("interrupted: nothing was applied", EXIT_INTERRUPTED) from None
    return answer.strip().lower() in ("y", "yes")


async def _apply(args: argparse.Namespace) -> int:
    streams = _streams(args)
    check_fleet_options(args)
    expected = _saved_plan(args.plan) if args.plan else None
    ask = expected is None and not args.yes
    if ask and args.json:
        raise UsageError("apply --json needs --yes (or a saved plan): it cannot ask")
    if ask and not sys.stdin.isatty():
        raise UsageError(
            "apply needs --yes when stdin is not a terminal, or a saved plan "
            "(plan --out PLAN, then apply PLAN); nothing was applied"
        )
    bar = _bar(args, "applied")
    shown = _Shown(args, bar, Totals(applied=True), width=_width(args))
    seen: set[str] = set()

    async def applying(target: _Target, only: set[str] | None) -> None:
        async for result in target.apply(bar, expected, only):
            seen.add(result.account_sid)
            shown(result)

    async with _opened(args, streams) as target:
        if ask:
            expected = await _ask(args, target, bar)
            if expected is None:  # nothing to apply
                return 0
            if not expected:  # the answer was no
                return EXIT_FAILED
        only = set(expected) if ask and expected else None
        try:
            interrupted = await until_ctrl_c(applying(target, only))
        finally:
            bar.finish()
    shown.closing(interrupted)
    totals = shown.totals
    if interrupted:
        return _interrupted(
            totals, "applied", "an account being applied may be part-way (the next apply "
            "converges it), the others were not",
        )  # fmt: skip
    missing = sorted(set(expected or ()) - seen) if args.plan else []
    if missing:
        _error(
            f"{counted(len(missing), 'account')} of the saved plan not among those "
            f"selected, not applied: {', '.join(missing)}"
        )
    return EXIT_FAILED if totals.failed or missing else 0


async def _ask(
    args: argparse.Namespace, target: _Target, bar: ProgressBar
) -> dict[str, str] | None:
    """Plan, show it, and ask. The fingerprints of the accounts to apply (each is then
    applied only if still as shown); None: nothing to apply; {}: the answer was no."""
    planning = _Shown(args, bar, Totals(), width=_width(args))
    changing: dict[str, str] = {}

    async def work() -> None:
        async for result in target.plan(bar):
            planning(result)
            if result.ok and result.plan is not None and result.plan.changes:
                changing[result.account_sid] = result.fingerprint

    try:
        interrupted = await until_ctrl_c(work())
    finally:
        bar.finish()
    planning.closing(interrupted)
    if interrupted:
        raise _Stop("interrupted while planning: nothing was applied", EXIT_INTERRUPTED)
    if not changing:
        print("Nothing to apply.")
        if planning.totals.failed:
            raise _Stop(f"{counted(planning.totals.failed, 'account')} could not be planned")
        return None
    sys.stdout.flush()
    if not _confirmed():
        _error("apply cancelled: nothing was written")
        return {}
    return changing


def _out_dir(name: str) -> Path:
    directory = Path(name)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _Stop(
            f"cannot write --out-dir {name}: {error.strerror or error}", EXIT_OUTPUT
        ) from None
    return directory


def _written(exported: Exported, directory: Path) -> Exported:
    """The account's file written as DIR/<AccountSid>.toml (only a real SID names a file)."""
    if exported.error is not None or exported.text is None:
        return exported
    if not is_sid(exported.account_sid, "AC"):
        return attrs.evolve(exported, text=None, error="not written: no Account SID to name it")
    path = directory / f"{exported.account_sid}.toml"
    try:
        path.write_text(exported.text, encoding="utf-8")
    except OSError as error:
        raise _Stop(f"cannot write {path}: {error.strerror or error}", EXIT_OUTPUT) from None
    return attrs.evolve(exported, text=str(path))


async def _export(args: argparse.Namespace) -> int:
    check_fleet_options(args)
    if is_fleet(args) and not args.out_dir:
        raise UsageError(
            "export of a fleet needs --out-dir DIR (a file per account: DIR/<AccountSid>.toml)"
        )
    if args.json and not args.out_dir:
        raise UsageError("export --json goes with --out-dir (without it, the file is printed)")
    directory = _out_dir(args.out_dir) if args.out_dir else None
    bar = _bar(args, "exported")
    done = failed = 0

    async def work(target: _Target) -> None:
        nonlocal done, failed
        async for exported in target.export(bar):
            if directory is None:
                sys.stdout.write(exported.text or "")
                return
            written = _written(exported, directory)
            done, failed = done + 1, failed + (written.error is not None)
            if args.json:
                write_line({"schema": EXPORT_SCHEMA, "account_sid": written.account_sid,
                            "file": written.text, "error": written.error})  # fmt: skip
                continue
            bar.finish()
            shown = written.text if written.error is None else f"error: {written.error}"
            print(f"{written.account_sid}  {printable(shown or '')}")

    try:
        async with _opened(args, None) as target:
            interrupted = await until_ctrl_c(work(target))
    finally:
        bar.finish()
    if directory is not None and not args.json:
        print(f"{counted(done, 'account')} exported to {directory}, {failed} failed")
    if interrupted:
        print(
            f"events-async: interrupted: {counted(done, 'account')} exported before "
            "Ctrl-C; the others were not",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return EXIT_FAILED if failed else 0


# --- the commands, as tables ---------------------------------------------------------------

_FLEET_FLAGS = (
    "--subaccounts", "--include-parent", "--status", "--accounts", "--accounts-url",
    "--shard", "--accounts-at-once", "--max-in-flight", "--concurrency",
)  # fmt: skip

ACCOUNT_TIMEOUT = Arg(
    ("--account-timeout",),
    "seconds one account may take; past it, that account fails and the others go on",
    {"type": float, "metavar": "SECONDS"},
)


def fleet_args(verb: str, participle: str) -> tuple[Arg, ...]:
    """The audit's account selection and caps (the same flags, one declaration), their
    help worded for `verb` ("plan the subaccounts…", "accounts planned at a time")."""
    audit = {arg.flags[-1]: arg for arg in each_arg(AUDIT.commands[0].args)}
    return (
        *(
            attrs.evolve(
                audit[flag],
                help=audit[flag].help.replace("audited", participle).replace("audit", verb),
            )
            for flag in _FLEET_FLAGS
        ),
        ACCOUNT_TIMEOUT,
    )


FILE_OPTION = Arg(
    ("-f", "--file"),
    "the Event Streams file (TOML): the sinks and subscriptions each account should have",
    {"required": True, "metavar": "FILE"},
)
PRUNE = Arg(
    ("--prune",),
    "also delete the sinks and subscriptions the file does not name (unmanaged: listed "
    "and left alone without it)",
    {"action": "store_true"},
)

PLAN = Group(
    "plan",
    "show what apply would change, per account (exit 0; with --detailed-exitcode 2 for "
    "changes, 1 for errors)",
    (
        Command(
            "",
            "show the changes that would make each account what the file says: + create, "
            "~ update in place, -/+ replace (make-before-break), - delete; secrets masked",
            _command(_plan),
            (
                FILE_OPTION,
                PRUNE,
                Arg(
                    ("--detailed-exitcode",),
                    "exit 0 when nothing would change, 2 when something would (drift, for "
                    "CI), 1 on any error (argparse's own usage errors stay 2)",
                    {"action": "store_true"},
                ),
                Arg(
                    ("--out",),
                    "also write the plan's JSON lines to PLAN: a saved plan for "
                    "`apply PLAN -f FILE`",
                    {"metavar": "PLAN"},
                ),
                *fleet_args("plan", "planned"),
            ),
        ),
    ),
)

APPLY = Group(
    "apply",
    "make each account what the file says (asks first; --yes where it cannot)",
    (
        Command(
            "",
            "plan, show the changes, ask, then make them; with a saved plan (PLAN, from "
            "plan --out), apply it without asking, refusing any account that changed "
            "since it was made (exit 0 all applied, 1 an account failed, was stale or "
            "ambiguous, 2 usage or no --yes where it cannot ask)",
            _command(_apply),
            (
                Arg(
                    ("plan",),
                    "a saved plan (plan --out PLAN): applied without asking, account by "
                    "account only if the account and the file are as they were",
                    {"nargs": "?", "metavar": "PLAN"},
                ),
                FILE_OPTION,
                PRUNE,
                Arg(
                    ("-y", "--yes"),
                    "apply without asking (needed when stdin is not a terminal)",
                    {"action": "store_true"},
                ),
                *fleet_args("apply", "applied"),
            ),
        ),
    ),
)

EXPORT = Group(
    "export",
    "write an account's sinks and subscriptions as an Event Streams file",
    (
        Command(
            "",
            "print the account's sinks and subscriptions as an Event Streams file (secrets "
            "as { env = … } placeholders); a fleet needs --out-dir DIR, a file per account "
            "(DIR/<AccountSid>.toml)",
            _command(_export),
            (
                Arg(
                    ("--out-dir",),
                    "write DIR/<AccountSid>.toml per account (needed with a fleet)",
                    {"metavar": "DIR"},
                ),
                *fleet_args("export", "exported"),
            ),
        ),
    ),
)
