"""`events-async plan`, `apply` and `export`: Event Streams as code, for one account or a fleet.

The three handlers and their tables. Without fleet flags the command works on the
credentials' own account; with `--subaccounts` or `--accounts FILE` on a fleet, with the
audit's account selection and caps (`desired_accounts` opens them, `events_async.desired`
does the work, `desired_output` prints each result, `saved_plans` reads and writes saved
plans, `export_files` writes `--out-dir`). A file that cannot be used is one line naming
its key path, exit 1, before any request.

Exit status: 0 done; 1 an account failed, was ambiguous or moved since a saved plan, or
the file or the saved plan cannot be used; 2 usage (and `apply` without `--yes` where it
cannot ask), and, for `plan --detailed-exitcode`, changes to make or a subscription
waiting for a sink's validation (then every error is 1);
74 the output cannot be written; 130 Ctrl-C, after printing what finished.
"""

from __future__ import annotations

import argparse
import sys

import attrs

from .._text import counted, printable, wrap
from ..desired import FileError, StreamsFile, load_file
from .audit import AUDIT
from .desired_accounts import Target, opened
from .desired_output import Shown, interrupted, progress_bar, width
from .export_files import out_dir, written
from .fleet import EXIT_INTERRUPTED, check_fleet_options, is_fleet, until_ctrl_c, write_line
from .plan_render import Totals
from .render import ProgressBar
from .saved_plans import not_selected, open_saved_plan, read_saved_plan_file
from .spec import Arg, Command, Group, UsageError, each_arg
from .stopping import EXIT_FAILED, Stop, error, stopping

__all__ = ["APPLY", "EXPORT", "PLAN", "fleet_args"]

EXIT_CHANGES = 2
EXPORT_SCHEMA = "events_async.export/1"


def _streams(args: argparse.Namespace) -> StreamsFile:
    try:
        streams = load_file(args.file)
        streams.check_environment()
    except FileError as failed:
        if not failed.where.startswith(str(args.file)):
            failed = FileError(f"{args.file}: {failed.where}", failed.message)
        raise Stop(str(failed)) from None
    return streams


async def _plan(args: argparse.Namespace) -> int:
    streams = _streams(args)
    check_fleet_options(args)
    out = open_saved_plan(args.out) if args.out else None
    bar = progress_bar(args, "planned")
    shown = Shown(args, bar, Totals(), out, width(args))

    async def work(target: Target) -> None:
        async for result in target.plan(bar):
            shown(result)

    try:
        async with opened(args, streams) as target:
            stopped = await until_ctrl_c(work(target))
    finally:
        bar.finish()
        if out is not None:
            out.close()
    shown.closing(stopped)
    totals = shown.totals
    if stopped:
        return interrupted(totals.accounts, "planned")
    if totals.failed:
        return EXIT_FAILED
    return EXIT_CHANGES if args.detailed_exitcode and totals.drift else 0


def _confirmed() -> bool:
    sys.stderr.write("Apply these changes? [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        raise Stop("interrupted: nothing was applied", EXIT_INTERRUPTED) from None
    return answer.strip().lower() in ("y", "yes")


async def _apply(args: argparse.Namespace) -> int:
    streams = _streams(args)
    check_fleet_options(args)
    expected = read_saved_plan_file(args.plan) if args.plan else None
    ask = expected is None and not args.yes
    if ask and args.json:
        raise UsageError("apply --json needs --yes (or a saved plan): it cannot ask")
    if ask and not sys.stdin.isatty():
        raise UsageError(
            "apply needs --yes when stdin is not a terminal, or a saved plan "
            "(plan --out PLAN, then apply PLAN); nothing was applied"
        )
    bar = progress_bar(args, "applied")
    shown = Shown(args, bar, Totals(applied=True), width=width(args))
    seen: set[str] = set()

    async def applying(target: Target, only: set[str] | None) -> None:
        async for result in target.apply(bar, expected, only):
            seen.add(result.account_sid)
            shown(result)

    async with opened(args, streams) as target:
        if ask:
            expected = await _ask(args, target, bar)
            if expected is None:  # nothing to apply
                return 0
            if not expected:  # the answer was no
                return EXIT_FAILED
        only = set(expected) if ask and expected else None
        try:
            stopped = await until_ctrl_c(applying(target, only))
        finally:
            bar.finish()
    shown.closing(stopped)
    totals = shown.totals
    if stopped:
        return interrupted(
            totals.accounts, "applied", "an account being applied may be part-way (the "
            "next apply converges it), the others were not",
        )  # fmt: skip
    missing = not_selected(expected or (), seen, args.shard) if args.plan else []
    return EXIT_FAILED if totals.failed or missing else 0


async def _ask(args: argparse.Namespace, target: Target, bar: ProgressBar) -> dict[str, str] | None:
    """Plan, show it, and ask. The fingerprints of the accounts to apply (each is then
    applied only if still as shown); None: nothing to apply; {}: the answer was no."""
    planning = Shown(args, bar, Totals(), width=width(args))
    changing: dict[str, str] = {}

    async def work() -> None:
        async for result in target.plan(bar):
            planning(result)
            if result.ok and result.plan is not None and result.plan.changes:
                changing[result.account_sid] = result.fingerprint

    try:
        stopped = await until_ctrl_c(work())
    finally:
        bar.finish()
    planning.closing(stopped)
    if stopped:
        raise Stop("interrupted while planning: nothing was applied", EXIT_INTERRUPTED)
    if not changing:
        print("Nothing to apply.")
        if planning.totals.failed:
            raise Stop(f"{counted(planning.totals.failed, 'account')} could not be planned")
        return None
    sys.stdout.flush()
    if not _confirmed():
        error("apply cancelled: nothing was written")
        return {}
    return changing


def _say(text: str, args: argparse.Namespace) -> None:
    """A line of export's, wrapped to the terminal (the rest indented), never cut."""
    print("\n".join(wrap(printable(text), width(args), "    ", first="")))


async def _export(args: argparse.Namespace) -> int:
    check_fleet_options(args)
    if is_fleet(args) and not args.out_dir:
        raise UsageError(
            "export of a fleet needs --out-dir DIR (a file per account: DIR/<AccountSid>.toml)"
        )
    if args.json and not args.out_dir:
        raise UsageError("export --json goes with --out-dir (without it, the file is printed)")
    directory = out_dir(args.out_dir) if args.out_dir else None
    bar = progress_bar(args, "exported")
    done = failed = 0

    async def work(target: Target) -> None:
        nonlocal done, failed
        async for exported in target.export(bar):
            if directory is None:
                sys.stdout.write(exported.text or "")
                return
            file = written(exported, directory)
            done, failed = done + 1, failed + (file.error is not None)
            if args.json:
                write_line({"schema": EXPORT_SCHEMA, "account_sid": file.account_sid,
                            "file": file.text, "error": file.error})  # fmt: skip
                continue
            bar.finish()
            shown = file.text if file.error is None else f"error: {file.error}"
            _say(f"{file.account_sid}  {shown or ''}", args)

    try:
        async with opened(args, None) as target:
            stopped = await until_ctrl_c(work(target))
    finally:
        bar.finish()
    if directory is not None and not args.json:
        written_out = counted(done - failed, "account")
        _say(f"{written_out} exported to {directory}, {failed} failed", args)
    if stopped:
        return interrupted(done, "exported")
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
    worded = {
        flag: attrs.evolve(
            audit[flag],
            help=audit[flag].help.replace("audited", participle).replace("audit", verb),
        )
        for flag in _FLEET_FLAGS
    }
    at_once = worded["--accounts-at-once"]
    worded["--accounts-at-once"] = attrs.evolve(
        at_once,  # an account's writes form a chain: fewer accounts leave the cap unfilled
        help=f"accounts {participle} at a time (default: as many as --max-in-flight)",
        options={**at_once.options, "default": None},
    )
    return (*worded.values(), ACCOUNT_TIMEOUT)


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
            stopping(_plan),
            (
                FILE_OPTION,
                PRUNE,
                Arg(
                    ("--detailed-exitcode",),
                    "exit 0 when nothing would change, 2 when something would or waits for "
                    "a sink's validation (drift, for CI), 1 on any error (argparse's own "
                    "usage errors stay 2)",
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
            "ambiguous, or is in the plan but not selected, 2 usage or no --yes where it "
            "cannot ask)",
            stopping(_apply),
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
            stopping(_export),
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
