"""What `plan`, `apply` and `export` print while they run: each account's result as it
finishes (its block of `plan_render` lines, or a JSON line with `--json`), the progress
bar over a fleet, the closing line of totals, and what Ctrl-C leaves said.

In a fleet, an account with nothing to say is only counted in the closing line.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO

import attrs

from .._text import counted, wrap
from ..desired import AccountResult
from .connection import output_width
from .fleet import EXIT_INTERRUPTED, is_fleet, write_line
from .plan_render import Totals, account_lines
from .render import ProgressBar
from .saved_plans import save_result

__all__ = ["Shown", "interrupted", "progress_bar", "width"]


def width(args: argparse.Namespace) -> int | None:
    """The width lines wrap to: the terminal's, or None (one line each) with `--wide`
    or in a pipe."""
    return None if args.wide else output_width()


def progress_bar(args: argparse.Namespace, participle: str) -> ProgressBar:
    """The bar over a fleet's accounts (`12 accounts planned…`); none for one account,
    nor for JSON lines on a terminal."""
    bar = ProgressBar(
        label="accounts", counter=lambda done: f"{counted(done, 'account')} {participle}…"
    )
    bar.active = bar.active and is_fleet(args) and not (args.json and sys.stdout.isatty())
    return bar


@attrs.define
class Shown:
    """Prints each account's result as it arrives (a block, or a JSON line) and counts
    it; with `out`, writes its saved-plan line there too."""

    args: argparse.Namespace
    bar: ProgressBar
    totals: Totals
    out: IO[str] | None = None
    width: int | None = None

    def __call__(self, result: AccountResult) -> None:
        self.totals.add(result)
        if self.out is not None:
            save_result(self.out, result)
        if self.args.json:
            write_line(result.to_json())
            return
        plan = result.plan
        quiet = result.ok and plan is not None and not result.made
        quiet = quiet and plan is not None and not (plan.changes or plan.unmanaged or plan.waiting)
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


def interrupted(done: int, participle: str, more: str = "the others were not") -> int:
    """Ctrl-C: how many accounts were done, on stderr; the exit status, 130."""
    print(
        f"events-async: interrupted: {counted(done, 'account')} {participle} before Ctrl-C; {more}",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED
