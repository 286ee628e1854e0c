"""What `plan` and `apply` print for people: a diff per account, and a line of totals.

An account is a header line, then one line per change, Terraform's way: `+` create,
`~` update in place, `-/+` create replacing (make-before-break), `-` delete; a new
sink's settings beneath it, secrets masked (`***`). Then what the file does not manage,
what is ambiguous (the account is not touched), what waits for a sink's validation, and,
after an apply, what was not made and the command that validates a sink. Lines wrap to
the terminal's width and are never cut; in a pipe each is one line.
"""

from __future__ import annotations

import json

import attrs

from .._text import KEEP, counted, printable, wrap
from ..desired import AccountResult, Action, Change

__all__ = ["Totals", "account_lines", "change_line", "validate_command"]

INDENT = "    "


def _quoted(text: str) -> str:
    return json.dumps(printable(text), ensure_ascii=False)


def _type_version(name: str, version: int | None) -> str:
    return f"{name}{KEEP}v{version}" if version is not None else f"{name}{KEEP}(latest)"


def change_line(change: Change) -> str:
    """One change as the diff shows it: its symbol, the resource and what happens."""
    what = _quoted(change.description)
    action = change.action
    if action is Action.CREATE_SINK:
        sink_type = change.sink.sink_type if change.sink is not None else "?"
        text = f"sink {what} ({sink_type})"
    elif action is Action.CREATE_SUBSCRIPTION:
        on = f"sink {change.sink_sid}" if change.sink_sid else "the new sink "
        on += "" if change.sink_sid else _quoted(change.sink_description or "")
        types = ", ".join(_type_version(t, v) for t, v in change.types)
        text = f"subscription {what} on {on}: {types}"
    elif action is Action.CREATE_TYPE:
        added = _type_version(change.type or "", change.schema_version)
        text = f"subscription {what} ({change.sid}): add {added}"
    elif action is Action.UPDATE_TYPE:
        moved = f"{change.type} to{KEEP}v{change.schema_version}"
        text = f"subscription {what} ({change.sid}): update {moved}"
    elif action is Action.DELETE_TYPE:
        text = f"subscription {what} ({change.sid}): remove {change.type}"
    else:
        kind = "sink" if action is Action.DELETE_SINK else "subscription"
        text = f"{kind} {what} ({change.sid})"
    if change.replaces:
        text += f", replacing{KEEP}{change.replaces}"
    if change.reason:
        text += f": {printable(change.reason)}"
    return f"{change.symbol} {text}"


def _settings(change: Change) -> list[str]:
    """A new sink's configuration, one `key = value` a line, secrets masked."""
    if change.sink is None:
        return []
    shown = change.sink.shown.items()
    return [f"{key} = {json.dumps(v) if isinstance(v, bool) else _quoted(v)}" for key, v in shown]


def validate_command(sink_sid: str) -> str:
    """The command that finishes a sink Twilio left awaiting validation (its words
    joined by `KEEP`: it stays on one line where it fits)."""
    return KEEP.join(("events-async", "sinks", "validate", sink_sid, "--test-id", "ID"))


def _header(result: AccountResult) -> str:
    plan = result.plan
    if result.error is not None:
        what = "stale: not applied" if result.stale else "failed"
    elif plan is None:
        what = "not planned"
    elif plan.ambiguous:
        what = "ambiguous: not touched"
    elif result.applied and result.made:
        what = f"{counted(len(result.made), 'change')} made"
    elif plan.changes and not result.applied:
        what = counted(len(plan.changes), "change")
    elif plan.waiting:
        what = "waiting for a sink's validation"
    else:
        what = "no changes"
    return f"Account {result.account_sid}: {what}"


def account_lines(result: AccountResult, width: int | None) -> list[str]:
    """The account's block: its header, then its changes (made ones after an apply) and
    everything else worth saying of it."""
    lines = wrap(_header(result), width, INDENT, first="")

    def say(text: str, indent: str = "  ") -> None:
        lines.extend(wrap(text, width, indent + INDENT, first=indent))

    if result.error is not None:
        say(f"error: {printable(result.error)}")
    plan = result.plan
    if plan is None:
        return lines
    changes = result.made if result.applied else plan.changes
    for change in changes:
        say(change_line(change))
        for setting in _settings(change):
            say(setting, INDENT)
    if result.applied and result.pending:
        # with no error, what was not made is what waits for a new sink's validation
        why = "not made" if result.error is not None else "waiting for a sink's validation"
        say(f"{why} ({counted(len(result.pending), 'change')}):")
        for change in result.pending:
            say(change_line(change), INDENT)
    for sink_sid in result.awaiting_validation:
        say(
            f"sink {sink_sid} awaits validation: it was sent a test event; run this with "
            "the test event's data.test_id, then apply again:"
        )
        say(validate_command(sink_sid), INDENT)
    for item in plan.waiting:
        say(f"waiting: {printable(item)}")
    for item in plan.ambiguous:
        say(f"ambiguous: {printable(item)} (this account is not touched)")
    if plan.unmanaged:
        say("unmanaged (not in the file; left alone without --prune):")
    for item in plan.unmanaged:
        say(printable(item), INDENT)
    return lines


@attrs.define
class Totals:
    """Counts over the accounts so far, for the closing line and the exit status."""

    applied: bool = False
    accounts: int = 0
    changing: int = 0  # accounts with changes (planned, or made)
    changes: int = 0
    waiting: int = 0  # accounts with no changes but some waiting for a sink's validation
    unchanged: int = 0
    failed: int = 0  # an error, a stale saved plan, or an ambiguous plan

    def add(self, result: AccountResult) -> None:
        """Count one account's result."""
        self.accounts += 1
        if not result.ok:
            self.failed += 1
            self.changes += len(result.made)
            return
        count = len(result.made) if result.applied else len(result.pending)
        if count:
            self.changing += 1
            self.changes += count
        elif result.plan is not None and result.plan.waiting:
            self.waiting += 1
        else:
            self.unchanged += 1

    @property
    def drift(self) -> bool:
        """Whether an account is not yet what the file says (changes to make, or some
        waiting for a sink's validation): `plan --detailed-exitcode` exits 2."""
        return bool(self.changing or self.waiting)

    def line(self, *, interrupted: bool = False) -> str:
        """`3 accounts: 2 to change (5 changes), 1 unchanged, 0 failed` (and `1 waiting
        for validation` before `unchanged` when an account is)."""
        verb = "changed" if self.applied else f"to{KEEP}change"
        made = f"{KEEP}made" if self.applied else ""
        waiting = f"{self.waiting}{KEEP}waiting{KEEP}for{KEEP}validation, " if self.waiting else ""
        text = (  # each count stays on a line with what it counts
            f"{counted(self.accounts, 'account', KEEP)}: {self.changing}{KEEP}{verb} "
            f"({counted(self.changes, 'change', KEEP)}{made}), {waiting}"
            f"{self.unchanged}{KEEP}unchanged, {self.failed}{KEEP}failed"
        )
        return text + (" (interrupted)" if interrupted else "")
