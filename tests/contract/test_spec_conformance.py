"""The fake's answers (and the client's requests) validate against the Events API spec.

Every operation is exercised through the client against a recording fake; each exchange
is then checked with openapi-core against tests/data/twilio_events_v1.yaml (1.52.0).
"""

from __future__ import annotations

import asyncio
import functools
from urllib.parse import urlencode

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from events_async import EventsClient, SubscribedType
from events_async.testing import Exchange, FakeEventsServer

from ..support import DATA, basic_auth

KINESIS = {"arn": "arn:aws:kinesis:us-east-1:1:stream/s", "role_arn": "r", "external_id": "e"}
DELIVERED = "com.twilio.messaging.message.delivered"
FAILED = "com.twilio.messaging.message.failed"


@functools.cache
def _spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(DATA / "twilio_events_v1.yaml"))


async def _every_operation(fake: FakeEventsServer, client: EventsClient) -> None:
    """Call all 22 operations, lists over more than one page."""
    await client.event_types.list(page_size=5, limit=12).collect()
    await client.event_types.list(schema_id="Messaging.MessageStatus").collect()
    await client.event_types.fetch(DELIVERED)
    await client.schemas.fetch("Messaging.MessageStatus")
    versions = client.schemas.versions("Messaging.MessageStatus")
    await versions.list(page_size=2).collect()
    await versions.fetch(2)

    sinks = await asyncio.gather(
        *(
            client.sinks.create(
                description=f"stream {n}", sink_type="kinesis", sink_configuration=KINESIS
            )
            for n in range(3)
        )
    )
    sid = sinks[0].sid
    assert sid is not None
    await client.sinks.fetch(sid)
    await client.sinks.update(sid, description="renamed")
    await client.sinks.list(page_size=2).collect()
    await client.sinks.list(in_use=False, status="initialized").collect()
    await client.sinks.test(sid)
    test_id = fake.test_id(sid)
    assert test_id is not None
    await client.sinks.validate(sid, test_id=test_id)

    subscription = await client.subscriptions.create(
        description="receipts", sink_sid=sid, types=[SubscribedType(DELIVERED, 1), FAILED]
    )
    sub_sid = subscription.sid
    assert sub_sid is not None
    await client.subscriptions.fetch(sub_sid)
    await client.subscriptions.update(sub_sid, description="all receipts")
    await client.subscriptions.list(page_size=1).collect()
    await client.subscriptions.list(sink_sid=sid).collect()

    events = client.subscriptions.subscribed_events(sub_sid)
    await events.create(type="com.twilio.messaging.message.sent", schema_version=3)
    await events.list(page_size=2).collect()
    await events.fetch(DELIVERED)
    await events.update(DELIVERED, schema_version=4)
    await events.delete(FAILED)

    await client.subscriptions.delete(sub_sid)
    for sink in sinks:
        assert sink.sid is not None
        await client.sinks.delete(sink.sid)


def _request(exchange: Exchange) -> MockRequest:
    return MockRequest(
        "https://events.twilio.com",
        exchange.method.lower(),
        exchange.path,
        args=exchange.query,
        data=urlencode(exchange.form).encode() if exchange.method == "POST" else None,
        headers={"Authorization": basic_auth("AC" + "0" * 32, "the fake checked the token")},
        content_type="application/x-www-form-urlencoded",
    )


def _response(exchange: Exchange) -> MockResponse:
    content_type = "application/json" if exchange.body else None
    return MockResponse(exchange.body, status_code=exchange.status, content_type=content_type)


@pytest.fixture(scope="module")
def exchanges() -> list[Exchange]:
    async def record() -> list[Exchange]:
        async with FakeEventsServer(record=True) as fake, fake.client() as client:
            await _every_operation(fake, client)
            assert fake.exchanges is not None
            return fake.exchanges

    return asyncio.run(record())


def test_all_22_operations_were_exercised(exchanges: list[Exchange]) -> None:
    paths = yaml.safe_load((DATA / "twilio_events_v1.yaml").read_text())["paths"]
    exercised = {
        operation["operationId"]
        for exchange in exchanges
        for template, item in paths.items()
        if _matches(template, exchange.path)
        for method, operation in item.items()
        if method == exchange.method.lower()
    }
    assert len(exercised) == 22, sorted(exercised)


def _matches(template: str, path: str) -> bool:
    template_parts, path_parts = template.split("/"), path.split("/")
    return len(template_parts) == len(path_parts) and all(
        t.startswith("{") or t == p for t, p in zip(template_parts, path_parts, strict=True)
    )


def test_every_response_validates_against_the_spec(exchanges: list[Exchange]) -> None:
    spec = _spec()
    for exchange in exchanges:
        assert 200 <= exchange.status < 300, exchange
        spec.validate_response(_request(exchange), _response(exchange))


def test_every_request_the_client_sent_validates_against_the_spec(
    exchanges: list[Exchange],
) -> None:
    spec = _spec()
    for exchange in exchanges:
        spec.validate_request(_request(exchange))
