"""The audit's rules, pure: from what was read to the findings. No I/O here.

A part that was not read is None, and no rule draws a conclusion from it. `Finding`,
`Severity` and `FindingCode` are defined here, beside the rules that make them, and are
public as `events_async.audit.Finding` / `events_async.Finding` and so on (their
`__module__` says so, for `help()`, pickling and documentation).
"""

from __future__ import annotations

import enum
import inspect
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import attrs

from .models import EventType, Sink, SinkStatus, SinkType, SubscribedEvent, Subscription

__all__ = [
    "SEVERITY_ORDER",
    "AuditData",
    "Finding",
    "FindingCode",
    "Severity",
    "find_problems",
    "make_finding",
]


class Severity(str, enum.Enum):
    """How much a finding matters."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


Severity.__module__ = "events_async.audit"

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class FindingCode(str, enum.Enum):
    """A finding's stable code, with the severity the audit gives it and what it means.

    A str enum: a member equals its code (`FindingCode.SINK_FAILED == "SINK_FAILED"`),
    `str()` and f-strings give the code, and JSON carries the code. `FindingCode(code)`
    looks a code up. The README's findings table is the rendering of these members.
    """

    _value_: str
    severity: Severity
    """The severity the audit gives a finding with this code."""
    description: str
    """One line: the finding's subject, and what is wrong with it."""

    def __new__(cls, code: str, *about: Any) -> FindingCode:
        """A member, from its definition `(code, severity, description)`; called with a
        code alone, `FindingCode(code)` is the lookup (the enum's own)."""
        member = str.__new__(cls, code)
        member._value_ = code
        member.severity, member.description = about
        return member

    def __str__(self) -> str:
        return str(self.value)

    SUBSCRIPTION_SINK_MISSING = (
        "SUBSCRIPTION_SINK_MISSING",
        Severity.ERROR,
        "subscription: its sink does not exist",
    )
    SUBSCRIPTION_SINK_NOT_ACTIVE = (
        "SUBSCRIPTION_SINK_NOT_ACTIVE",
        Severity.ERROR,
        "subscription: its sink is not active",
    )
    SINK_FAILED = ("SINK_FAILED", Severity.ERROR, "sink: its status is failed")
    SINK_NOT_VALIDATED = (
        "SINK_NOT_VALIDATED",
        Severity.WARNING,
        "sink: still initialized or validating",
    )
    SINK_UNUSED = ("SINK_UNUSED", Severity.WARNING, "sink: no subscription delivers to it")
    SUBSCRIPTION_EMPTY = (
        "SUBSCRIPTION_EMPTY",
        Severity.WARNING,
        "subscription: it subscribes to no event types",
    )
    EVENT_TYPE_UNKNOWN = (
        "EVENT_TYPE_UNKNOWN",
        Severity.ERROR,
        "event type: subscribed but not in the catalog",
    )
    EVENT_TYPE_DEPRECATED = (
        "EVENT_TYPE_DEPRECATED",
        Severity.WARNING,
        "event type: subscribed, and its catalog status is not `available`",
    )
    SCHEMA_VERSION_OUTDATED = (
        "SCHEMA_VERSION_OUTDATED",
        Severity.INFO,
        "subscription: delivers a type below its schema's latest version",
    )
    DUPLICATE_DELIVERY = (
        "DUPLICATE_DELIVERY",
        Severity.WARNING,
        "sink: receives one event type twice or more",
    )
    WEBHOOK_INSECURE = (
        "WEBHOOK_INSECURE",
        Severity.WARNING,
        "sink: a webhook whose destination is not https",
    )
    AUDIT_INCOMPLETE = (
        "AUDIT_INCOMPLETE",
        Severity.ERROR,
        "the part that could not be read, or `account` (the audit goes on)",
    )


FindingCode.__module__ = "events_async.audit"
FindingCode.__doc__ = "\n".join(
    [
        inspect.cleandoc(str(FindingCode.__doc__)),
        "",
        "The codes, each with its default severity, then the finding's subject and what",
        "is wrong with it:",
        "",
        *(f"- {code} ({code.severity}): {code.description}" for code in FindingCode),
    ]
)


@attrs.frozen
class Finding:
    """One problem: its severity, a stable code, the SID or event type concerned, and a
    sentence for people.

    The audit's codes are `FindingCode` members (which compare equal to their strings);
    `code` is typed `str` so that findings of one's own can carry codes of one's own."""

    severity: Severity
    code: str
    subject: str
    message: str


Finding.__module__ = "events_async.audit"


@attrs.frozen
class AuditData:
    """Everything an audit read; None where a part could not be read."""

    sinks: list[Sink] | None
    subscriptions: list[Subscription] | None
    subscribed_events: dict[str, list[SubscribedEvent] | None]
    catalog: list[EventType] | None
    latest_versions: dict[str, int]


def find_problems(data: AuditData) -> list[Finding]:
    """Every finding the data supports."""
    catalog = {t.type: t for t in data.catalog} if data.catalog is not None else None
    return [
        *_sink_findings(data),
        *_subscription_findings(data, catalog),
        *_event_type_findings(data, catalog),
        *_duplicate_deliveries(data),
    ]


def make_finding(code: FindingCode, subject: str, message: str) -> Finding:
    """A finding at its code's severity."""
    return Finding(code.severity, code, subject, message)


def _label(description: str | None) -> str:
    return f'"{description}"' if description else "(no description)"


_NOT_VALIDATED = (SinkStatus.INITIALIZED, SinkStatus.VALIDATING)

# Each rule below checks every sink, subscription and subscribed event of an account, and
# nearly all of them are fine: the checks come first and cheapest, and a finding's words
# (names, lists of SIDs) are made only for a finding.


def _sink_findings(data: AuditData) -> Iterator[Finding]:
    if data.sinks is None:
        return
    used = {s.sink_sid for s in data.subscriptions} if data.subscriptions is not None else None
    for sink in data.sinks:
        sid, status = sink.sid, sink.status
        if status is SinkStatus.FAILED:
            name = _label(sink.description)
            yield make_finding(FindingCode.SINK_FAILED, sid, f"sink {name} has failed")
        elif status in _NOT_VALIDATED:
            yield make_finding(
                FindingCode.SINK_NOT_VALIDATED,
                sid,
                f"sink {_label(sink.description)} is {status}: "
                "test and validate it before it can deliver",
            )
        if used is not None and sid not in used:
            yield make_finding(
                FindingCode.SINK_UNUSED,
                sid,
                f"no subscription delivers to sink {_label(sink.description)}",
            )
        if sink.sink_type is not SinkType.WEBHOOK:
            continue
        destination = (sink.sink_configuration or {}).get("destination")
        if isinstance(destination, str) and not destination.lower().startswith("https://"):
            yield make_finding(
                FindingCode.WEBHOOK_INSECURE,
                sid,
                f"webhook sink {_label(sink.description)} delivers over plain HTTP to "
                f"{destination}",
            )


def _subscription_findings(
    data: AuditData, catalog: dict[str, EventType] | None
) -> Iterator[Finding]:
    if data.subscriptions is None:
        return
    sinks = {s.sid: s for s in data.sinks} if data.sinks is not None else None
    # the latest version of each type's schema; a type with no schema (or not in the
    # catalog) is looked up as the schema "" (never read, so never outdated)
    versions = data.latest_versions
    unknown = versions.get("")
    latest_of = {
        type: versions.get(entry.schema_id or "") for type, entry in (catalog or {}).items()
    }
    for subscription in data.subscriptions:
        sid = subscription.sid
        if sinks is not None:
            sink = sinks.get(subscription.sink_sid)
            if sink is None:
                yield make_finding(
                    FindingCode.SUBSCRIPTION_SINK_MISSING,
                    sid,
                    f"subscription {_label(subscription.description)} delivers to sink "
                    f"{subscription.sink_sid}, which does not exist",
                )
            elif sink.status is not SinkStatus.ACTIVE:
                yield make_finding(
                    FindingCode.SUBSCRIPTION_SINK_NOT_ACTIVE,
                    sid,
                    f"subscription {_label(subscription.description)} delivers to sink "
                    f"{sink.sid}, which is {sink.status}",
                )
        events = data.subscribed_events.get(sid)
        if events is None:
            continue
        if not events:
            yield make_finding(
                FindingCode.SUBSCRIPTION_EMPTY,
                sid,
                f"subscription {_label(subscription.description)} subscribes to no event types",
            )
        for event in events:
            version = event.schema_version
            if version is None:
                continue
            latest = latest_of.get(event.type, unknown)
            if latest is not None and version < latest:
                yield make_finding(
                    FindingCode.SCHEMA_VERSION_OUTDATED,
                    sid,
                    f"{event.type} is delivered at schema version {version}; "
                    f"the latest is {latest}",
                )


def _event_type_findings(
    data: AuditData, catalog: dict[str, EventType] | None
) -> Iterator[Finding]:
    if catalog is None:
        return
    subscribed = data.subscribed_events
    types = {event.type for events in subscribed.values() if events for event in events}
    flagged = sorted(
        type
        for type in types
        if (entry := catalog.get(type)) is None or entry.status not in (None, "available")
    )
    if not flagged:
        return
    users: dict[str, list[str]] = {type: [] for type in flagged}
    for sid, events in subscribed.items():
        for event in events or ():
            sids = users.get(event.type)
            if sids is not None:
                sids.append(sid)
    for type in flagged:
        where = ", ".join(sorted(users[type]))
        entry = catalog.get(type)
        if entry is None:
            yield make_finding(
                FindingCode.EVENT_TYPE_UNKNOWN,
                type,
                f"{type} is not in the event-type catalog; subscribed by {where}",
            )
        else:
            yield make_finding(
                FindingCode.EVENT_TYPE_DEPRECATED,
                type,
                f"{type} is {entry.status}; subscribed by {where}",
            )


def _duplicate_deliveries(data: AuditData) -> Iterator[Finding]:
    if data.subscriptions is None:
        return
    subscribed = data.subscribed_events
    # first, cheaply, the sinks that may receive a type twice: a subscription that lists
    # a type twice, or two subscriptions of one sink that share a type
    types_of: dict[str, set[str]] = {}
    suspects: set[str] = set()
    for subscription in data.subscriptions:
        events = subscribed.get(subscription.sid)
        if not events:
            continue
        sink_sid = subscription.sink_sid
        types = {event.type for event in events}
        seen = types_of.get(sink_sid)
        if seen is None:
            types_of[sink_sid] = types
        elif not seen.isdisjoint(types):
            suspects.add(sink_sid)
        else:
            seen |= types
        if len(types) != len(events):
            suspects.add(sink_sid)
    if not suspects:
        return
    deliveries: dict[tuple[str, str], list[str]] = defaultdict(list)
    for subscription in data.subscriptions:
        if subscription.sink_sid in suspects:
            for event in subscribed.get(subscription.sid) or ():
                deliveries[(subscription.sink_sid, event.type)].append(subscription.sid)
    for (sink_sid, type), sids in sorted(deliveries.items()):
        if len(sids) > 1:
            yield make_finding(
                FindingCode.DUPLICATE_DELIVERY,
                sink_sid,
                f"{type} reaches sink {sink_sid} twice or more, through {', '.join(sorted(sids))}",
            )
