"""What plan and apply say of one account, as values and as JSON lines; saved plans.

A plan's line (schema `events_async.plan/1`) carries the account's *fingerprint*: a
digest of everything the plan was made from — the account's sinks and subscriptions,
the schema versions read, the desired state (secrets left out) and `prune`. A saved plan
is such lines; applying it re-reads each account and refuses one whose fingerprint
moved, since the plan no longer says what the apply would do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs

from .export import SECRET_KEYS
from .file import DesiredState
from .planner import Change, CurrentState, Plan

__all__ = [
    "APPLY_SCHEMA",
    "PLAN_SCHEMA",
    "AccountResult",
    "SavedPlanError",
    "change_json",
    "fingerprint",
    "read_saved_plan",
]

PLAN_SCHEMA = "events_async.plan/1"
APPLY_SCHEMA = "events_async.apply/1"


class SavedPlanError(ValueError):
    """A saved plan that cannot be used: not plan lines, or an account twice."""


@attrs.frozen
class AccountResult:
    """One account's plan, and, after an apply, what was made of it.

    `error` says why the account could not be read, planned or fully applied (then
    `made` is what was done before); `stale` when a saved plan was refused because the
    account moved since. An ambiguous plan (`plan.ambiguous`) touches nothing.
    """

    account_sid: str
    plan: Plan | None = None
    fingerprint: str = ""
    applied: bool = False
    made: tuple[Change, ...] = ()
    awaiting_validation: tuple[str, ...] = ()
    error: str | None = None
    signing_in_failed: bool = False
    stale: bool = False

    @property
    def ok(self) -> bool:
        """Read, planned without ambiguity and, for an apply, every change made."""
        return self.error is None and self.plan is not None and not self.plan.ambiguous

    @property
    def pending(self) -> tuple[Change, ...]:
        """The plan's changes not (yet) made."""
        if self.plan is None:
            return ()
        return tuple(c for c in self.plan.changes if c not in self.made)

    def to_json(self) -> dict[str, Any]:
        """The JSON line of a plan (`events_async.plan/1`) or an apply (`…apply/1`)."""
        plan = self.plan or Plan()
        document: dict[str, Any] = {
            "schema": APPLY_SCHEMA if self.applied else PLAN_SCHEMA,
            "account_sid": self.account_sid,
            "fingerprint": self.fingerprint,
            "changes": [change_json(c) for c in plan.changes],
            "unmanaged": list(plan.unmanaged),
            "ambiguous": list(plan.ambiguous),
            "waiting": list(plan.waiting),
            "error": self.error,
        }
        if self.applied:
            document["made"] = len(self.made)
            document["awaiting_validation"] = list(self.awaiting_validation)
            document["stale"] = self.stale
        return document


def change_json(change: Change) -> dict[str, Any]:
    """One change as JSON, secrets masked; keys without a value left out."""
    document: dict[str, Any] = {
        "action": change.action.value,
        "symbol": change.symbol,
        "description": change.description,
        "sid": change.sid,
        "sink_sid": change.sink_sid,
        "sink_description": change.sink_description,
        "type": change.type,
        "schema_version": change.schema_version,
        "replaces": change.replaces,
        "reason": change.reason or None,
    }
    if change.sink is not None:
        document["sink_type"] = change.sink.sink_type
        document["configuration"] = change.sink.shown
    if change.types:
        document["types"] = [{"type": t, "schema_version": v} for t, v in change.types]
    return {key: value for key, value in document.items() if value is not None}


def fingerprint(
    current: CurrentState, latest: Mapping[str, int], desired: DesiredState, prune: bool
) -> str:
    """The digest a saved plan is checked against (secrets never enter it)."""
    document = {
        "sinks": sorted(
            [
                s.sid,
                s.description,
                s.sink_type,
                {k: v for k, v in s.configuration.items() if k not in SECRET_KEYS},
            ]
            for s in current.sinks
        ),
        "subscriptions": sorted(
            [s.sid, s.description, s.sink_sid, sorted(s.types.items())]
            for s in current.subscriptions
        ),
        "latest": sorted(latest.items()),
        "desired": [
            [[s.description, s.sink_type, s.shown] for s in desired.sinks],
            [
                [s.description, s.sink, [[t.type, t.schema_version] for t in s.types]]
                for s in desired.subscriptions
            ],
        ],
        "prune": prune,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def read_saved_plan(text: str, name: str = "the plan") -> dict[str, str]:
    """A saved plan's fingerprint per account SID ("" for one it could not plan);
    `SavedPlanError` naming the line."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except ValueError:
            raise SavedPlanError(f"{name}, line {number}: not JSON") from None
        if not isinstance(document, dict) or document.get("schema") != PLAN_SCHEMA:
            raise SavedPlanError(f"{name}, line {number}: not a {PLAN_SCHEMA} line")
        sid, digest = document.get("account_sid"), document.get("fingerprint")
        if not isinstance(sid, str) or not isinstance(digest, str):  # "": not planned
            raise SavedPlanError(f"{name}, line {number}: no account_sid and fingerprint")
        if sid in found:
            raise SavedPlanError(f"{name}, line {number}: {sid} is planned twice")
        found[sid] = digest
    if not found:
        raise SavedPlanError(f"{name} plans no account")
    return found
