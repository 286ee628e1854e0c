"""The audit's rules, pure: from what was read to the findings. No I/O here.

A part that was not read is None, and no rule draws a conclusion from it. `Finding` and
`Severity` are defined here, beside the rules that make them, and are public as
`events_async.audit.Finding` / `events_async.Finding` (their `__module__` says so, for
`help()`, pickling and documentation).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterator

import attrs

from .models import EventType, Sink, SinkStatus, SinkType, SubscribedEvent, Subscription

__all__ = ["SEVERITY_ORDER", "AuditData", "Finding", "Severity", "find_problems"]


class Severity(str, enum.Enum):
    """How much a finding matters."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


Severity.__module__ = "events_async.audit"

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@attrs.frozen
class Finding:
    """One problem: its severity, a stable code, the SID or event type concerned, and a
    sentence for people."""

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
    return [
        *_sink_findings(data),
        *_subscription_findings(data),
        *_event_type_findings(data),
        *_duplicate_deliveries(data),
    ]


def _label(description: str | None) -> str:
    return f'"{description}"' if description else "(no description)"


def _sink_findings(data: AuditData) -> Iterator[Finding]:
    if data.sinks is None:
        return
    used = {s.sink_sid for s in data.subscriptions} if data.subscriptions is not None else None
    for sink in data.sinks:
        sid, name = sink.sid, _label(sink.description)
        if sink.status is SinkStatus.FAILED:
            yield Finding(Severity.ERROR, "SINK_FAILED", sid, f"sink {name} has failed")
        elif sink.status in (SinkStatus.INITIALIZED, SinkStatus.VALIDATING):
            yield Finding(
                Severity.WARNING,
                "SINK_NOT_VALIDATED",
                sid,
                f"sink {name} is {sink.status}: test and validate it before it can deliver",
            )
        if used is not None and sink.sid not in used:
            yield Finding(
                Severity.WARNING, "SINK_UNUSED", sid, f"no subscription delivers to sink {name}"
            )
        destination = (sink.sink_configuration or {}).get("destination")
        if (
            sink.sink_type is SinkType.WEBHOOK
            and isinstance(destination, str)
            and not destination.lower().startswith("https://")
        ):
            yield Finding(
                Severity.WARNING,
                "WEBHOOK_INSECURE",
                sid,
                f"webhook sink {name} delivers over plain HTTP to {destination}",
            )


def _subscription_findings(data: AuditData) -> Iterator[Finding]:
    if data.subscriptions is None:
        return
    sinks = {s.sid: s for s in data.sinks} if data.sinks is not None else None
    schema_of = {t.type: t.schema_id for t in data.catalog} if data.catalog is not None else {}
    for subscription in data.subscriptions:
        sid, name = subscription.sid, _label(subscription.description)
        if sinks is not None:
            sink = sinks.get(subscription.sink_sid)
            if sink is None:
                yield Finding(
                    Severity.ERROR,
                    "SUBSCRIPTION_SINK_MISSING",
                    sid,
                    f"subscription {name} delivers to sink {subscription.sink_sid}, "
                    "which does not exist",
                )
            elif sink.status is not SinkStatus.ACTIVE:
                yield Finding(
                    Severity.ERROR,
                    "SUBSCRIPTION_SINK_NOT_ACTIVE",
                    sid,
                    f"subscription {name} delivers to sink {sink.sid}, which is {sink.status}",
                )
        events = data.subscribed_events.get(sid)
        if events is None:
            continue
        if not events:
            yield Finding(
                Severity.WARNING,
                "SUBSCRIPTION_EMPTY",
                sid,
                f"subscription {name} subscribes to no event types",
            )
        for event in events:
            latest = data.latest_versions.get(schema_of.get(event.type) or "")
            if (
                latest is not None
                and event.schema_version is not None
                and event.schema_version < latest
            ):
                yield Finding(
                    Severity.INFO,
                    "SCHEMA_VERSION_OUTDATED",
                    sid,
                    f"{event.type} is delivered at schema version {event.schema_version}; "
                    f"the latest is {latest}",
                )


def _event_type_findings(data: AuditData) -> Iterator[Finding]:
    if data.catalog is None:
        return
    catalog = {t.type: t for t in data.catalog}
    users: dict[str, list[str]] = defaultdict(list)
    for sid, events in data.subscribed_events.items():
        for event in events or ():
            users[event.type].append(sid)
    for type, sids in sorted(users.items()):
        where = ", ".join(sorted(sids))
        entry = catalog.get(type)
        if entry is None:
            yield Finding(
                Severity.ERROR,
                "EVENT_TYPE_UNKNOWN",
                type,
                f"{type} is not in the event-type catalog; subscribed by {where}",
            )
        elif entry.status not in (None, "available"):
            yield Finding(
                Severity.WARNING,
                "EVENT_TYPE_DEPRECATED",
                type,
                f"{type} is {entry.status}; subscribed by {where}",
            )


def _duplicate_deliveries(data: AuditData) -> Iterator[Finding]:
    if data.subscriptions is None:
        return
    deliveries: dict[tuple[str, str], list[str]] = defaultdict(list)
    for subscription in data.subscriptions:
        for event in data.subscribed_events.get(subscription.sid) or ():
            deliveries[(subscription.sink_sid, event.type)].append(subscription.sid)
    for (sink_sid, type), sids in sorted(deliveries.items()):
        if len(sids) > 1:
            yield Finding(
                Severity.WARNING,
                "DUPLICATE_DELIVERY",
                sink_sid,
                f"{type} reaches sink {sink_sid} twice or more, through {', '.join(sorted(sids))}",
            )
