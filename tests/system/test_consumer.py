"""StreamConsumer, the worker side of the hand-off, against a real redis-server."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from contextlib import AsyncExitStack
from typing import Any

import pytest
import redis.asyncio as aioredis

from events_async.errors import InvalidRequestError, StoreError
from events_async.models import CloudEvent
from events_async.webhooks.consumer import StreamConsumer, StreamMessage
from events_async.webhooks.stream import RedisStream, StreamEntry

from ..redis_server import RedisServer
from .test_stream import TYPE, entry, payload, wait_until

KEY = "{events_async:events}"
DEAD = "{events_async:events}:dead"
FAST = {"block": 0.05, "idle": 0.2}


@pytest.fixture
def client(redis_client: aioredis.Redis) -> aioredis.Redis:
    """Named `client` here: every test of this file talks to Redis."""
    return redis_client


@pytest.fixture
def stream(client: aioredis.Redis) -> RedisStream:
    return RedisStream(client)


async def read_some(consumer: StreamConsumer, timeout: float = 5.0) -> list[StreamMessage]:
    """The next non-empty batch, polling the stream until the deadline."""
    deadline = time.monotonic() + timeout
    while not (batch := await consumer.read()):
        assert time.monotonic() < deadline, "nothing was delivered in time"
    return batch


async def next_message(consumer: StreamConsumer) -> StreamMessage:
    """The iterator's next message, or a failure after a deadline (never a hang)."""
    return await asyncio.wait_for(anext(consumer), 5)


async def pending(client: aioredis.Redis) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await client.xpending_range(KEY, "events_async", "-", "+", 100)
    return rows


async def dead_letters(client: aioredis.Redis) -> list[dict[bytes, bytes]]:
    return [fields for _, fields in await client.xrange(DEAD)]


async def test_entries_from_before_the_group_are_read_and_ack_removes_them(
    client: aioredis.Redis, stream: RedisStream
) -> None:
    await stream.enqueue([entry("EZ1"), entry("EZ2")])
    assert await client.exists(KEY)
    assert not await client.xinfo_groups(KEY)
    consumer = StreamConsumer(client, consumer="w1", **FAST)
    first, second = [await next_message(consumer), await next_message(consumer)]
    assert (first.event_id, first.event_type, first.deliveries) == ("EZ1", TYPE, 1)
    assert first.payload == payload("EZ1")
    assert second.event_id == "EZ2"
    assert isinstance(first.event, CloudEvent)
    assert (first.event.id, first.event.type, first.event.data) == ("EZ1", TYPE, {"x": 1})
    assert [row["consumer"] for row in await pending(client)] == [b"w1", b"w1"]

    before = {k: v["calls"] for k, v in (await client.info("commandstats")).items()}
    await consumer.ack(first)
    after = {k: v["calls"] for k, v in (await client.info("commandstats")).items()}
    assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k)} == {
        "cmdstat_multi": 1, "cmdstat_xack": 1, "cmdstat_xdel": 1, "cmdstat_exec": 1,
        "cmdstat_info": 1,
    }  # fmt: skip
    assert await stream.backlog() == 1
    await consumer.ack(second)
    assert await stream.backlog() == 0
    assert await pending(client) == []

    other = StreamConsumer(client, consumer="w2", **FAST)  # the group exists: BUSYGROUP
    await stream.enqueue([entry("EZ3")])
    assert [m.event_id for m in await read_some(other)] == ["EZ3"]


async def test_a_failed_entry_is_redelivered_after_idle_with_its_count(
    client: aioredis.Redis, stream: RedisStream
) -> None:
    consumer = StreamConsumer(client, consumer="w1", **FAST)
    await stream.enqueue([entry("EZ1")])
    counts = []
    started = time.monotonic()
    for _ in range(3):  # never acknowledged: each delivery comes back after idle
        (message,) = await read_some(consumer)
        counts.append(message.deliveries)
    assert counts == [1, 2, 3]
    assert time.monotonic() - started >= 2 * 0.2
    assert [row["times_delivered"] for row in await pending(client)] == [3]


async def test_run_retries_a_failed_handler_and_logs_it(
    client: aioredis.Redis, stream: RedisStream, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []
    stop = asyncio.Event()

    async def handler(event: CloudEvent) -> None:
        seen.append(event.id)
        if len(seen) == 1:
            raise ConnectionResetError("the database went away")
        stop.set()

    await stream.enqueue([entry("EZ1")])
    with caplog.at_level(logging.WARNING, logger="events_async.webhooks"):
        await asyncio.wait_for(StreamConsumer(client, **FAST).run(handler, stop=stop), 10)
    assert seen == ["EZ1", "EZ1"]
    assert await stream.backlog() == 0
    assert await pending(client) == []
    (record,) = [r for r in caplog.records if r.name == "events_async.webhooks"]
    assert record.levelno == logging.WARNING
    for part in ("EZ1", TYPE, "ConnectionResetError"):
        assert part in record.getMessage()


async def test_a_killed_worker_s_entry_is_reclaimed_by_another(
    client: aioredis.Redis, stream: RedisStream, redis_url: str
) -> None:
    await stream.enqueue([entry("EZ1")])
    async with StreamConsumer.from_url(redis_url, consumer="dies", **FAST) as doomed:
        assert [m.event_id for m in await read_some(doomed)] == ["EZ1"]
    # "dies" is gone without acknowledging: the entry waits, pending on it.
    survivor = StreamConsumer(client, consumer="lives", **FAST)
    assert await survivor.read() == []  # not idle long enough yet: still the dead one's
    handled: list[tuple[str, int]] = []
    (message,) = await read_some(survivor)
    handled.append((message.event_id, message.deliveries))
    await survivor.ack(message)
    assert handled == [("EZ1", 2)]
    assert await stream.backlog() == 0
    assert await pending(client) == []


async def racing_pair(
    redis_url: str, client: aioredis.Redis, stack: AsyncExitStack, **options: Any
) -> tuple[StreamConsumer, StreamConsumer]:
    """Two workers, each on a connection of its own, about to sweep an entry that a
    third worker read and abandoned, once it has been pending `idle`: neither has read
    yet, so each sweeps at its first read."""
    await read_some(StreamConsumer(client, consumer="dies", **options))
    workers = []
    for name in "ab":
        own = aioredis.Redis.from_url(redis_url)
        stack.push_async_callback(own.aclose)
        assert await own.ping()  # connected before the race
        workers.append(StreamConsumer(own, consumer=name, **options))

    async def idle() -> bool:
        return bool(await client.xpending_range(KEY, "events_async", "-", "+", 1, idle=200))

    await wait_until(idle)
    return workers[0], workers[1]


async def test_two_workers_reclaiming_at_once_take_an_entry_once(
    client: aioredis.Redis, stream: RedisStream, redis_url: str
) -> None:
    await stream.enqueue([entry("EZ1")])
    async with AsyncExitStack() as stack:
        a, b = await racing_pair(redis_url, client, stack, **FAST)
        batches = await asyncio.gather(a.read(), b.read())  # both XPENDING, then both XCLAIM
    assert sorted(len(batch) for batch in batches) == [0, 1]


async def test_two_workers_burying_at_once_dead_letter_it_once(
    client: aioredis.Redis, stream: RedisStream, redis_url: str
) -> None:
    await stream.enqueue([entry("EZ1")])
    async with AsyncExitStack() as stack:
        a, b = await racing_pair(redis_url, client, stack, max_deliveries=1, **FAST)
        assert await asyncio.gather(a.read(), b.read()) == [[], []]
    assert len(await dead_letters(client)) == 1
    assert await stream.backlog() == 0
    assert await pending(client) == []


class HeldSweep(aioredis.Redis):
    """A real client whose XPENDING answers reach the caller only once `release` is set:
    a sweeper that saw the pending entries, then was slow to act on them."""

    held = asyncio.Event()
    release = asyncio.Event()

    async def xpending_range(self, *args: Any, **kwargs: Any) -> Any:
        rows = await super().xpending_range(*args, **kwargs)
        if rows:
            self.held.set()
            await self.release.wait()
        return rows


async def test_a_claim_wins_over_a_sweeper_s_stale_view(
    client: aioredis.Redis, stream: RedisStream, redis_url: str
) -> None:
    await stream.enqueue([entry("EZ1")])
    await read_some(StreamConsumer(client, consumer="dies", **FAST))

    async def idle() -> bool:
        return bool(await client.xpending_range(KEY, "events_async", "-", "+", 1, idle=200))

    await wait_until(idle)
    HeldSweep.held, HeldSweep.release = asyncio.Event(), asyncio.Event()
    slow = HeldSweep.from_url(redis_url)
    try:
        # The sweeper would set the entry aside (delivered max_deliveries=1 times), but
        # while it hesitates another worker claims it: now it is that worker's to handle.
        sweeper = StreamConsumer(slow, consumer="sweeper", max_deliveries=1, **FAST)
        sweeping = asyncio.create_task(sweeper.read())
        await asyncio.wait_for(HeldSweep.held.wait(), 5)
        claimer = StreamConsumer(client, consumer="claimer", **FAST)
        assert [(m.event_id, m.deliveries) for m in await claimer.read()] == [("EZ1", 2)]
        HeldSweep.release.set()
        assert await asyncio.wait_for(sweeping, 5) == []
    finally:
        await slow.aclose()
    assert await dead_letters(client) == []
    assert [row["consumer"] for row in await pending(client)] == [b"claimer"]


async def test_an_entry_deleted_while_pending_does_not_stay_pending(
    client: aioredis.Redis, stream: RedisStream
) -> None:
    await stream.enqueue([entry("EZ1")])
    (message,) = await read_some(StreamConsumer(client, consumer="dies", **FAST))
    await client.xdel(KEY, message.entry_id)  # someone removed it by hand
    worker = StreamConsumer(client, max_deliveries=2, **FAST)

    async def gone() -> bool:
        assert await worker.read() == []
        return await pending(client) == []

    await wait_until(gone)
    assert await dead_letters(client) == []


async def test_an_entry_in_progress_does_not_hold_up_idle_ones_behind_it(
    client: aioredis.Redis, stream: RedisStream
) -> None:
    await stream.enqueue([entry("EZ1"), entry("EZ2")])
    assert len(await read_some(StreamConsumer(client, consumer="dies", **FAST))) == 2
    worker = StreamConsumer(client, consumer="w", count=1, **FAST)
    (first,) = await read_some(worker)  # reclaimed, and now being handled (not idle)
    (second,) = await worker.read()  # the next idle one, at once: not stuck behind it
    assert [(m.event_id, m.deliveries) for m in (first, second)] == [("EZ1", 2), ("EZ2", 2)]


async def test_a_long_block_does_not_delay_a_retry(
    client: aioredis.Redis, stream: RedisStream
) -> None:
    consumer = StreamConsumer(client, block=5.0, idle=0.2)
    await stream.enqueue([entry("EZ1")])
    await read_some(consumer)
    started = time.monotonic()
    (again,) = await read_some(consumer)
    assert again.deliveries == 2
    assert time.monotonic() - started < 2.0  # after about idle, not after a 5 s block


async def test_a_poison_event_ends_in_the_dead_letters(
    client: aioredis.Redis, stream: RedisStream, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    stop = asyncio.Event()

    async def handler(event: CloudEvent) -> None:
        calls.append(event.id)
        raise ValueError("poison")

    async def watch() -> None:
        async def buried() -> bool:
            return bool(await client.xlen(DEAD))

        await wait_until(buried)
        stop.set()

    await stream.enqueue([entry("EZ1")])
    (entry_id, _), = await client.xrange(KEY)  # fmt: skip
    consumer = StreamConsumer(client, max_deliveries=2, **FAST)
    with caplog.at_level(logging.WARNING, logger="events_async.webhooks"):
        await asyncio.wait_for(asyncio.gather(consumer.run(handler, stop=stop), watch()), 10)
    assert calls == ["EZ1", "EZ1"]  # delivered max_deliveries times, then set aside
    assert await dead_letters(client) == [
        {b"id": b"EZ1", b"type": TYPE.encode(), b"event": payload("EZ1"),
         b"reason": b"max_deliveries", b"deliveries": b"2", b"entry": entry_id},
    ]  # fmt: skip
    assert await stream.backlog() == 0
    assert await pending(client) == []
    assert any("dead-lettered" in r.getMessage() for r in caplog.records)


async def test_a_payload_that_is_not_a_cloudevent_is_dead_lettered_at_once(
    client: aioredis.Redis, stream: RedisStream
) -> None:
    no_source = b'{"specversion":"1.0","type":"t","id":"EZ2"}'
    await stream.enqueue(
        [
            StreamEntry("EZ1", TYPE, b"not json"),
            StreamEntry("EZ2", TYPE, no_source),
            StreamEntry("EZ3", TYPE, b"[" + payload("EZ3") + b"," + payload("EZ4") + b"]"),
            entry("EZ5"),
        ]
    )
    await client.xadd(KEY, {"something": "else"})
    consumer = StreamConsumer(client, **FAST)
    assert [m.event_id for m in await read_some(consumer)] == ["EZ5"]
    dead = await dead_letters(client)
    assert [(d.get(b"id"), d[b"deliveries"]) for d in dead] == [
        (b"EZ1", b"1"), (b"EZ2", b"1"), (b"EZ3", b"1"), (None, b"1"),
    ]  # fmt: skip
    assert all(d[b"reason"].startswith(b"not a CloudEvent") for d in dead[:3])
    assert dead[3][b"reason"] == b"malformed entry"
    assert dead[3][b"something"] == b"else"
    assert dead[1][b"event"] == no_source
    assert await stream.backlog() == 1  # EZ5, read and not yet acknowledged
    assert [row["message_id"] for row in await pending(client)] == [
        (await client.xrange(KEY))[0][0]
    ]


async def test_a_dead_letter_that_cannot_be_written_loses_nothing(
    client: aioredis.Redis, stream: RedisStream
) -> None:
    await client.set(DEAD, "not a stream")
    await stream.enqueue([StreamEntry("EZ1", TYPE, b"not json")])
    consumer = StreamConsumer(client, **FAST)
    with pytest.raises(StoreError, match="read the stream: ResponseError WRONGTYPE"):
        await consumer.read()
    assert await stream.backlog() == 1
    assert len(await pending(client)) == 1  # still pending: it will be tried again
    await client.delete(DEAD)

    async def buried() -> bool:
        assert await consumer.read() == []
        return bool(await client.exists(DEAD))

    await wait_until(buried)
    assert [d[b"id"] for d in await dead_letters(client)] == [b"EZ1"]
    assert await stream.backlog() == 0
    assert await pending(client) == []


async def test_a_restart_under_the_same_name_rereads_its_own_pending_entries(
    client: aioredis.Redis, stream: RedisStream, redis_url: str
) -> None:
    await stream.enqueue([entry("EZ1"), entry("EZ2")])
    patient = {"block": 0.05, "idle": 60.0}  # no reclaiming: only the re-read can do it
    async with StreamConsumer.from_url(redis_url, consumer="w1", **patient) as first:
        assert len(await read_some(first)) == 2
    await stream.enqueue([entry("EZ3")])
    again = StreamConsumer(client, consumer="w1", count=1, **patient)
    got = [await next_message(again) for _ in range(3)]  # its own first, then the new one
    assert [(m.event_id, m.deliveries) for m in got] == [("EZ1", 2), ("EZ2", 2), ("EZ3", 1)]


async def test_another_name_does_not_get_the_pending_entries_early(
    client: aioredis.Redis, stream: RedisStream
) -> None:
    await stream.enqueue([entry("EZ1")])
    patient = {"block": 0.05, "idle": 60.0}
    await read_some(StreamConsumer(client, consumer="w1", **patient))
    await stream.enqueue([entry("EZ2")])
    other = StreamConsumer(client, consumer="w2", **patient)
    assert [m.event_id for m in await read_some(other)] == ["EZ2"]
    assert await other.read() == []


async def test_a_crash_looping_worker_s_entry_is_dead_lettered(
    client: aioredis.Redis, stream: RedisStream
) -> None:
    await stream.enqueue([entry("EZ1")])
    patient = {"block": 0.05, "idle": 60.0, "max_deliveries": 2}
    for deliveries in (1, 2):  # read, then "crash" (abandoned), restarted under its name
        (message,) = await read_some(StreamConsumer(client, consumer="w1", **patient))
        assert message.deliveries == deliveries
    assert await StreamConsumer(client, consumer="w1", **patient).read() == []
    (dead,) = await dead_letters(client)
    assert (dead[b"reason"], dead[b"deliveries"]) == (b"max_deliveries", b"2")
    assert await stream.backlog() == 0
    assert await pending(client) == []


async def test_run_returns_when_stop_is_set(client: aioredis.Redis, stream: RedisStream) -> None:
    stop = asyncio.Event()
    handled: list[str] = []

    async def handler(event: CloudEvent) -> None:
        handled.append(event.id)

    consumer = StreamConsumer(client, block=0.2)
    task = asyncio.create_task(consumer.run(handler, stop=stop))
    await stream.enqueue([entry("EZ1")])

    async def drained() -> bool:
        return await stream.backlog() == 0

    await wait_until(drained)
    stop.set()
    started = time.monotonic()
    await asyncio.wait_for(task, 2)
    assert time.monotonic() - started < 1.0  # within one blocking read
    assert handled == ["EZ1"]


@pytest.mark.parametrize("where", ["reading", "handling"])
async def test_cancelling_run_ends_it_cleanly(
    redis_url: str, client: aioredis.Redis, stream: RedisStream, where: str
) -> None:
    entered = asyncio.Event()

    async def handler(event: CloudEvent) -> None:
        entered.set()
        await asyncio.Event().wait()  # a handler that never finishes

    async with StreamConsumer.from_url(redis_url, block=5.0) as consumer:
        task = asyncio.create_task(consumer.run(handler))
        if where == "handling":
            await stream.enqueue([entry("EZ1")])
            await asyncio.wait_for(entered.wait(), 5)
        else:

            async def blocked() -> bool:  # the worker waits in XREADGROUP BLOCK
                listed = await client.client_list()
                return any(row.get("cmd") == "xreadgroup" for row in listed)

            await wait_until(blocked)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
    gc.collect()  # an unclosed connection would warn here, and warnings are errors
    expected = 1 if where == "handling" else 0
    assert len(await pending(client)) == expected  # left for a later delivery


async def test_redis_failures_are_store_errors(own_redis: RedisServer) -> None:
    async with StreamConsumer.from_url(own_redis.url, **FAST) as consumer:
        assert await consumer.read() == []
        own_redis.stop()
        with pytest.raises(StoreError, match="read the stream: ConnectionError") as raised:
            await consumer.read()
        assert str(own_redis.port) not in str(raised.value)

        async def handler(event: CloudEvent) -> None:
            pass

        with pytest.raises(StoreError):
            await asyncio.wait_for(consumer.run(handler), 5)


def test_settings_are_checked() -> None:
    redis = aioredis.Redis()
    for bad in ({"count": 0}, {"block": 0}, {"idle": -1}, {"max_deliveries": 0},
                {"group": ""}, {"consumer": " "}, {"dead_letter": "elsewhere"}):  # fmt: skip
        with pytest.raises(InvalidRequestError):
            StreamConsumer(redis, **bad)
    assert StreamConsumer(redis).dead_letter == DEAD
    assert StreamConsumer(redis, dead_letter=KEY + ":poison").dead_letter == KEY + ":poison"
    assert StreamConsumer(redis, "app:{ev}").dead_letter == "app:{ev}:dead"
    first, second = StreamConsumer(redis), StreamConsumer(redis)
    assert first.consumer != second.consumer  # host-pid-random
