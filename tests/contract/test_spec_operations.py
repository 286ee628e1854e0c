"""Every one of the 22 operations: the exact request on the wire, and the parsed result.

Responses are the examples of the newest published spec (tests/data/spec_examples.json).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

import attrs
import pytest
from aioresponses import aioresponses
from aioresponses.core import normalize_url
from yarl import URL

from events_async import (
    EventsClient,
    EventType,
    KinesisSinkConfiguration,
    Schema,
    SchemaVersion,
    Sink,
    SinkStatus,
    SinkTestResult,
    SinkType,
    SinkValidateResult,
    SubscribedEvent,
    SubscribedType,
    Subscription,
)

from ..support import BASE, SINK_SID, SUBSCRIPTION_SID

TYPE = "com.twilio.messaging.message.delivered"
SUBSCRIBED_EVENTS = f"{BASE}/v1/Subscriptions/{SUBSCRIPTION_SID}/SubscribedEvents"


@attrs.frozen
class Operation:
    operation_id: str
    call: Callable[[EventsClient], Awaitable[Any]]
    method: str
    url: str
    form: list[tuple[str, str]] | None  # None: no body at all
    example: str | None  # None: 204 No Content
    status: int = 200


async def _collect(paginator: Any) -> list[Any]:
    return [item async for item in paginator]


OPERATIONS = [
    Operation(
        "ListEventType",
        lambda c: _collect(c.event_types.list(schema_id="Messaging.MessageStatus", page_size=20)),
        "GET",
        f"{BASE}/v1/Types?SchemaId=Messaging.MessageStatus&PageSize=20",
        None,
        "readResultsWithSchemaId",
    ),
    Operation(
        "FetchEventType",
        lambda c: c.event_types.fetch(TYPE),
        "GET",
        f"{BASE}/v1/Types/{TYPE}",
        None,
        "fetch",
    ),
    Operation(
        "FetchSchema",
        lambda c: c.schemas.fetch("Messaging.MessageStatus"),
        "GET",
        f"{BASE}/v1/Schemas/Messaging.MessageStatus",
        None,
        "fetch",
    ),
    Operation(
        "ListSchemaVersion",
        lambda c: _collect(c.schemas.versions("Messaging.MessageStatus").list(page_size=50)),
        "GET",
        f"{BASE}/v1/Schemas/Messaging.MessageStatus/Versions?PageSize=50",
        None,
        "readResults",
    ),
    Operation(
        "FetchSchemaVersion",
        lambda c: c.schemas.versions("Messaging.MessageStatus").fetch(1),
        "GET",
        f"{BASE}/v1/Schemas/Messaging.MessageStatus/Versions/1",
        None,
        "fetch",
    ),
    Operation(
        "CreateSink",
        lambda c: c.sinks.create(
            description="My Kinesis Sink",
            sink_type=SinkType.KINESIS,
            sink_configuration=KinesisSinkConfiguration(
                arn="arn:aws:kinesis:us-east-1:111111111:stream/test",
                role_arn="arn:aws:iam::111111111:role/Role",
                external_id="1234567890",
            ),
        ),
        "POST",
        f"{BASE}/v1/Sinks",
        [
            ("Description", "My Kinesis Sink"),
            (
                "SinkConfiguration",
                '{"arn":"arn:aws:kinesis:us-east-1:111111111:stream/test",'
                '"role_arn":"arn:aws:iam::111111111:role/Role","external_id":"1234567890"}',
            ),
            ("SinkType", "kinesis"),
        ],
        "create",
        201,
    ),
    Operation(
        "FetchSink",
        lambda c: c.sinks.fetch(SINK_SID),
        "GET",
        f"{BASE}/v1/Sinks/{SINK_SID}",
        None,
        "fetch",
    ),
    Operation(
        "UpdateSink",
        lambda c: c.sinks.update(SINK_SID, description="My Kinesis Sink"),
        "POST",
        f"{BASE}/v1/Sinks/{SINK_SID}",
        [("Description", "My Kinesis Sink")],
        "update",
    ),
    Operation(
        "DeleteSink",
        lambda c: c.sinks.delete(SINK_SID),
        "DELETE",
        f"{BASE}/v1/Sinks/{SINK_SID}",
        None,
        None,
        204,
    ),
    Operation(
        "ListSink",
        lambda c: _collect(c.sinks.list(in_use=True, status="active", limit=20)),
        "GET",
        f"{BASE}/v1/Sinks?InUse=true&Status=active&PageSize=20",
        None,
        "readResults",
    ),
    Operation(
        "CreateSinkTest",
        lambda c: c.sinks.test(SINK_SID),
        "POST",
        f"{BASE}/v1/Sinks/{SINK_SID}/Test",
        [],
        "create",
        201,
    ),
    Operation(
        "CreateSinkValidate",
        lambda c: c.sinks.validate(SINK_SID, test_id="a-test-id"),
        "POST",
        f"{BASE}/v1/Sinks/{SINK_SID}/Validate",
        [("TestId", "a-test-id")],
        "create",
        201,
    ),
    Operation(
        "CreateSubscription",
        lambda c: c.subscriptions.create(
            description="A subscription",
            sink_sid=SINK_SID,
            types=[
                SubscribedType("com.twilio.messaging.message.delivered", schema_version=1),
                {"type": "com.twilio.messaging.message.failed", "schema_version": 12},
                "com.twilio.voice.insights.call-summary.complete",
            ],
        ),
        "POST",
        f"{BASE}/v1/Subscriptions",
        [
            ("Description", "A subscription"),
            ("SinkSid", SINK_SID),
            ("Types", '{"type":"com.twilio.messaging.message.delivered","schema_version":1}'),
            ("Types", '{"type":"com.twilio.messaging.message.failed","schema_version":12}'),
            ("Types", '{"type":"com.twilio.voice.insights.call-summary.complete"}'),
        ],
        "create",
        201,
    ),
    Operation(
        "FetchSubscription",
        lambda c: c.subscriptions.fetch(SUBSCRIPTION_SID),
        "GET",
        f"{BASE}/v1/Subscriptions/{SUBSCRIPTION_SID}",
        None,
        "fetch",
    ),
    Operation(
        "UpdateSubscription",
        lambda c: c.subscriptions.update(
            SUBSCRIPTION_SID, description="Updated description", sink_sid="DG" + "a" * 31 + "b"
        ),
        "POST",
        f"{BASE}/v1/Subscriptions/{SUBSCRIPTION_SID}",
        [("Description", "Updated description"), ("SinkSid", "DG" + "a" * 31 + "b")],
        "update",
    ),
    Operation(
        "DeleteSubscription",
        lambda c: c.subscriptions.delete(SUBSCRIPTION_SID),
        "DELETE",
        f"{BASE}/v1/Subscriptions/{SUBSCRIPTION_SID}",
        None,
        None,
        204,
    ),
    Operation(
        "ListSubscription",
        lambda c: _collect(c.subscriptions.list(sink_sid=SINK_SID, page_size=10)),
        "GET",
        f"{BASE}/v1/Subscriptions?SinkSid={SINK_SID}&PageSize=10",
        None,
        "readResultsFilteredBySinkSid",
    ),
    Operation(
        "ListSubscribedEvent",
        lambda c: _collect(c.subscriptions.subscribed_events(SUBSCRIPTION_SID).list()),
        "GET",
        SUBSCRIBED_EVENTS,
        None,
        "readResults",
    ),
    Operation(
        "CreateSubscribedEvent",
        lambda c: c.subscriptions.subscribed_events(SUBSCRIPTION_SID).create(
            type=TYPE, schema_version=2
        ),
        "POST",
        SUBSCRIBED_EVENTS,
        [("Type", TYPE), ("SchemaVersion", "2")],
        "create",
        201,
    ),
    Operation(
        "FetchSubscribedEvent",
        lambda c: c.subscriptions.subscribed_events(SUBSCRIPTION_SID).fetch(TYPE),
        "GET",
        f"{SUBSCRIBED_EVENTS}/{TYPE}",
        None,
        "fetch",
    ),
    Operation(
        "UpdateSubscribedEvent",
        lambda c: c.subscriptions.subscribed_events(SUBSCRIPTION_SID).update(
            TYPE, schema_version=2
        ),
        "POST",
        f"{SUBSCRIBED_EVENTS}/{TYPE}",
        [("SchemaVersion", "2")],
        "update",
    ),
    Operation(
        "DeleteSubscribedEvent",
        lambda c: c.subscriptions.subscribed_events(SUBSCRIPTION_SID).delete(TYPE),
        "DELETE",
        f"{SUBSCRIBED_EVENTS}/{TYPE}",
        None,
        None,
        204,
    ),
]

EXPECTED_MODELS: dict[str, type | None] = {
    "ListEventType": EventType,
    "FetchEventType": EventType,
    "FetchSchema": Schema,
    "ListSchemaVersion": SchemaVersion,
    "FetchSchemaVersion": SchemaVersion,
    "CreateSink": Sink,
    "FetchSink": Sink,
    "UpdateSink": Sink,
    "DeleteSink": None,
    "ListSink": Sink,
    "CreateSinkTest": SinkTestResult,
    "CreateSinkValidate": SinkValidateResult,
    "CreateSubscription": Subscription,
    "FetchSubscription": Subscription,
    "UpdateSubscription": Subscription,
    "DeleteSubscription": None,
    "ListSubscription": Subscription,
    "ListSubscribedEvent": SubscribedEvent,
    "CreateSubscribedEvent": SubscribedEvent,
    "FetchSubscribedEvent": SubscribedEvent,
    "UpdateSubscribedEvent": SubscribedEvent,
    "DeleteSubscribedEvent": None,
}


def test_the_table_covers_all_22_operations(spec_examples: dict[str, Any]) -> None:
    ids = [op.operation_id for op in OPERATIONS]
    assert len(ids) == len(set(ids)) == 22
    assert set(ids) == set(spec_examples) == set(EXPECTED_MODELS)


def _sent(mocked: aioresponses, method: str, url: str) -> Any:
    """The keyword arguments of the one request made, checking its method and URL."""
    assert list(mocked.requests) == [(method, normalize_url(URL(url)))]
    (call,) = mocked.requests[(method, normalize_url(URL(url)))]
    return call.kwargs


def _as_plain(value: Any) -> Any:
    """A model or list of models as the JSON the API would send for it."""
    if isinstance(value, list):
        return [_as_plain(v) for v in value]
    plain = {}
    for field in attrs.fields(type(value)):
        v = getattr(value, field.name)
        if isinstance(v, datetime):
            v = v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif isinstance(v, (SinkType, SinkStatus)):
            v = v.value
        plain[field.name] = v
    return plain


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
async def test_operation_wire_format_and_result(
    op: Operation,
    client: EventsClient,
    mocked: aioresponses,
    spec_examples: dict[str, Any],
) -> None:
    payload = spec_examples[op.operation_id][op.example] if op.example else None
    mocked.add(
        op.url, op.method, status=op.status, payload=payload, body="" if payload is None else None
    )

    result = await op.call(client)

    sent = _sent(mocked, op.method, op.url)
    headers = sent["headers"]
    assert headers["Authorization"].startswith("Basic ")
    assert headers["User-Agent"].startswith("events-async/")
    if op.form is None:
        assert sent["data"] is None
        assert "Content-Type" not in headers
    else:
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert parse_qsl(sent["data"].decode(), keep_blank_values=True) == op.form

    model = EXPECTED_MODELS[op.operation_id]
    if model is None:
        assert result is None
        return
    if isinstance(result, list):
        assert payload is not None
        items = payload[payload["meta"]["key"]]
        assert items, "pick an example with items"
        assert all(type(r) is model for r in result)
        expected = [{f.name: item.get(f.name) for f in attrs.fields(model)} for item in items]
    else:
        assert type(result) is model
        expected = {f.name: payload.get(f.name) for f in attrs.fields(model)}  # type: ignore[union-attr]
    assert _as_plain(result) == expected
