"""The planner: desired state + an account's current state -> the ordered changes. Pure.

The account is the state: there is no state file. Sinks and subscriptions are matched by
`description`. What the API can change in place is changed in place: a subscription's
types through its subscribed events (create, update `schema_version`, delete), never by
replacing the subscription. What it cannot is replaced **make-before-break**:

- A sink whose type or configuration differs is replaced: a new sink with the same
  description is created first, every subscription of the old sink is re-created on it
  (the file's with the file's types, others as they are — unless `prune` deletes them),
  then the old subscriptions are deleted, then the old sink — so no subscribed type ever
  goes undelivered.
- A subscription that should be on another sink is re-created there, then the old one is
  deleted (UpdateSubscription's `SinkSid` is gone from the newest spec).

Changes come in this order: sinks created; subscriptions created; types created and
updated; types deleted; subscriptions deleted; sinks deleted.

**An interrupted apply converges.** A half-replaced sink is two sinks of one description
of which exactly one has the desired configuration: that one is the replacement, and the
plan goes on from where the apply stopped (re-creating only what is not on it yet). The
same holds for a half-moved subscription: of two with one description, the one on the
right sink is kept.

**A sink that is not `active` waits.** Twilio leaves Kinesis sinks (and every sink of the
older lifecycle) `initialized` until validated, and takes no subscription on them. So a
subscription to create on such a sink is not planned but *waiting*, and what it would
replace — the old subscription, the old sink — is kept, still delivering, until a plan
after validation.

Any other description used twice is *ambiguous*: it is reported, and the account is not
touched. Resources the file does not name are *unmanaged*: listed, and left alone unless
`prune`.

Secrets (configuration from `{ env = ... }`) are never compared: Twilio need not return
them as they were given, and a plan must not replace a sink on every run. To rotate one,
give the sink a new description.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from .file import SINK_DEFAULTS, DesiredSink, DesiredState, DesiredSubscription

__all__ = [
    "Action",
    "Change",
    "CurrentSink",
    "CurrentState",
    "CurrentSubscription",
    "Plan",
    "plan",
]


class Action(str, enum.Enum):
    """What a change does; in the order a plan applies them."""

    CREATE_SINK = "create sink"
    CREATE_SUBSCRIPTION = "create subscription"
    CREATE_TYPE = "create type"
    UPDATE_TYPE = "update type"
    DELETE_TYPE = "delete type"
    DELETE_SUBSCRIPTION = "delete subscription"
    DELETE_SINK = "delete sink"

    @property
    def symbol(self) -> str:
        """Terraform's: `+` create, `~` update in place, `-` delete."""
        return {"create": "+", "update": "~", "delete": "-"}[self.value.split()[0]]


_ORDER = {action: n for n, action in enumerate(Action)}


@attrs.frozen
class CurrentSink:
    """A sink the account has, as the planner needs it."""

    sid: str
    description: str | None
    sink_type: str
    configuration: Mapping[str, Any] = attrs.field(factory=dict)
    status: str = "active"


@attrs.frozen
class CurrentSubscription:
    """A subscription the account has, with its subscribed types and their versions."""

    sid: str
    description: str | None
    sink_sid: str
    types: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen
class CurrentState:
    """What one account has now."""

    sinks: tuple[CurrentSink, ...] = ()
    subscriptions: tuple[CurrentSubscription, ...] = ()


@attrs.frozen
class Change:
    """One step of a plan.

    `description` names the resource; `sid` the existing one it acts on (None for a
    create). A created subscription goes on `sink_sid`, or, when that is None, on the
    sink this plan creates for `sink_description`; a deleted one is on `sink_sid`.
    `replaces` is the SID a create replaces (make-before-break). `reason` says why a delete happens.
    """

    action: Action
    description: str
    sid: str | None = None
    sink: DesiredSink | None = None
    sink_sid: str | None = None
    sink_description: str | None = None
    types: tuple[tuple[str, int | None], ...] = ()
    type: str | None = None
    schema_version: int | None = None
    replaces: str | None = None
    reason: str = ""

    @property
    def symbol(self) -> str:
        """`+` create, `~` update in place, `-` delete, `-/+` create replacing `replaces`."""
        return "-/+" if self.replaces else self.action.symbol


@attrs.frozen
class Plan:
    """The changes that converge one account, in order; what the file does not manage;
    what makes the account ambiguous (then `changes` is empty); and what waits for a
    sink's validation (a plan after it makes those changes)."""

    changes: tuple[Change, ...] = ()
    unmanaged: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Nothing to change, nothing ambiguous, nothing waiting: the account is as the
        file says."""
        return not self.changes and not self.ambiguous and not self.waiting


def _same(current: Any, wanted: str | bool) -> bool:
    if isinstance(wanted, bool) and isinstance(current, str):
        return current.lower() == str(wanted).lower()
    return bool(current == wanted)


def sink_matches(desired: DesiredSink, current: CurrentSink) -> bool:
    """Whether `current` already is `desired` (its type and every non-secret setting; a
    setting the sink was made without has Twilio's default, as the file's has)."""
    if current.sink_type != desired.sink_type:
        return False
    defaults = SINK_DEFAULTS.get(desired.sink_type, {})
    return all(
        _same(current.configuration.get(key, defaults.get(key)), value)
        for key, value in desired.configuration.items()
        if key not in desired.secrets
    )


@attrs.define
class _Planner:
    desired: DesiredState
    current: CurrentState
    latest: Mapping[str, int]
    prune: bool
    changes: list[Change] = attrs.field(factory=list)
    ambiguous: list[str] = attrs.field(factory=list)
    unmanaged: list[str] = attrs.field(factory=list)
    targets: dict[str, str | None] = attrs.field(factory=dict)  # description -> sid, None: new
    replaced: dict[str, str] = attrs.field(factory=dict)  # old sink sid -> its description
    inactive: set[str] = attrs.field(factory=set)  # target sinks not active yet
    kept: set[str] = attrs.field(factory=set)  # sids whose delete waits for a validation
    waiting: list[str] = attrs.field(factory=list)

    def sinks(self) -> None:
        by_description: dict[str | None, list[CurrentSink]] = {}
        for sink in self.current.sinks:
            by_description.setdefault(sink.description, []).append(sink)
        wanted = {sink.description for sink in self.desired.sinks}
        for desired in self.desired.sinks:
            found = by_description.get(desired.description, [])
            matching = [s for s in found if sink_matches(desired, s)]
            if len(found) > 2 or (len(found) == 2 and len(matching) != 1):
                self.ambiguous.append(f"{len(found)} sinks are described {desired.description!r}")
                continue
            if len(found) == 2:  # a replace that an earlier apply began
                self.targets[desired.description] = matching[0].sid
                (old,) = (s for s in found if s is not matching[0])
                self.replaced[old.sid] = desired.description
                self._note_inactive(matching[0], old)
            elif matching:
                self.targets[desired.description] = matching[0].sid
                self._note_inactive(matching[0], None)
            else:
                self.targets[desired.description] = None
                replaces = found[0].sid if found else None
                if replaces:
                    self.replaced[replaces] = desired.description
                self.changes.append(
                    Change(Action.CREATE_SINK, desired.description, sink=desired, replaces=replaces)
                )
        for sink in self.current.sinks:
            if sink.description not in wanted:
                if self.prune:  # a delete, not left alone: not listed as unmanaged too
                    self._delete_sink(sink, "not in the file (--prune)")
                else:
                    self.unmanaged.append(
                        f"sink {sink.sid} ({sink.description or 'no description'})"
                    )
        for old_sid, description in self.replaced.items():
            old = next(s for s in self.current.sinks if s.sid == old_sid)
            if old_sid not in self.kept:
                self._delete_sink(old, f"replaced by the new {description!r}")

    def _note_inactive(self, target: CurrentSink, replaced: CurrentSink | None) -> None:
        if target.status == "active":
            return
        self.inactive.add(target.sid)
        self.waiting.append(
            f"sink {target.sid} ({target.description}) is {target.status or 'not active'}: "
            "it delivers nothing until it is validated"
        )
        if replaced is not None:
            self.kept.add(replaced.sid)
            self.waiting.append(
                f"sink {replaced.sid} is kept until its replacement {target.sid} is validated"
            )

    def _wait(self, description: str, target: str, replaces: CurrentSubscription | None) -> None:
        self.waiting.append(f"subscription {description!r} waits for sink {target}'s validation")
        if replaces is not None:
            self.kept.add(replaces.sid)

    def subscriptions(self) -> None:
        by_description: dict[str | None, list[CurrentSubscription]] = {}
        for subscription in self.current.subscriptions:
            by_description.setdefault(subscription.description, []).append(subscription)
        wanted = {s.description for s in self.desired.subscriptions}
        for desired in self.desired.subscriptions:
            self._subscription(desired, by_description.get(desired.description, []))
        for subscription in self.current.subscriptions:
            if subscription.description in wanted:
                continue
            if subscription.sink_sid in self.replaced and not self.prune:
                self._carry(subscription, by_description)  # pruned: deleted, not carried
                continue
            label = subscription.description or "no description"
            if self.prune:
                self._delete_subscription(subscription, "not in the file (--prune)")
            else:
                self.unmanaged.append(f"subscription {subscription.sid} ({label})")

    def _subscription(self, desired: DesiredSubscription, found: list[CurrentSubscription]) -> None:
        if desired.sink not in self.targets:
            return  # its sink is ambiguous: already reported
        target = self.targets[desired.sink]
        on_target = [s for s in found if target is not None and s.sink_sid == target]
        if len(found) > 2 or (len(found) == 2 and len(on_target) != 1):
            self.ambiguous.append(
                f"{len(found)} subscriptions are described {desired.description!r}"
            )
            return
        if on_target:
            self._types(on_target[0], desired)
        elif target in self.inactive:
            assert target is not None
            self._wait(desired.description, target, found[0] if found else None)
        else:
            self.changes.append(
                Change(
                    Action.CREATE_SUBSCRIPTION,
                    desired.description,
                    sink_sid=target,
                    sink_description=desired.sink,
                    types=tuple((t.type, t.schema_version) for t in desired.types),
                    replaces=found[0].sid if found else None,
                )
            )
        for old in found:
            if not on_target or old is not on_target[0]:
                self._delete_subscription(old, f"moved to the sink {desired.sink!r}")

    def _carry(
        self,
        subscription: CurrentSubscription,
        by_description: Mapping[str | None, list[CurrentSubscription]],
    ) -> None:
        """An unmanaged subscription of a sink being replaced: re-created on the new sink
        as it is (unless an earlier apply did), then deleted from the old."""
        description = self.replaced[subscription.sink_sid]
        target = self.targets[description]
        if subscription.description is None:
            self.ambiguous.append(
                f"subscription {subscription.sid} of a replaced sink has no description"
            )
            return
        twins = by_description.get(subscription.description, [])
        if target in self.inactive:
            assert target is not None
            self._wait(subscription.description, target, subscription)
            return
        if target is None or not any(s.sink_sid == target for s in twins):
            self.changes.append(
                Change(
                    Action.CREATE_SUBSCRIPTION,
                    subscription.description,
                    sink_sid=target,
                    sink_description=description,
                    types=tuple(sorted(subscription.types.items())),
                    replaces=subscription.sid,
                )
            )
        self._delete_subscription(subscription, f"moved to the new {description!r}")

    def _types(self, current: CurrentSubscription, desired: DesiredSubscription) -> None:
        wanted = {t.type for t in desired.types}
        for entry in desired.types:
            version = entry.schema_version or self.latest.get(entry.type)
            have = current.types.get(entry.type)
            action = None
            if have is None:
                action = Action.CREATE_TYPE
            elif version is not None and have != version:
                action = Action.UPDATE_TYPE
            if action is not None:
                self.changes.append(
                    Change(action, desired.description, sid=current.sid, type=entry.type,
                           schema_version=version)
                )  # fmt: skip
        for name in sorted(set(current.types) - wanted):
            self.changes.append(
                Change(Action.DELETE_TYPE, desired.description, sid=current.sid, type=name,
                       reason="not in the file")
            )  # fmt: skip

    def keep_sinks_in_use(self) -> None:
        """A sink a kept subscription is still on is kept with it (a pruned one too): a
        plan after the validation deletes both."""
        used = {s.sink_sid for s in self.current.subscriptions if s.sid in self.kept}
        self.changes = [
            c for c in self.changes if not (c.action is Action.DELETE_SINK and c.sid in used)
        ]

    def _delete_subscription(self, subscription: CurrentSubscription, reason: str) -> None:
        if subscription.sid in self.kept:
            return
        self.changes.append(
            Change(Action.DELETE_SUBSCRIPTION, subscription.description or subscription.sid,
                   sid=subscription.sid, sink_sid=subscription.sink_sid, reason=reason)
        )  # fmt: skip

    def _delete_sink(self, sink: CurrentSink, reason: str) -> None:
        self.changes.append(
            Change(Action.DELETE_SINK, sink.description or sink.sid, sid=sink.sid, reason=reason)
        )


def plan(
    desired: DesiredState,
    current: CurrentState,
    *,
    latest: Mapping[str, int] | None = None,
    prune: bool = False,
) -> Plan:
    """The ordered changes that make `current` what `desired` says. `latest` gives each
    event type's latest schema version (a type the file lists without one is kept at, or
    moved to, it; unknown: any version is kept). With `prune`, what the file does not name
    is deleted too. An ambiguous account gets no changes at all."""
    planner = _Planner(desired, current, latest or {}, prune)
    planner.sinks()
    planner.subscriptions()
    planner.keep_sinks_in_use()
    if planner.ambiguous:
        return Plan((), tuple(planner.unmanaged), tuple(planner.ambiguous))
    ordered = sorted(enumerate(planner.changes), key=lambda c: (_ORDER[c[1].action], c[0]))
    waiting = tuple(planner.waiting)
    return Plan(tuple(c for _, c in ordered), tuple(planner.unmanaged), (), waiting)
