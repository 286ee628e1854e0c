"""CloudEvents as Event Streams delivers them: parsed from the raw body. Pure: no I/O.

A webhook delivery is a JSON array of CloudEvents (one, or a batch when the sink has
`batch_events`); a single object is accepted too. Each event goes through the library's
one converter into a frozen `CloudEvent`: `id`, `type`, `source` and `specversion` are
required, `time` becomes an aware datetime, unknown attributes are ignored, and `data`
that arrives as a JSON string (Kinesis) is decoded. Sizes are capped before parsing.
"""

from __future__ import annotations

from typing import Any

import orjson

from .._convert import structure_hook
from ..errors import PayloadError
from ..models import CloudEvent

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_EVENTS",
    "TEST_EVENT_TYPE",
    "CloudEvent",
    "parse_events",
]

TEST_EVENT_TYPE = "com.twilio.eventstreams.test-event"
"""The type of the event `client.sinks.test()` sends; its `data.test_id` is what
`client.sinks.validate()` takes."""

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_EVENTS = 1000


def _decoded_data(event: dict[str, Any]) -> dict[str, Any]:
    """`event`, whose `data` is a string, with it decoded when its content type is JSON."""
    content_type = event.get("datacontenttype")
    if content_type is None or (isinstance(content_type, str) and "json" in content_type):
        try:
            return {**event, "data": orjson.loads(event["data"])}
        except orjson.JSONDecodeError:
            pass  # a plain string payload: kept as it came
    return event


def parse_events(
    body: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> list[CloudEvent]:
    """The CloudEvents of a delivery's raw body; `PayloadError` if it is not that."""
    if len(body) > max_bytes:
        raise PayloadError(f"the body is {len(body)} bytes, over the {max_bytes}-byte cap")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise PayloadError("the body is not JSON") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if len(items) > max_events:
        raise PayloadError(f"the body holds {len(items)} events, over the cap of {max_events}")
    build = structure_hook(CloudEvent)
    events = []
    for position, item in enumerate(items):
        if item.__class__ is not dict:
            raise PayloadError(f"event {position} is not a JSON object")
        if item.get("data").__class__ is str:
            item = _decoded_data(item)
        try:
            events.append(build(item, CloudEvent))
        except Exception as error:  # cattrs raises many types; the caller needs one
            raise PayloadError(f"event {position} is not a CloudEvent: {error}") from None
    return events
