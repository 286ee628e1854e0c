"""RedisStream, the producer side of the hand-off, against a real redis-server."""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from events_async.errors import InvalidRequestError, StoreError
from events_async.webhooks.stream import (
    EnqueueResult,
    RedisStream,
    StreamEntry,
    stream_key,
)

from ..redis_server import RedisServer

TYPE = "com.twilio.messaging.message.delivered"


def payload(event_id: str, event_type: str = TYPE) -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "type": event_type,
            "source": "/2010-04-01/Accounts/AC0123/Messages/SM0123",
            "id": event_id,
            "time": "2026-12-01T09:00:00Z",
            "data": {"x": 1},
        }
    )


def entry(event_id: str) -> StreamEntry:
    return StreamEntry(event_id, TYPE, payload(event_id))


async def wait_until(condition: Any, timeout: float = 5.0) -> None:
    """Poll `condition` (an async callable) until it is true, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.01)


@pytest.fixture
def client(redis_client: aioredis.Redis) -> aioredis.Redis:
    """Named `client` here: every test of this file talks to Redis."""
    return redis_client


async def command_calls(redis: aioredis.Redis) -> dict[str, int]:
    stats = await redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in stats.items()}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    changed = {name: calls - before.get(name, 0) for name, calls in after.items()}
    return {name: calls for name, calls in changed.items() if calls}


async def test_each_event_id_enters_the_stream_once(client: aioredis.Redis) -> None:
    stream = RedisStream(client)
    assert await stream.enqueue([entry("EZ1"), entry("EZ2")]) == EnqueueResult([True, True], 2)
    again = await stream.enqueue([entry("EZ2"), entry("EZ3"), entry("EZ3")])
    assert again == EnqueueResult([False, True, False], 3)
    assert await stream.backlog() == 3 == await client.xlen(stream.key)
    rows = await client.xrange(stream.key)
    assert [fields[b"id"] for _, fields in rows] == [b"EZ1", b"EZ2", b"EZ3"]
    assert rows[0][1] == {b"id": b"EZ1", b"type": TYPE.encode(), b"event": payload("EZ1")}


async def test_an_empty_enqueue_reports_the_backlog(client: aioredis.Redis) -> None:
    stream = RedisStream(client)
    await stream.enqueue([entry("EZ1")])
    assert await stream.enqueue([]) == EnqueueResult([], 1)


async def test_the_seen_mark_lives_for_the_window(client: aioredis.Redis) -> None:
    stream = RedisStream(client, window=0.3)
    await stream.enqueue([entry("EZ1")])
    assert 0 < await client.pttl(stream.seen_key("EZ1")) <= 300
    assert (await stream.enqueue([entry("EZ1")])).added == [False]

    async def forgotten() -> bool:
        return not await client.exists(stream.seen_key("EZ1"))

    await wait_until(forgotten)
    assert (await stream.enqueue([entry("EZ1")])).added == [True]  # past the window: again
    assert await stream.backlog() == 2

    default = RedisStream(client, "other")
    await default.enqueue([entry("EZ9")])
    assert 4 * 3600 * 1000 < await client.pttl(default.seen_key("EZ9")) <= 4.25 * 3600 * 1000


@pytest.mark.parametrize("size", [1, 50])
async def test_one_round_trip_per_enqueue_whatever_its_size(
    client: aioredis.Redis, size: int
) -> None:
    stream = RedisStream(client)
    await stream.enqueue([entry("warm-up")])  # loads the script, opens the connection
    await stream.enqueue([entry(f"EZ{i}") for i in range(size // 2)])  # half are repeats
    before = await command_calls(client)
    result = await stream.enqueue([entry(f"EZ{i}") for i in range(size)])
    after = await command_calls(client)
    added = size - size // 2
    assert sum(result.added) == added
    # One EVALSHA from the client; EXISTS, XADD, SET and XLEN are the script's own calls;
    # INFO is the measurement's first call. Nothing else reached the server.
    expected = {"evalsha": 1, "exists": size, "xadd": added, "set": added, "xlen": 1, "info": 1}
    assert delta(before, after) == expected


async def test_the_first_enqueue_on_a_server_without_the_script_loads_it(
    client: aioredis.Redis,
) -> None:
    stream = RedisStream(client)
    await client.script_flush()
    before = await command_calls(client)
    await stream.enqueue([entry("EZ1")])
    changed = delta(before, await command_calls(client))
    assert (changed["evalsha"], changed["script"]) == (2, 1)  # NOSCRIPT, LOAD, EVALSHA


def test_keys_share_one_cluster_slot() -> None:
    assert stream_key("events_async:events") == "{events_async:events}"
    assert stream_key("app:{events}") == "app:{events}"  # a tag given is kept
    assert stream_key("{a{b}:x") == "{a{b}:x"
    for name in ("events_async:events", "app:{events}", "x"):
        stream = RedisStream(aioredis.Redis(), name)
        slot = key_slot(stream.key.encode())
        assert key_slot(stream.seen_key("EZ{odd}id").encode()) == slot
        assert key_slot(f"{stream.key}:dead".encode()) == slot
        assert stream.seen_key("EZ1") == stream.key + ":seen:EZ1"


@pytest.mark.parametrize("name", ["a}b", "{}x", "x{", "", " "])
def test_a_name_that_could_hash_apart_is_refused(name: str) -> None:
    with pytest.raises(InvalidRequestError):
        stream_key(name)


async def test_the_keys_in_redis(client: aioredis.Redis) -> None:
    await RedisStream(client).enqueue([entry("EZ1")])
    keys = sorted(await client.keys("*"))
    assert keys == [b"{events_async:events}", b"{events_async:events}:seen:EZ1"]


async def test_nothing_is_trimmed(client: aioredis.Redis) -> None:
    stream = RedisStream(client)
    for batch in range(20):
        await stream.enqueue([entry(f"EZ{batch}-{i}") for i in range(100)])
    assert await stream.backlog() == 2000
    assert (await client.xinfo_stream(stream.key))["first-entry"][1][b"id"] == b"EZ0-0"


async def clients(redis: aioredis.Redis) -> int:
    return len(await redis.client_list())


async def test_aclose_closes_only_a_client_of_its_own(
    client: aioredis.Redis, redis_url: str
) -> None:
    alone = await clients(client)
    given = aioredis.Redis.from_url(redis_url)
    async with RedisStream(given) as stream:
        await stream.enqueue([entry("EZ1")])
    assert await clients(client) == alone + 1  # still the caller's, still open
    await given.aclose()

    async with RedisStream.from_url(redis_url, "mine", window=60) as owned:
        assert (owned.name, owned.key, owned.window) == ("mine", "{mine}", 60.0)
        await owned.enqueue([entry("EZ1")])
        assert await clients(client) == alone + 1
    await owned.aclose()  # idempotent

    async def closed() -> bool:
        return await clients(client) == alone

    await wait_until(closed)


async def test_a_stopped_redis_is_a_store_error_without_credentials(
    own_redis: RedisServer,
) -> None:
    admin = aioredis.Redis.from_url(own_redis.url)
    await admin.config_set("requirepass", "s3cret-pass")
    await admin.aclose()
    url = f"redis://:s3cret-pass@127.0.0.1:{own_redis.port}/0"
    async with RedisStream.from_url(url) as stream:
        await stream.enqueue([entry("EZ1")])
        own_redis.stop()
        with pytest.raises(StoreError) as raised:
            await stream.enqueue([entry("EZ2")])
        with pytest.raises(StoreError, match="backlog"):
            await stream.backlog()
    message = str(raised.value)
    assert "enqueue" in message
    assert "ConnectionError" in message
    for secret in (url, "s3cret-pass", str(own_redis.port)):
        assert secret not in message
        assert secret not in repr(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


async def test_a_slow_redis_is_a_store_error(client: aioredis.Redis, redis_url: str) -> None:
    async with RedisStream.from_url(redis_url, socket_timeout=0.2) as stream:
        await stream.enqueue([entry("EZ0")])
        await client.client_pause(600)  # the server holds every client's commands
        with pytest.raises(StoreError, match="enqueue: TimeoutError"):
            await stream.enqueue([entry("EZ1")])


async def test_a_wrong_key_type_names_the_redis_error_code(client: aioredis.Redis) -> None:
    await client.set("{events_async:events}", "not a stream")
    stream = RedisStream(client)
    with pytest.raises(StoreError, match=r"enqueue: ResponseError WRONGTYPE$"):
        await stream.enqueue([entry("EZ1")])
    assert not await client.exists(stream.seen_key("EZ1"))  # Twilio's retry is not a duplicate


def test_window_must_be_positive() -> None:
    with pytest.raises(InvalidRequestError):
        RedisStream(aioredis.Redis(), window=0)


@pytest.mark.parametrize("module", ["stream", "consumer"])
def test_without_redis_the_import_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    for name in ("redis", "redis.asyncio", "redis.crc", "redis.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("stream", "consumer"):
        monkeypatch.delitem(sys.modules, f"events_async.webhooks.{name}", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'events-async\[redis\]'"):
        importlib.import_module(f"events_async.webhooks.{module}")
