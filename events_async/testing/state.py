"""The fake's in-memory state and Twilio's rules for it, free of HTTP.

Every rule violation raises `FakeError`, which the server renders as Twilio's error JSON.
"""

from __future__ import annotations

import itertools
import re
import secrets
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import attrs
import orjson

from .catalog import Catalog

__all__ = [
    "SUBACCOUNT_STATUSES",
    "FakeAccount",
    "FakeError",
    "FakeSink",
    "FakeSubscribedEvent",
    "FakeSubscription",
    "bad_request",
    "not_found",
]

SINK_TYPES = ("kinesis", "webhook", "segment", "email")
SINK_STATUSES = ("initialized", "validating", "active", "failed")
SUBACCOUNT_STATUSES = ("active", "suspended", "closed")
_REQUIRED_CONFIGURATION = {
    "kinesis": ("arn", "role_arn", "external_id"),
    "webhook": ("destination",),
    "segment": ("write_key",),
    "email": (),
}
_WEBHOOK_METHODS = ("GET", "POST")
_INTEGER = re.compile(r"[0-9]{1,9}")

_sequence = itertools.count(1)


class FakeError(Exception):
    """A request the fake refuses, with Twilio's status, code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str) -> FakeError:
    """Twilio's 400: invalid parameter (20001)."""
    return FakeError(400, 20001, message)


def not_found(message: str) -> FakeError:
    """Twilio's 404: the requested resource was not found (20404)."""
    return FakeError(404, 20404, message)


def parse_int(raw: str, name: str) -> int:
    """A parameter of ASCII digits (at most nine: no 5,000-digit or `²` surprises)."""
    if not _INTEGER.fullmatch(raw):
        raise bad_request(f"{name} must be an integer")
    return int(raw)


def parse_json(text: str, name: str) -> Any:
    """A parameter holding JSON; a 400 for anything orjson refuses (including nesting
    deeper than 1,024 levels)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise bad_request(f"{name} must be valid JSON") from None


def check_sink_configuration(sink_type: str, configuration: dict[str, Any]) -> None:
    """Twilio's per-type rules for a sink's configuration, checked at create (a 400)."""
    missing = [
        key
        for key in _REQUIRED_CONFIGURATION[sink_type]
        if not isinstance(configuration.get(key), str) or not configuration[key].strip()
    ]
    if missing:
        raise bad_request(f"SinkConfiguration for {sink_type} needs {', '.join(missing)}")
    if sink_type != "webhook":
        return
    destination = configuration["destination"]
    try:
        parts = urlsplit(destination)
        parts.port  # noqa: B018 - parses the port, which may be out of range
    except ValueError:
        raise bad_request("SinkConfiguration destination must be an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("SinkConfiguration destination must be an http(s) URL")
    method = configuration.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in _WEBHOOK_METHODS:
        raise bad_request("SinkConfiguration method must be GET or POST")
    if not isinstance(configuration.get("batch_events", True), bool):
        raise bad_request("SinkConfiguration batch_events must be a boolean")


def _next_seq() -> int:
    """Creation order, which lists follow."""
    return next(_sequence)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


@attrs.define
class FakeSink:
    """A sink as the fake stores it."""

    sid: str
    description: str
    sink_type: str
    sink_configuration: dict[str, Any]
    status: str = "initialized"
    test_id: str | None = None
    date_created: datetime = attrs.field(factory=_now)
    date_updated: datetime = attrs.field(factory=_now)
    seq: int = attrs.field(factory=_next_seq)


@attrs.define
class FakeSubscribedEvent:
    """One event type of a subscription."""

    type: str
    schema_version: int
    seq: int = attrs.field(factory=_next_seq)


@attrs.define
class FakeSubscription:
    """A subscription and its subscribed events, by type."""

    sid: str
    description: str
    sink_sid: str
    events: dict[str, FakeSubscribedEvent] = attrs.field(factory=dict)
    date_created: datetime = attrs.field(factory=_now)
    date_updated: datetime = attrs.field(factory=_now)
    seq: int = attrs.field(factory=_next_seq)


@attrs.define
class FakeAccount:
    """One account: its credentials, sinks and subscriptions, and the limits on them."""

    sid: str
    auth_token: str
    catalog: Catalog
    api_keys: dict[str, str] = attrs.field(factory=dict)
    sinks: dict[str, FakeSink] = attrs.field(factory=dict)
    subscriptions: dict[str, FakeSubscription] = attrs.field(factory=dict)
    max_sinks: int = 100
    max_subscriptions: int = 100
    webhooks_start_active: bool = True
    friendly_name: str = "My first Twilio account"
    status: str = "active"
    owner_sid: str | None = None
    listed_auth_token: str | None = None
    date_created: datetime = attrs.field(factory=_now)

    @property
    def token_in_listing(self) -> str:
        """The auth token the Accounts API shows its owner (a stale one can be planted)."""
        return self.listed_auth_token or self.auth_token

    @classmethod
    def new(cls, catalog: Catalog, **limits: Any) -> FakeAccount:
        """An account with a fresh SID and auth token."""
        return cls(sid=_sid("AC"), auth_token=secrets.token_hex(16), catalog=catalog, **limits)

    def add_api_key(self) -> tuple[str, str]:
        """A new API key SID and secret that authenticate as this account."""
        key, secret = _sid("SK"), secrets.token_urlsafe(24)
        self.api_keys[key] = secret
        return key, secret

    # sinks -------------------------------------------------------------------------------

    def create_sink(self, description: str, sink_type: str, configuration: str) -> FakeSink:
        """A new sink (CreateSink's rules: known type, configuration checked per type, the
        account's limit); raises FakeError."""
        if sink_type not in SINK_TYPES:
            raise bad_request(f"SinkType must be one of {', '.join(SINK_TYPES)}")
        parsed = parse_json(configuration, "SinkConfiguration")
        if not isinstance(parsed, dict):
            raise bad_request("SinkConfiguration must be a JSON object")
        check_sink_configuration(sink_type, parsed)
        if len(self.sinks) >= self.max_sinks:
            raise bad_request(f"an account may have at most {self.max_sinks} sinks")
        active = sink_type == "webhook" and self.webhooks_start_active
        sink = FakeSink(
            sid=_sid("DG"),
            description=description,
            sink_type=sink_type,
            sink_configuration=parsed,
            status="active" if active else "initialized",
        )
        self.sinks[sink.sid] = sink
        return sink

    def sink(self, sid: str) -> FakeSink:
        """The sink with this SID, or a 404 FakeError."""
        try:
            return self.sinks[sid]
        except KeyError:
            raise not_found(f"The requested resource /Sinks/{sid} was not found") from None

    def update_sink(self, sid: str, description: str) -> FakeSink:
        """Change a sink's description (UpdateSink)."""
        sink = self.sink(sid)
        sink.description = description
        sink.date_updated = _now()
        return sink

    def delete_sink(self, sid: str) -> None:
        """Delete a sink no subscription uses (DeleteSink); a 400 FakeError if one does."""
        self.sink(sid)
        if any(s.sink_sid == sid for s in self.subscriptions.values()):
            raise bad_request(f"Sink {sid} is used by a subscription; delete that first")
        del self.sinks[sid]

    def list_sinks(self, in_use: bool | None, status: str | None) -> list[FakeSink]:
        """The sinks, optionally only those (not) in use or in one status (ListSink)."""
        used = {s.sink_sid for s in self.subscriptions.values()}
        return [
            sink
            for sink in self.sinks.values()
            if (in_use is None or (sink.sid in used) == in_use)
            and (status is None or sink.status == status)
        ]

    def start_test(self, sid: str) -> FakeSink:
        """Give the sink a new test id and mark it validating (CreateSinkTest)."""
        sink = self.sink(sid)
        sink.test_id = str(uuid.uuid4())
        if sink.status != "active":
            sink.status = "validating"
        sink.date_updated = _now()
        return sink

    def validate(self, sid: str, test_id: str) -> FakeSink:
        """Check a test id against the sink's last test; active on a match (CreateSinkValidate)."""
        sink = self.sink(sid)
        if sink.test_id is None:
            raise bad_request(f"Sink {sid} has not been tested; test it first")
        if test_id != sink.test_id:
            raise bad_request("TestId does not match the test event sent to the sink")
        sink.status = "active"
        sink.date_updated = _now()
        return sink

    # subscriptions -----------------------------------------------------------------------

    def _active_sink(self, sid: str) -> FakeSink:
        sink = self.sinks.get(sid)
        if sink is None:
            raise bad_request(f"Sink {sid} does not exist")
        if sink.status != "active":
            raise bad_request(f"Sink {sid} is {sink.status}; a subscription needs an active sink")
        return sink

    def subscribed_event(self, type: str, schema_version: int | None) -> FakeSubscribedEvent:
        """A subscribed event checked against the catalog; None picks the latest version."""
        entry = self.catalog.types.get(type)
        if entry is None:
            raise bad_request(f"Event type {type!r} does not exist")
        latest = self.catalog.schemas[entry.schema_id].latest_version
        if schema_version is None:
            schema_version = latest
        elif not 1 <= schema_version <= latest:
            raise bad_request(f"{type} has schema versions 1 to {latest}, not {schema_version}")
        return FakeSubscribedEvent(type=type, schema_version=schema_version)

    def create_subscription(
        self, description: str, sink_sid: str, types: list[tuple[str, int | None]]
    ) -> FakeSubscription:
        """A new subscription of event types to an active sink (CreateSubscription)."""
        self._active_sink(sink_sid)
        events: dict[str, FakeSubscribedEvent] = {}
        for type, version in types:
            if type in events:
                raise bad_request(f"Event type {type} is listed twice")
            events[type] = self.subscribed_event(type, version)
        if len(self.subscriptions) >= self.max_subscriptions:
            raise bad_request(f"an account may have at most {self.max_subscriptions} subscriptions")
        subscription = FakeSubscription(
            sid=_sid("DF"), description=description, sink_sid=sink_sid, events=events
        )
        self.subscriptions[subscription.sid] = subscription
        return subscription

    def subscription(self, sid: str) -> FakeSubscription:
        """The subscription with this SID, or a 404 FakeError."""
        try:
            return self.subscriptions[sid]
        except KeyError:
            raise not_found(f"The requested resource /Subscriptions/{sid} was not found") from None

    def update_subscription(
        self, sid: str, description: str | None, sink_sid: str | None
    ) -> FakeSubscription:
        """Change a subscription's description or sink (UpdateSubscription)."""
        subscription = self.subscription(sid)
        if sink_sid is not None:
            self._active_sink(sink_sid)
            subscription.sink_sid = sink_sid
        if description is not None:
            subscription.description = description
        subscription.date_updated = _now()
        return subscription

    def delete_subscription(self, sid: str) -> None:
        """Delete a subscription (DeleteSubscription)."""
        self.subscription(sid)
        del self.subscriptions[sid]

    def list_subscriptions(self, sink_sid: str | None) -> list[FakeSubscription]:
        """The subscriptions, optionally only those delivering to one sink (ListSubscription)."""
        return [
            s for s in self.subscriptions.values() if sink_sid is None or s.sink_sid == sink_sid
        ]

    def add_subscribed_event(
        self, sid: str, type: str, schema_version: int | None
    ) -> FakeSubscribedEvent:
        """Add an event type to a subscription, at a version or the latest.
        CreateSubscribedEvent."""
        subscription = self.subscription(sid)
        if type in subscription.events:
            raise bad_request(f"{sid} already subscribes to {type}")
        event = subscription.events[type] = self.subscribed_event(type, schema_version)
        return event

    def find_subscribed_event(self, sid: str, type: str) -> FakeSubscribedEvent:
        """One event type of a subscription, or a 404 FakeError (FetchSubscribedEvent)."""
        event = self.subscription(sid).events.get(type)
        if event is None:
            raise not_found(f"Subscription {sid} has no subscribed event {type}")
        return event

    def update_subscribed_event(
        self, sid: str, type: str, schema_version: int | None
    ) -> FakeSubscribedEvent:
        """Change the schema version an event type is delivered with (UpdateSubscribedEvent)."""
        event = self.find_subscribed_event(sid, type)
        if schema_version is not None:
            event.schema_version = self.subscribed_event(type, schema_version).schema_version
        return event

    def delete_subscribed_event(self, sid: str, type: str) -> None:
        """Remove an event type from a subscription (DeleteSubscribedEvent)."""
        self.find_subscribed_event(sid, type)
        del self.subscriptions[sid].events[type]
