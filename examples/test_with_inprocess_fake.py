"""A user's test against the stateful fake, in process: `fake.transport()` answers
through the fake's own handlers without a socket, so the fake need not be started."""

import pytest

from events_async import EventsClient
from events_async.testing import FakeEventsServer


async def make_stream(client: EventsClient, destination: str) -> str:
    """The code under test: a webhook sink and a subscription to it."""
    sink = await client.sinks.create(
        description="orders",
        sink_type="webhook",
        sink_configuration={"destination": destination, "method": "POST"},
    )
    subscription = await client.subscriptions.create(
        description="orders", sink_sid=sink.sid, types=["com.twilio.messaging.message.sent"]
    )
    return subscription.sid


@pytest.mark.asyncio
async def test_makes_a_stream_in_process() -> None:
    fake = FakeEventsServer()
    async with fake.client(transport=fake.transport()) as client:
        sid = await make_stream(client, "https://example.com/events")
        events = await client.subscriptions.subscribed_events(sid).list().collect()
    assert [event.type for event in events] == ["com.twilio.messaging.message.sent"]
    assert fake.request_count("POST *") == 2
    await fake.stop()
