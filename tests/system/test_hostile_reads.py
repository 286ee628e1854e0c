"""Rule: an attempt's answer keeps moving. Its head comes within the read timeout of the
attempt's start, then no read timeout passes without a chunk of its body; all of it within
the total. A read that stalls is `EventsTimeoutError` ("Timeout on reading data from
socket"), the total one too ("TimeoutError"); a caller's cancel stays a cancel.

The transport keeps these deadlines itself, with one timer for every attempt in flight
(aiohttp's `sock_read` re-armed a timer on every chunk received). Elapsed-time bounds are
correctness bounds, loose enough for a loaded machine; no speed is asserted.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import aiohttp
import pytest

from events_async import EventsTimeoutError

from ..hostile import PAGE_JSON, head, json_response, raw_server, read_request
from ..support import SINK_SID, loopback_client

READ = 0.3  # the read timeout of these tests: short, so they run fast
STALLED = "Timeout on reading data from socket"


def limits(*, total: float = 5.0, read: float = READ) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=total, sock_connect=5, sock_read=read)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the request, answer nothing."""
    await read_request(reader)
    await asyncio.Event().wait()


def part_then_silence(
    head_bytes: bytes, body: bytes
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    async def conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(head_bytes + body)
        await writer.drain()
        await asyncio.Event().wait()

    return conversation


def drip(
    head_bytes: bytes, pieces: Iterable[bytes], interval: float
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    """`head_bytes` at once, then each of `pieces` `interval` seconds after the last."""

    async def conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(head_bytes)
        await writer.drain()
        for piece in pieces:
            await asyncio.sleep(interval)
            writer.write(piece)
            await writer.drain()
        await asyncio.Event().wait()  # keep-alive: the client decides when it is done

    return conversation


PAGE_HEAD = head(Content_Type="application/json", Content_Length=len(PAGE_JSON))
CHUNKED_HEAD = head(Content_Type="application/json", Transfer_Encoding="chunked")


def one_byte_each(body: bytes) -> Iterator[bytes]:
    return (body[i : i + 1] for i in range(len(body)))


def one_chunk_each(body: bytes) -> Iterator[bytes]:
    """`body` in chunked encoding, a chunk a byte (the last with the terminator)."""
    for i in range(len(body) - 1):
        yield b"1\r\n%s\r\n" % body[i : i + 1]
    yield b"1\r\n%s\r\n0\r\n\r\n" % body[-1:]


async def test_a_server_silent_before_its_head_times_out_after_the_read_timeout() -> None:
    async with (
        raw_server(silent) as url,
        loopback_client(url, timeout=limits(total=30)) as client,
    ):
        started = time.monotonic()
        with pytest.raises(EventsTimeoutError, match=STALLED):
            await client.sinks.fetch(SINK_SID)
        assert READ <= time.monotonic() - started < 5


async def test_a_head_trickled_within_the_read_timeout_still_times_out_after_it() -> None:
    # Each byte of the head arrives within the read timeout: the head as a whole must
    # still be in within it (aiohttp's sock_read let this run to the total).
    trickle = drip(b"HTTP/1.1 200 OK\r\n", one_byte_each(b"X-Slow: " + b"a" * 100), READ / 3)
    async with (
        raw_server(trickle) as url,
        loopback_client(url, timeout=limits(total=30)) as client,
    ):
        started = time.monotonic()
        with pytest.raises(EventsTimeoutError, match=STALLED):
            await client.sinks.fetch(SINK_SID)
        assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("head_bytes", "partial"),
    [(PAGE_HEAD, PAGE_JSON[:10]), (CHUNKED_HEAD, b"%x\r\n%s" % (len(PAGE_JSON), PAGE_JSON[:10]))],
    ids=["content-length", "chunked"],
)
async def test_a_body_that_stalls_midway_times_out_after_the_read_timeout(
    head_bytes: bytes, partial: bytes
) -> None:
    async with (
        raw_server(part_then_silence(head_bytes, partial)) as url,
        loopback_client(url, timeout=limits(total=30)) as client,
    ):
        started = time.monotonic()
        with pytest.raises(EventsTimeoutError, match=STALLED):
            await client.sinks.list().collect()
        assert READ <= time.monotonic() - started < 5


@pytest.mark.parametrize("encoding", ["content-length", "chunked"])
async def test_a_body_dripped_just_under_the_read_timeout_is_read_to_the_end(
    encoding: str,
) -> None:
    # Its last 8 bytes a byte every 0.2 s for a 0.3 s read timeout: over five read
    # timeouts in all, and read to the end, as the total allows.
    interval = READ * 2 / 3
    if encoding == "chunked":
        start = CHUNKED_HEAD + b"%x\r\n%s\r\n" % (len(PAGE_JSON) - 8, PAGE_JSON[:-8])
        rest = one_chunk_each(PAGE_JSON[-8:])
    else:
        start, rest = PAGE_HEAD + PAGE_JSON[:-8], one_byte_each(PAGE_JSON[-8:])
    async with (
        raw_server(drip(start, rest, interval)) as url,
        loopback_client(url, timeout=limits(total=30)) as client,
    ):
        started = time.monotonic()
        assert await client.sinks.list().collect() == []
        assert time.monotonic() - started >= 8 * interval - 0.05


async def test_a_body_dripped_forever_under_the_read_timeout_ends_at_the_total() -> None:
    total = 4 * READ
    endless = drip(
        head(Content_Type="application/json", Content_Length=10**6),
        one_byte_each(b" " * 10**6),
        READ / 2,
    )
    async with (
        raw_server(endless) as url,
        loopback_client(url, timeout=limits(total=total)) as client,
    ):
        started = time.monotonic()
        with pytest.raises(EventsTimeoutError) as raised:
            await client.sinks.list().collect()
        elapsed = time.monotonic() - started
    assert STALLED not in str(raised.value)  # the total, not a read
    assert total <= elapsed < total + 5


async def test_a_cancel_before_the_head_stays_a_cancel() -> None:
    async with (
        raw_server(silent) as url,
        loopback_client(url, timeout=limits(total=30, read=10)) as client,
    ):
        request = asyncio.ensure_future(client.sinks.fetch(SINK_SID))
        await asyncio.sleep(READ)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request


class _CancelledTwice(asyncio.Task):  # type: ignore[type-arg]
    """A task whose first cancel (the read deadline's) is followed by the caller's own at
    once, in the same loop iteration."""

    seen = 0

    def cancel(self, msg: Any = None) -> bool:
        type(self).seen += 1
        done = super().cancel(msg)
        if type(self).seen == 1:
            super().cancel(msg)
        return done


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 has no Task.uncancel")
async def test_a_cancel_at_the_deadline_stays_a_cancel() -> None:
    loop = asyncio.get_running_loop()
    async with (
        raw_server(silent) as url,
        loopback_client(url, timeout=limits(total=30)) as client,
    ):
        factory = loop.get_task_factory()
        loop.set_task_factory(lambda loop, coro, **kw: _CancelledTwice(coro, loop=loop, **kw))
        try:
            request = asyncio.ensure_future(client.sinks.fetch(SINK_SID))
        finally:
            loop.set_task_factory(factory)
        with pytest.raises(asyncio.CancelledError):
            await request
        assert _CancelledTwice.seen >= 1


async def keep_alive_pages(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await read_request(reader)
        writer.write(json_response(PAGE_JSON))
        await writer.drain()


async def test_requests_arm_no_timer_each() -> None:
    # aiohttp armed three timers a request: its total, and sock_read at the send and again
    # on the answer; the transport arms one for all of them (or none, if one is set).
    loop = asyncio.get_running_loop()
    armed: list[float] = []
    call_at = loop.call_at

    def counting(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        armed.append(when)
        return call_at(when, *args, **kwargs)

    async with raw_server(keep_alive_pages) as url, loopback_client(url) as client:
        await client.sinks.list().collect()  # connected: the pool's timers are not ours
        loop.call_at = counting  # type: ignore[method-assign, assignment]
        try:
            for _ in range(50):
                await client.sinks.list().collect()
        finally:
            del loop.call_at
    assert len(armed) <= 2


async def test_a_client_closed_on_an_injected_session_keeps_deadlines_in_flight() -> None:
    # The injected session stays open when the client closes, and so does the request
    # already on it: it must still end at its read deadline, not hang on a silent server.
    async with raw_server(silent) as url, aiohttp.ClientSession() as session:
        client = loopback_client(url, timeout=limits(total=30), session=session)
        request = asyncio.ensure_future(client.sinks.fetch(SINK_SID))
        await asyncio.sleep(READ / 3)  # on the wire, waiting for the head
        await client.close()
        done, _ = await asyncio.wait([request], timeout=5)
        if not done:
            request.cancel()
        assert done, "the request in flight lost its deadlines when the client closed"
        with pytest.raises(EventsTimeoutError, match=STALLED):
            await request


async def test_a_head_due_at_the_total_as_well_is_the_totals_timeout() -> None:
    # `timeout=seconds` sets the total and the read alike: before the head both fall due
    # at once, and the attempt ends as the total ("TimeoutError"), as aiohttp's did.
    async with raw_server(silent) as url, loopback_client(url, timeout=READ) as client:
        with pytest.raises(EventsTimeoutError, match=r"timed out: TimeoutError$"):
            await client.sinks.fetch(SINK_SID)
