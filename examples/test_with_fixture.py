"""A user's test with the installed `fake_events` fixture, in pytest-asyncio's default
(strict) mode: the `asyncio` mark is all it needs."""

import pytest

from events_async.testing import FakeEventsServer


@pytest.mark.asyncio
async def test_lists_no_sinks(fake_events: FakeEventsServer) -> None:
    async with fake_events.client() as client:
        assert await client.sinks.list().collect() == []
