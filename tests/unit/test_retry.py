"""The retry policy (pure, table-driven) and the transport applying it over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import attrs
import pytest
from aiohttp import web

from events_async import (
    EventsTimeoutError,
    RateLimitError,
    ServerError,
    TransportError,
    _retry,
)
from events_async._retry import Failure, backoff_delay, parse_retry_after, should_retry

from ..support import AUTH_TOKEN, SINK_SID, loopback_client, serve

# --- the policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "failure", "status", "retried"),
    [
        ("GET", Failure.CONNECT, None, True),
        ("GET", Failure.TIMEOUT, None, True),
        ("GET", Failure.DISCONNECT, None, True),
        ("DELETE", Failure.TIMEOUT, None, True),
        ("POST", Failure.CONNECT, None, True),
        ("POST", Failure.TIMEOUT, None, False),
        ("POST", Failure.DISCONNECT, None, False),
        ("GET", Failure.STATUS, 429, True),
        ("GET", Failure.STATUS, 500, True),
        ("GET", Failure.STATUS, 502, True),
        ("GET", Failure.STATUS, 503, True),
        ("GET", Failure.STATUS, 504, True),
        ("DELETE", Failure.STATUS, 503, True),
        ("GET", Failure.STATUS, 501, False),
        ("GET", Failure.STATUS, 400, False),
        ("GET", Failure.STATUS, 404, False),
        ("POST", Failure.STATUS, 429, True),
        ("POST", Failure.STATUS, 500, False),
        ("POST", Failure.STATUS, 503, False),
        ("post", Failure.STATUS, 429, True),
    ],
)
def test_what_is_retried(method: str, failure: Failure, status: int | None, retried: bool) -> None:
    assert should_retry(method, failure, status) is retried


@pytest.mark.parametrize(
    ("retry", "low", "high"),
    [(1, 0.25, 0.5), (2, 0.5, 1.0), (3, 1.0, 2.0), (5, 4.0, 8.0), (6, 4.0, 8.0), (30, 4.0, 8.0)],
)
def test_backoff_doubles_with_jitter_under_a_cap(retry: int, low: float, high: float) -> None:
    assert backoff_delay(retry, rand=lambda: 0.0) == low
    assert backoff_delay(retry, rand=lambda: 1.0) == high
    assert low <= backoff_delay(retry) <= high


NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("3", 3.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-4", 0.0),
        ("600", 60.0),
        (format_datetime(NOW + timedelta(seconds=7), usegmt=True), 7.0),
        (format_datetime(NOW - timedelta(seconds=7), usegmt=True), 0.0),
        ("Sun, 22 Nov 2026 12:00:05", 5.0),
        (format_datetime(NOW + timedelta(hours=1), usegmt=True), 60.0),
    ],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


# --- the transport applying it ------------------------------------------------------------


@attrs.define
class Script:
    """A loopback server answering each request with the next scripted step."""

    steps: list[str]
    seen: list[tuple[str, float]] = attrs.field(factory=list)
    release: asyncio.Event = attrs.field(factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, asyncio.get_running_loop().time()))
        step = self.steps.pop(0) if self.steps else "200"
        if step == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if step == "hang":
            await self.release.wait()
        if step.startswith("429"):
            retry_after = step.partition(":")[2] or "0"
            return web.json_response(
                {"code": 20429, "message": "Too Many Requests", "status": 429},
                status=429,
                headers={"Retry-After": retry_after},
            )
        status = int(step) if step.isdigit() else 200
        if status >= 400:
            return web.json_response({"code": 20000 + status, "message": "no"}, status=status)
        return web.json_response({"sid": SINK_SID, "description": "ok"}, status=status)


@pytest.fixture
def instant_backoff(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Backoff waits of zero, recording which retry each was for."""
    retries: list[int] = []

    def no_wait(retry: int) -> float:
        retries.append(retry)
        return 0.0

    monkeypatch.setattr(_retry, "backoff_delay", no_wait)
    return retries


Start = Callable[[Script], Awaitable[str]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """Starts a scripted loopback server and returns its origin; all stop at teardown."""
    async with contextlib.AsyncExitStack() as stack:
        scripts: list[Script] = []

        async def start_script(script: Script) -> str:
            app = web.Application()
            app.router.add_route("*", "/v1/Sinks/{sid}", script.handle)
            scripts.append(script)
            return await stack.enter_async_context(serve(app))

        yield start_script
        for script in scripts:
            script.release.set()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="events_async"):
        yield caplog


async def test_get_retries_429_then_503_then_succeeds(
    start: Start, instant_backoff: list[int], debug_logs: pytest.LogCaptureFixture
) -> None:
    script = Script(["429:0", "503", "200"])
    origin = await start(script)
    async with loopback_client(origin, max_retries=2) as client:
        sink = await client.sinks.fetch(SINK_SID)

    assert sink.description == "ok"
    assert len(script.seen) == 3
    assert instant_backoff == [2]  # the 429 waited its Retry-After instead
    retry_lines = [r.getMessage() for r in debug_logs.records if "retry" in r.getMessage()]
    assert len(retry_lines) == 2
    assert all(AUTH_TOKEN not in line for line in debug_logs.messages)


async def test_retries_run_out_and_the_last_error_is_raised(
    start: Start, instant_backoff: list[int]
) -> None:
    script = Script(["503", "503", "429:0", "200"])
    origin = await start(script)
    async with loopback_client(origin, max_retries=2) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.sinks.fetch(SINK_SID)

    assert caught.value.retry_after == 0.0
    assert len(script.seen) == 3


async def test_max_retries_zero_disables_retries(start: Start, instant_backoff: list[int]) -> None:
    script = Script(["503", "200"])
    origin = await start(script)
    async with loopback_client(origin, max_retries=0) as client:
        with pytest.raises(ServerError):
            await client.sinks.fetch(SINK_SID)
    assert len(script.seen) == 1


async def test_post_is_never_retried_on_5xx(start: Start, instant_backoff: list[int]) -> None:
    script = Script(["503", "200"])
    origin = await start(script)
    async with loopback_client(origin, max_retries=2) as client:
        with pytest.raises(ServerError):
            await client.sinks.update(SINK_SID, description="x")
    assert script.seen[0][0] == "POST"
    assert len(script.seen) == 1


async def test_post_is_retried_on_429(start: Start, instant_backoff: list[int]) -> None:
    script = Script(["429:0", "200"])
    origin = await start(script)
    async with loopback_client(origin, max_retries=2) as client:
        await client.sinks.update(SINK_SID, description="x")
    assert len(script.seen) == 2


async def test_a_dropped_connection_is_retried_for_get_only(
    start: Start, instant_backoff: list[int]
) -> None:
    script = Script(["drop", "200", "drop", "200"])
    origin = await start(script)
    async with loopback_client(origin, max_retries=2) as client:
        assert (await client.sinks.fetch(SINK_SID)).description == "ok"
        with pytest.raises(TransportError):
            await client.sinks.update(SINK_SID, description="x")
    assert [method for method, _ in script.seen] == ["GET", "GET", "POST"]


async def test_a_slow_response_times_out_and_get_retries(
    start: Start, instant_backoff: list[int]
) -> None:
    script = Script(["hang", "hang", "200"])
    origin = await start(script)
    async with loopback_client(origin, max_retries=1, timeout=0.2) as client:
        with pytest.raises(EventsTimeoutError, match="timed out"):
            await client.sinks.fetch(SINK_SID)
    assert len(script.seen) == 2


async def test_a_slow_post_times_out_without_retry(
    start: Start, instant_backoff: list[int]
) -> None:
    script = Script(["hang", "200"])
    origin = await start(script)
    async with loopback_client(origin, max_retries=2, timeout=0.2) as client:
        with pytest.raises(EventsTimeoutError):
            await client.sinks.update(SINK_SID, description="x")
    assert len(script.seen) == 1


async def test_connection_refused_is_retried_even_for_post(
    start: Start, instant_backoff: list[int]
) -> None:
    async with serve(web.Application()) as closed_origin:
        pass  # once closed, nothing listens on its port
    async with loopback_client(closed_origin, max_retries=2) as client:
        with pytest.raises(TransportError) as caught:
            await client.sinks.update(SINK_SID, description="x")
    assert not isinstance(caught.value, EventsTimeoutError)
    assert instant_backoff == [1, 2]


class _PauseSeen(logging.Handler):
    """Sets an event when the transport logs that it pauses for a rate limit."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.paused = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "pausing every request" in record.getMessage():
            self.paused.set()


async def test_a_429_pauses_every_request_of_the_client(start: Start) -> None:
    script = Script(["429:0.3"])
    origin = await start(script)
    pause_seen = _PauseSeen()
    logger = logging.getLogger("events_async")
    logger.addHandler(pause_seen)
    logger.setLevel(logging.DEBUG)
    try:
        async with loopback_client(origin, max_retries=1) as client:
            first = asyncio.create_task(client.sinks.fetch(SINK_SID))
            await pause_seen.paused.wait()
            await asyncio.gather(first, *(client.sinks.fetch(SINK_SID) for _ in range(5)))
    finally:
        logger.removeHandler(pause_seen)
        logger.setLevel(logging.NOTSET)

    rate_limited_at = script.seen[0][1]
    later = [at for _, at in script.seen[1:]]
    assert len(later) == 6
    assert all(at - rate_limited_at >= 0.3 for at in later)
