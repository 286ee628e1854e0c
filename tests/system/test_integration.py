"""Whole workflows: the client against the fake over loopback, as a user would run them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from events_async import (
    BadRequestError,
    EventsClient,
    NotFoundError,
    SinkStatus,
    SubscribedEvent,
    SubscribedType,
    WebhookSinkConfiguration,
)
from events_async.testing import FakeEventsServer

from ..support import serve

MESSAGE_TYPES = [
    "com.twilio.messaging.message.queued",
    "com.twilio.messaging.message.sent",
    "com.twilio.messaging.message.delivered",
    "com.twilio.messaging.message.undelivered",
    "com.twilio.messaging.message.failed",
]


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[str, asyncio.Queue[Any]]]:
    """A local receiver for the sink's events."""
    events: asyncio.Queue[Any] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        for event in await request.json():
            await events.put(event)
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/twilio/events", receive)
    async with serve(app) as origin:
        yield f"{origin}/twilio/events", events


async def test_webhook_sink_from_creation_to_deletion(
    webhook: tuple[str, asyncio.Queue[Any]],
) -> None:
    destination, received = webhook
    older = FakeEventsServer(webhooks_start_active=False)  # Test, then Validate: the long way
    async with older as fake, fake.client() as client:
        sink = await client.sinks.create(
            description="order updates",
            sink_type="webhook",
            sink_configuration=WebhookSinkConfiguration(destination),
        )
        assert sink.sid is not None
        assert sink.status is SinkStatus.INITIALIZED

        # An inactive sink cannot take subscriptions yet.
        with pytest.raises(BadRequestError, match="active sink"):
            await client.subscriptions.create(
                description="too early", sink_sid=sink.sid, types=MESSAGE_TYPES[:1]
            )

        await client.sinks.test(sink.sid)
        event = await received.get()
        assert event["type"] == "com.twilio.eventstreams.test-event"
        await client.sinks.validate(sink.sid, test_id=event["data"]["test_id"])
        assert (await client.sinks.fetch(sink.sid)).status is SinkStatus.ACTIVE

        subscription = await client.subscriptions.create(
            description="messaging",
            sink_sid=sink.sid,
            types=[SubscribedType(MESSAGE_TYPES[0], schema_version=2), *MESSAGE_TYPES[1:]],
        )
        assert subscription.sid is not None
        events = client.subscriptions.subscribed_events(subscription.sid)

        pages = [page async for page in events.list(page_size=2).pages()]
        assert [len(p.items) for p in pages] == [2, 2, 1]
        subscribed = [e for p in pages for e in p.items]
        assert [e.type for e in subscribed] == MESSAGE_TYPES
        assert subscribed[0].schema_version == 2
        assert all(isinstance(e, SubscribedEvent) for e in subscribed)

        await events.update(MESSAGE_TYPES[0], schema_version=5)
        assert (await events.fetch(MESSAGE_TYPES[0])).schema_version == 5
        await events.delete(MESSAGE_TYPES[-1])
        with pytest.raises(NotFoundError):
            await events.fetch(MESSAGE_TYPES[-1])
        added = await events.create(type=MESSAGE_TYPES[-1])
        assert added.schema_version == 5  # the latest when none is named

        renamed = await client.subscriptions.update(subscription.sid, description="all messaging")
        assert renamed.description == "all messaging"
        assert [s.sid for s in await client.subscriptions.list(sink_sid=sink.sid).collect()] == [
            subscription.sid
        ]
        assert (await client.sinks.update(sink.sid, description="orders")).description == "orders"

        await client.subscriptions.delete(subscription.sid)
        await client.sinks.delete(sink.sid)
        assert await client.subscriptions.list().collect() == []
        assert await client.sinks.list().collect() == []


async def test_moving_a_subscription_to_another_sink(fake_events: FakeEventsServer) -> None:
    async with fake_events.client() as client:
        sids = []
        for name in ("old", "new"):
            sink = await client.sinks.create(
                description=name,
                sink_type="segment",
                sink_configuration={"write_key": f"{name}-key"},
            )
            assert sink.sid is not None
            await client.sinks.test(sink.sid)
            test_id = fake_events.test_id(sink.sid)
            assert test_id is not None
            await client.sinks.validate(sink.sid, test_id=test_id)
            sids.append(sink.sid)

        subscription = await client.subscriptions.create(
            description="moves", sink_sid=sids[0], types=MESSAGE_TYPES[:2]
        )
        assert subscription.sid is not None
        moved = await client.subscriptions.update(subscription.sid, sink_sid=sids[1])
        assert moved.sink_sid == sids[1]
        assert await client.subscriptions.list(sink_sid=sids[0]).collect() == []


async def test_catalog_walk_event_types_to_schema_versions(fake_events: FakeEventsServer) -> None:
    async with fake_events.client() as client:
        event_type = await client.event_types.fetch("com.twilio.messaging.message.delivered")
        assert event_type.schema_id is not None
        schema = await client.schemas.fetch(event_type.schema_id)
        versions = await client.schemas.versions(schema.id or "").list().collect()
        assert [v.schema_version for v in versions] == list(
            range(1, (schema.latest_version or 0) + 1)
        )
        latest = await client.schemas.versions(schema.id or "").fetch(schema.latest_version or 1)
        assert latest.date_created == schema.latest_version_date_created


async def test_many_concurrent_creates_and_fetches(fake_events: FakeEventsServer) -> None:
    async with fake_events.client(max_concurrency=10) as client:
        created = await asyncio.gather(
            *(
                client.sinks.create(
                    description=f"sink {n}",
                    sink_type="kinesis",
                    sink_configuration={"arn": "a", "role_arn": "r", "external_id": f"{n}"},
                )
                for n in range(60)
            )
        )
        fetched = await asyncio.gather(*(client.sinks.fetch(s.sid or "") for s in created))
    assert [s.sid for s in fetched] == [s.sid for s in created]
    assert len(fake_events.account.sinks) == 60
    assert fake_events.request_count("POST /v1/Sinks") == 60


async def test_unicode_descriptions_survive_the_round_trip(fake_events: FakeEventsServer) -> None:
    text = "Événements · 事件 · 🚀 & ?=#%"
    async with fake_events.client() as client:
        sink = await client.sinks.create(
            description=text,
            sink_type="kinesis",
            sink_configuration={"arn": "a", "role_arn": "r", "external_id": "e"},
        )
        assert sink.sid is not None
        assert (await client.sinks.fetch(sink.sid)).description == text


async def test_an_injected_session_serves_two_accounts(fake_events: FakeEventsServer) -> None:
    second = fake_events.add_account()
    async with aiohttp.ClientSession() as session:
        clients: list[EventsClient] = [
            fake_events.client(session=session),
            fake_events.client(second, session=session),
        ]
        for n, client in enumerate(clients):
            await client.sinks.create(
                description=f"account {n}",
                sink_type="segment",
                sink_configuration={"write_key": "k"},
            )
        for client in clients:
            await client.close()
        assert not session.closed
    assert len(fake_events.account.sinks) == len(second.sinks) == 1
