"""A user's unit test with `MockTransport`: no server, no socket. The handler sees each
request as it goes on the wire and answers it; here it plays Twilio once rate-limiting."""

import pytest

from events_async import EventsClient, MockTransport, Request, Response

SINK = {"sid": "DG" + "0" * 32, "description": "orders", "sink_type": "webhook"}


async def describe_first_sink(client: EventsClient) -> str:
    """The code under test."""
    async for sink in client.sinks.list(limit=1):
        return sink.description or "(no description)"
    return "no sinks"


@pytest.mark.asyncio
async def test_describes_the_first_sink_after_a_rate_limit() -> None:
    seen: list[Request] = []

    def twilio(request: Request) -> Response:
        seen.append(request)
        if len(seen) == 1:
            return Response(429, headers={"Retry-After": "0"}, json={"code": 20429})
        return Response(200, json={"sinks": [SINK], "meta": {"key": "sinks"}})

    transport = MockTransport(twilio)
    async with EventsClient("AC" + "0" * 32, "token", transport=transport) as client:
        assert await describe_first_sink(client) == "orders"
    assert [request.url.query["PageSize"] for request in seen] == ["1", "1"]  # retried
