"""CloudEvents as Event Streams delivers them: parsed from the raw body. Pure: no I/O.

A webhook delivery is a JSON array of CloudEvents (one, or a batch when the sink has
`batch_events`); a single object is accepted too. Each event is checked on its own
against CloudEvents 1.0 (see `cloudevents`): `parse_delivery` keeps the well-formed
events and says which were malformed and why, so one bad event never costs the others;
`parse_events` is the strict form that refuses the body for any malformed event. Sizes
are capped before parsing.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import orjson

from ..errors import PayloadError
from ..models import CloudEvent
from .cloudevents import event_from_json

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_EVENTS",
    "TEST_EVENT_TYPE",
    "CloudEvent",
    "Malformed",
    "ParsedDelivery",
    "parse_delivery",
    "parse_events",
]

TEST_EVENT_TYPE = "com.twilio.eventstreams.test-event"
"""The type of the event `client.sinks.test()` sends; its `data.test_id` is what
`client.sinks.validate()` takes."""

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_EVENTS = 1000


@attrs.frozen
class Malformed:
    """An item of a delivery that is not a CloudEvent: its position and why."""

    index: int
    reason: str


@attrs.frozen
class ParsedDelivery:
    """A delivery's well-formed events, in order, and its malformed items."""

    events: list[CloudEvent]
    malformed: list[Malformed]


def _stdlib_json(body: bytes) -> Any:
    """What orjson refuses though JSON's grammar allows it (`1e400`, a lone surrogate
    escape), read by the standard library instead, so the rest of the delivery counts."""
    try:
        return json.loads(body.decode("utf-8"))  # JSON on the wire is UTF-8 (RFC 8259)
    except (ValueError, RecursionError):
        raise PayloadError("the body is not JSON") from None


def _items(body: bytes, max_bytes: int, max_events: int) -> list[Any]:
    if len(body) > max_bytes:
        raise PayloadError(f"the body is {len(body)} bytes, over the {max_bytes}-byte cap")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):  # nested past orjson's 1,024 levels
            raise PayloadError("the body is not JSON: nested too deep") from None
        parsed = _stdlib_json(body)
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        raise PayloadError("the body holds no event")
    if len(items) > max_events:
        raise PayloadError(f"the body holds {len(items)} events, over the cap of {max_events}")
    return items


def parse_delivery(
    body: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> ParsedDelivery:
    """The CloudEvents of a delivery's raw body, each checked on its own.

    `PayloadError` only when the body as a whole cannot be read: not JSON, no event at
    all, or over a cap.
    """
    events: list[CloudEvent] = []
    malformed: list[Malformed] = []
    for index, item in enumerate(_items(body, max_bytes, max_events)):
        try:
            events.append(event_from_json(item))
        except PayloadError as error:
            malformed.append(Malformed(index, str(error)))
    return ParsedDelivery(events, malformed)


def parse_events(
    body: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> list[CloudEvent]:
    """The CloudEvents of a body, all of them well-formed; else `PayloadError`."""
    parsed = parse_delivery(body, max_bytes=max_bytes, max_events=max_events)
    if parsed.malformed:
        first = parsed.malformed[0]
        raise PayloadError(f"event {first.index} is not a CloudEvent: {first.reason}")
    return parsed.events
