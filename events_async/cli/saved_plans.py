"""Saved plans on disk: `plan --out PLAN` writes one JSON line per account as it is
planned (schema `events_async.plan/1`, with its fingerprint); `apply PLAN` reads them
back, and says which of the plan's accounts were not among those selected — not
written to, exit 1; the others are applied, each only if it is as it was planned.

A file that cannot be opened, written or read is a `Stop` naming it: exit 74 for
output, 1 for a plan that cannot be read or is not one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from .._text import counted
from ..desired import AccountResult, SavedPlanError, read_saved_plan
from ..fleet import Shard
from .output import EXIT_OUTPUT
from .stopping import Stop, error

__all__ = ["not_selected", "open_saved_plan", "read_saved_plan_file", "save_result"]


def open_saved_plan(name: str) -> IO[str]:
    """`--out PLAN`, opened before any request (`Stop`, exit 74, when it cannot be)."""
    try:
        return open(name, "w", encoding="utf-8")
    except OSError as failed:
        raise Stop(f"cannot write --out {name}: {failed.strerror or failed}", EXIT_OUTPUT) from None


def save_result(out: IO[str], result: AccountResult) -> None:
    """The account's plan line, written and flushed (what an interrupted plan keeps)."""
    try:
        out.write(json.dumps(result.to_json(), separators=(",", ":")) + "\n")
        out.flush()
    except OSError as failed:
        raise Stop(f"cannot write --out: {failed.strerror or failed}", EXIT_OUTPUT) from None


def read_saved_plan_file(name: str) -> dict[str, str]:
    """The saved plan's fingerprint per account (see `read_saved_plan`); `Stop` when the
    file cannot be read or is not a saved plan."""
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as failed:
        reason = getattr(failed, "strerror", None) or type(failed).__name__
        raise Stop(f"cannot read the saved plan {name}: {reason}") from None
    try:
        return read_saved_plan(text, name)
    except SavedPlanError as failed:
        raise Stop(str(failed)) from None


def not_selected(expected: Iterable[str], applied: set[str], shard: Shard | None) -> list[str]:
    """The saved plan's accounts that the selection did not reach, said on stderr (those
    of other shards than `--shard`'s are not missing: each shard applies its own).

    They are not written to, and make the apply's exit status 1; the selected accounts
    the plan names were each applied, or refused, on their own fingerprint."""
    missing = sorted(sid for sid in set(expected) - applied if shard is None or sid in shard)
    if missing:
        error(
            f"{counted(len(missing), 'account')} of the saved plan not among those "
            f"selected, not applied: {', '.join(missing)}"
        )
    return missing
