"""Reliability against the fake: retries through faults, concurrency, cancellation, secrets;
no connection is kept by a timeout, a cancel or a break. (The retry policy request by
request: tests/unit/test_retry.py.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from events_async import (
    ApiError,
    AuthenticationError,
    EventsClient,
    EventsTimeoutError,
    ServerError,
    TransportError,
    _retry,
)
from events_async.testing import FakeEventsServer, Fault

from ..support import API_SECRET, AUTH_TOKEN, basic_auth, connections_in_use, counted_session

DELIVERED = "com.twilio.messaging.message.delivered"
SEGMENT = {"write_key": "k"}


@pytest.fixture(autouse=True)
def instant_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff waits of zero: these tests are about what is retried, not how long."""
    monkeypatch.setattr(_retry, "backoff_delay", lambda retry: 0.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeEventsServer]:
    async with FakeEventsServer(seed=7) as server:
        yield server


async def until(condition: Callable[[], bool], *, limit: float = 5.0) -> None:
    """Yield to the loop until `condition` holds (fail after `limit` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        assert loop.time() < deadline, "condition never held"
        await asyncio.sleep(0.001)


# --- retries through the fake's faults ------------------------------------------------


async def test_a_slow_response_times_out_and_frees_its_connection(fake: FakeEventsServer) -> None:
    fake.inject(Fault("GET /v1/Types/{Type}", delay=5.0, times=None))
    # the answer is slow, not the connection: a loaded machine may take over 0.1 s to connect
    slow_read = aiohttp.ClientTimeout(total=2, sock_connect=5, sock_read=0.2)
    async with (
        counted_session() as session,
        fake.client(session=session, max_retries=1, timeout=slow_read) as client,
    ):
        with pytest.raises(EventsTimeoutError):
            await client.event_types.fetch(DELIVERED)
        assert connections_in_use(session) == 0
    assert fake.request_count("GET /v1/Types/{Type}") == 2


async def test_a_create_answered_with_503_after_it_took_effect_is_not_repeated(
    fake: FakeEventsServer,
) -> None:
    fake.inject(Fault("POST /v1/Sinks", status=503, after=True))
    async with fake.client(max_retries=5) as client:
        with pytest.raises(ServerError):
            await client.sinks.create(
                description="once", sink_type="segment", sink_configuration=SEGMENT
            )
    assert len(fake.account.sinks) == 1
    assert fake.request_count("POST /v1/Sinks") == 1


# --- concurrency ----------------------------------------------------------------------


async def test_gather_over_10000_fetches_completes_within_the_pool(
    fake: FakeEventsServer,
) -> None:
    async with counted_session() as session, fake.client(session=session) as client:
        sink = await client.sinks.create(
            description="hot", sink_type="segment", sink_configuration=SEGMENT
        )
        assert sink.sid is not None
        results = await asyncio.gather(*(client.sinks.fetch(sink.sid) for _ in range(10_000)))
        assert connections_in_use(session) == 0
    assert len(results) == 10_000
    assert {r.sid for r in results} == {sink.sid}
    assert fake.peak_in_flight <= 100


async def test_max_concurrency_bounds_requests_in_flight(fake: FakeEventsServer) -> None:
    fake.inject(Fault(delay=0.01, times=None))
    async with fake.client(max_concurrency=7) as client:
        await asyncio.gather(*(client.event_types.fetch(DELIVERED) for _ in range(50)))
    assert fake.peak_in_flight == 7


# --- cancellation ---------------------------------------------------------------------


async def test_cancelling_requests_mid_flight_releases_every_connection(
    fake: FakeEventsServer,
) -> None:
    fake.inject(Fault("GET /v1/Types/{Type}", delay=30.0, times=None))
    async with counted_session() as session, fake.client(session=session) as client:
        tasks = [asyncio.create_task(client.event_types.fetch(DELIVERED)) for _ in range(20)]
        await until(lambda: fake.in_flight == 20)
        assert connections_in_use(session) == 20
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        assert connections_in_use(session) == 0
        fake.faults.clear()
        assert (await client.event_types.fetch(DELIVERED)).type == DELIVERED


async def test_cancelling_mid_iteration_releases_the_connection(fake: FakeEventsServer) -> None:
    async with counted_session() as session, fake.client(session=session) as client:
        await asyncio.gather(
            *(
                client.sinks.create(
                    description=f"s{n}", sink_type="segment", sink_configuration=SEGMENT
                )
                for n in range(6)
            )
        )
        first_page_read = asyncio.Event()

        async def consume() -> None:
            async for page in client.sinks.list(page_size=3).pages():
                fake.inject(Fault("GET /v1/Sinks", delay=30.0))
                first_page_read.set()
                assert page.items

        task = asyncio.create_task(consume())
        await first_page_read.wait()
        await until(lambda: fake.in_flight == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert connections_in_use(session) == 0


async def test_breaking_out_of_async_for_leaves_nothing_open(fake: FakeEventsServer) -> None:
    async with counted_session() as session, fake.client(session=session) as client:
        seen = 0
        async for event_type in client.event_types.list(page_size=5):
            seen += 1
            if event_type.type == "com.twilio.messaging.message.undelivered":
                break
        assert connections_in_use(session) == 0
    assert seen == 4
    assert fake.request_count("GET /v1/Types") == 1


# --- secrets --------------------------------------------------------------------------


async def test_no_secret_in_any_log_record_message_or_repr(
    fake: FakeEventsServer, caplog: pytest.LogCaptureFixture
) -> None:
    key, key_secret = fake.add_api_key()
    secrets = [
        fake.account.auth_token,
        key_secret,
        basic_auth(fake.account.sid, fake.account.auth_token),
        basic_auth(key, key_secret),
    ]
    texts: list[str] = []
    fake.inject(Fault(status=503, times=3))
    fake.inject(Fault("GET /v1/Sinks", drop=True, times=3))
    with caplog.at_level(logging.DEBUG):
        for client in (
            fake.client(max_retries=2),
            EventsClient(api_key=key, api_secret=key_secret, base_url=fake.url, max_retries=2),
        ):
            async with client:
                texts.append(repr(client))
                for call in (
                    client.event_types.fetch(DELIVERED),
                    client.sinks.list().collect(),
                    client.sinks.fetch("DG" + "0" * 32),
                ):
                    try:
                        await call
                    except Exception as error:
                        texts.extend([str(error), repr(error), repr(error.__cause__)])
        async with EventsClient(fake.account.sid, "wrong-token", base_url=fake.url) as stranger:
            with pytest.raises(AuthenticationError) as caught:
                await stranger.sinks.list().collect()
            texts.extend([str(caught.value), repr(caught.value)])
            secrets.append(basic_auth(fake.account.sid, "wrong-token"))

    texts.extend(record.getMessage() for record in caplog.records)
    texts.extend(str(record.args) for record in caplog.records)
    assert any("retry" in text for text in texts)
    assert any(isinstance(text, str) and "503" in text for text in texts)
    for secret in [*secrets, AUTH_TOKEN, API_SECRET, "wrong-token"]:
        assert not any(secret in text for text in texts), secret


# --- the soak -------------------------------------------------------------------------


async def test_soak_20000_requests_through_faults(
    fake: FakeEventsServer, record_property: Callable[[str, object], None]
) -> None:
    """20,000 calls (1,000 creates) with 5% 503s, 1% 429s and 1% dropped connections."""
    fake.account.max_sinks = 10_000
    faults = [
        fake.inject(Fault(status=503, probability=0.05, times=None)),
        fake.inject(Fault(status=429, retry_after=0.001, probability=0.01, times=None)),
        fake.inject(Fault(drop=True, probability=0.01, times=None)),
    ]
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with counted_session() as session, fake.client(session=session, max_retries=2) as client:
        seed = await client.sinks.create(
            description="seed", sink_type="segment", sink_configuration=SEGMENT
        )
        assert seed.sid is not None
        creates = [
            client.sinks.create(
                description=f"soak {n}", sink_type="segment", sink_configuration=SEGMENT
            )
            for n in range(1_000)
        ]
        fetches = [client.sinks.fetch(seed.sid) for _ in range(19_000)]
        outcomes = await asyncio.gather(*creates, *fetches, return_exceptions=True)
        assert connections_in_use(session) == 0
    elapsed = loop.time() - started

    unexpected = [
        o
        for o in outcomes
        if isinstance(o, BaseException) and not isinstance(o, (ApiError, TransportError))
    ]
    assert unexpected == []
    created = [o for o in outcomes[:1_000] if not isinstance(o, BaseException)]
    descriptions = [s.description for s in fake.account.sinks.values()]
    assert len(descriptions) == len(set(descriptions)), "a create was duplicated"
    assert {s.sid for s in created} <= set(fake.account.sinks)
    failed_fetches = sum(isinstance(o, BaseException) for o in outcomes[1_000:])
    requests = fake.request_count() - 1
    figures = {
        "calls": len(outcomes),
        "requests": requests,
        "retries": requests - len(outcomes),
        "faults_503": faults[0].fired,
        "faults_429": faults[1].fired,
        "faults_dropped": faults[2].fired,
        "creates_ok": len(created),
        "creates_failed": 1_000 - len(created),
        "fetches_failed": failed_fetches,
        "sinks_in_fake": len(fake.account.sinks) - 1,
        "seconds": round(elapsed, 2),
    }
    record_property("soak", figures)
    print("soak figures:", figures)
    assert figures["retries"] > 0
    assert len(created) == len(fake.account.sinks) - 1  # no create took effect unanswered
    assert failed_fetches < 19_000 * 0.01
