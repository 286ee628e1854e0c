"""The public transport layer: `Request`, `Response`, `MockTransport`, `AiohttpTransport`,
and what `EventsClient(transport=…, limiter=…)` does with them."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from yarl import URL

from events_async import (
    AiohttpTransport,
    ClientClosedError,
    EventsClient,
    InvalidRequestError,
    MockTransport,
    RateLimitError,
    Request,
    Response,
    ResponseDecodeError,
    TransportError,
)
from events_async._slots import Slots
from events_async._transport import Policy

from ..support import ACCOUNT_SID, AUTH_TOKEN, SINK_SID, basic_auth

SINK = {"sid": SINK_SID, "description": "d", "sink_type": "kinesis", "status": "active"}
EMPTY_LIST = {"sinks": [], "meta": {"key": "sinks", "next_page_url": None}}


def mock_client(handler: Any, **options: Any) -> EventsClient:
    return EventsClient(ACCOUNT_SID, AUTH_TOKEN, transport=MockTransport(handler), **options)


async def test_a_mock_handler_sees_the_request_as_sent_and_its_answer_is_decoded() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(201, json=SINK)

    async with mock_client(handler) as client:
        sink = await client.sinks.update(SINK_SID, description="new & improved")
    assert sink.sid == SINK_SID
    (request,) = seen
    assert (request.method, str(request.url)) == (
        "POST",
        f"https://events.twilio.com/v1/Sinks/{SINK_SID}",
    )
    assert request.form() == [("Description", "new & improved")]
    assert request.headers["Authorization"] == basic_auth(ACCOUNT_SID, AUTH_TOKEN)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


async def test_an_async_handler_is_awaited() -> None:
    async def handler(request: Request) -> Response:
        await asyncio.sleep(0)
        return Response(200, json=EMPTY_LIST)

    async with mock_client(handler) as client:
        assert await client.sinks.list().collect() == []


async def test_a_handler_that_returns_no_response_is_a_type_error() -> None:
    async with mock_client(lambda request: {"sinks": []}) as client:
        with pytest.raises(TypeError, match="must return a Response"):
            await client.sinks.list().collect()


def test_response_headers_are_case_insensitive_and_retry_after_read_on_errors_only() -> None:
    assert Response(429, headers={"retry-after": "3"}).retry_after == "3"
    assert Response(200, headers={"Retry-After": "3"}).retry_after is None
    assert Response(204).body == b""
    assert Response(200, json={"a": 1}).body == b'{"a":1}'
    assert "secret" not in repr(Response(200, body=b"secret"))


async def test_a_rate_limit_from_a_mock_reads_its_retry_after() -> None:
    def handler(request: Request) -> Response:
        return Response(429, headers={"retry-after": "7"}, json={"code": 20429, "status": 429})

    async with mock_client(handler, max_retries=0) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.sinks.fetch(SINK_SID)
    assert caught.value.retry_after == 7


async def test_a_failure_raised_by_the_transport_is_retried_by_the_policy() -> None:
    calls = 0

    def handler(request: Request) -> Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise aiohttp.ServerDisconnectedError()
        if calls == 2:
            return Response(503, headers={"Retry-After": "0"}, json={"status": 503})
        return Response(200, json=SINK)

    async with mock_client(handler, max_retries=2) as client:
        assert (await client.sinks.fetch(SINK_SID)).sid == SINK_SID
    assert calls == 3


async def test_a_dropped_connection_on_a_post_is_not_resent() -> None:
    calls = 0

    def handler(request: Request) -> Response:
        nonlocal calls
        calls += 1
        raise aiohttp.ServerDisconnectedError()

    async with mock_client(handler, max_retries=2) as client:
        with pytest.raises(TransportError):
            await client.sinks.update(SINK_SID, description="x")
    assert calls == 1


async def test_the_body_cap_holds_for_any_transport() -> None:
    big = Response(200, body=b'{"sid": "' + b"x" * 2048 + b'"}')
    async with mock_client(lambda request: big, max_response_bytes=1024) as client:
        with pytest.raises(ResponseDecodeError, match="1024-byte limit"):
            await client.sinks.fetch(SINK_SID)


async def test_an_injected_transport_is_used_and_never_closed() -> None:
    class Closable(MockTransport):
        closed = False

        async def aclose(self) -> None:
            self.closed = True

    transport = Closable(lambda request: Response(200, json=SINK))
    client = EventsClient(ACCOUNT_SID, AUTH_TOKEN, transport=transport)
    assert client.transport is transport
    await client.sinks.fetch(SINK_SID)
    await client.close()
    assert not transport.closed
    with pytest.raises(ClientClosedError):
        await client.sinks.fetch(SINK_SID)


@pytest.mark.parametrize(
    "options",
    [{"timeout": 5.0}, {"transport": object()}, {"limiter": 3}],
)
def test_options_that_cannot_go_with_the_transport_are_refused(options: dict[str, Any]) -> None:
    options.setdefault("transport", MockTransport(lambda request: Response(204)))
    with pytest.raises(InvalidRequestError):
        EventsClient(ACCOUNT_SID, AUTH_TOKEN, **options)


async def test_a_session_cannot_come_with_a_transport() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(InvalidRequestError, match="session"):
            EventsClient(
                ACCOUNT_SID,
                AUTH_TOKEN,
                session=session,
                transport=MockTransport(lambda request: Response(204)),
            )


async def test_the_default_transport_is_aiohttp_and_holds_the_session_options() -> None:
    async with aiohttp.ClientSession() as session:
        client = EventsClient(ACCOUNT_SID, AUTH_TOKEN, session=session, timeout=4.0)
        transport = client.transport
        assert isinstance(transport, AiohttpTransport)
        assert transport.session is session
        assert not transport.owns_session
        assert transport.timeout.total == 4.0
        assert transport.pool_size == 100  # aiohttp's default connector
        await client.close()
        assert not session.closed  # an injected session is the caller's
    own = EventsClient(ACCOUNT_SID, AUTH_TOKEN).transport
    assert isinstance(own, AiohttpTransport)
    assert own.owns_session
    assert own.session is None


async def test_a_limiter_caps_requests_in_flight_across_clients() -> None:
    in_flight = peak = 0
    release, full = asyncio.Event(), asyncio.Event()

    async def handler(request: Request) -> Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 2:
            full.set()
        await release.wait()
        in_flight -= 1
        return Response(200, json=SINK)

    limiter = asyncio.Semaphore(2)
    clients = [mock_client(handler, limiter=limiter) for _ in range(3)]
    assert all(client.limiter is limiter for client in clients)
    fetches = [asyncio.create_task(c.sinks.fetch(SINK_SID)) for c in clients for _ in range(2)]
    await full.wait()
    for _ in range(10):  # give any request that could slip past the cap the chance to
        await asyncio.sleep(0)
    assert in_flight == 2
    release.set()
    await asyncio.gather(*fetches)
    assert peak == 2
    for client in clients:
        await client.close()


async def test_a_limiter_is_not_held_while_a_request_waits_out_a_rate_limit() -> None:
    limiter = asyncio.Semaphore(1)
    answered = asyncio.Event()

    def paused(request: Request) -> Response:
        answered.set()
        return Response(429, headers={"Retry-After": "30"}, json={"status": 429})

    async with (
        mock_client(paused, limiter=limiter, max_retries=1) as first,
        mock_client(lambda request: Response(200, json=SINK), limiter=limiter) as second,
    ):
        rate_limited = asyncio.create_task(first.sinks.fetch(SINK_SID))
        await answered.wait()  # first is paused for 30 s
        held = asyncio.create_task(first.sinks.fetch(SINK_SID))  # waits at first's gate
        await asyncio.sleep(0)
        assert (await second.sinks.fetch(SINK_SID)).sid == SINK_SID  # the limiter was free
        assert not held.done()
        assert not rate_limited.done()
        for task in (held, rate_limited):
            task.cancel()
        await asyncio.gather(held, rate_limited, return_exceptions=True)


# --- the client's own cap (events_async._slots) and its URLs --------------------------


async def test_the_cap_serves_waiters_first_come_first_served() -> None:
    slots = Slots(2)
    order: list[int] = []

    async def holder(n: int, release: asyncio.Event) -> None:
        await slots.take()
        order.append(n)
        await release.wait()
        slots.give()

    releases = [asyncio.Event() for _ in range(5)]
    tasks = [asyncio.create_task(holder(n, releases[n])) for n in range(5)]
    await asyncio.sleep(0)
    assert (order, slots.held) == ([0, 1], 2)
    assert not slots.take_now()  # full: a newcomer waits its turn
    for n in range(5):
        releases[n].set()
        await asyncio.sleep(0.01)
    await asyncio.gather(*tasks)
    assert (order, slots.held) == ([0, 1, 2, 3, 4], 0)


async def test_a_waiter_cancelled_in_line_leaves_no_slot_taken() -> None:
    slots = Slots(1)
    await slots.take()
    waiting = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    assert slots.waiting == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert slots.waiting == 0  # out of the line at once, not when a slot comes back
    slots.give()
    assert slots.held == 0
    assert slots.take_now()  # the free slot is not held back for the cancelled one


async def test_a_waiter_cancelled_once_handed_a_slot_passes_it_on() -> None:
    slots = Slots(1)
    await slots.take()
    first = asyncio.create_task(slots.take())
    second = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    slots.give()  # the slot goes to `first`...
    first.cancel()  # ... cancelled before it runs: `second` must get it
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)
    assert slots.held == 1
    slots.give()
    assert slots.held == 0


async def test_a_request_cancelled_while_it_waits_for_the_cap_frees_nothing_it_did_not_hold() -> (
    None
):
    gate = asyncio.Event()
    in_flight = 0
    peak = 0

    async def handler(request: Request) -> Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await gate.wait()
        in_flight -= 1
        return Response(200, json=SINK)

    async with mock_client(handler, max_concurrency=1) as client:
        requests = [asyncio.create_task(client.sinks.fetch(SINK_SID)) for _ in range(3)]
        await asyncio.sleep(0.01)
        requests[1].cancel()  # waiting behind the first for the one slot
        gate.set()
        assert [s.sid for s in await asyncio.gather(requests[0], requests[2])] == [SINK_SID] * 2
        assert requests[1].cancelled()
        assert (await client.sinks.fetch(SINK_SID)).sid == SINK_SID
    assert peak == 1


def test_path_parents_are_encoded_the_same_once_kept() -> None:
    policy = Policy(
        MockTransport(lambda request: Response(200)),
        base_url=URL("https://events.twilio.com/base"),
        authorization="Basic x",
        user_agent="test",
        max_retries=0,
        max_concurrency=None,
    )
    for _ in range(2):  # the second time from what the first kept
        assert str(policy.url_for("v1", "a/b", "..", "c d")) == (
            "https://events.twilio.com/base/v1/a%2Fb/%2E%2E/c%20d"
        )
        assert str(policy.url_for("v1", "Sinks")) == "https://events.twilio.com/base/v1/Sinks"
    assert str(policy.url_for()) == "https://events.twilio.com/base/"
    with pytest.raises(InvalidRequestError):
        policy.url_for("v1", "", "Sinks")
