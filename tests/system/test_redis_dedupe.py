"""RedisDedupe against a real redis-server (tests/redis_server.py): two stores on one Redis
are two replicas of a receiver. Round trips are counted by the server itself (MONITOR)."""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from events_async.errors import InvalidRequestError, StoreError
from events_async.webhooks import Claim, MemoryDedupe
from events_async.webhooks.redis_dedupe import DEFAULT_LEASE_SECONDS, RedisDedupe

from ..redis_server import RedisServer

NEW, DONE, BUSY = Claim.NEW, Claim.DONE, Claim.BUSY
PREFIX = "events_async:dedupe:"
DEADLINE = 5.0


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the test's own, to look at the keys the stores leave."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[Callable[..., RedisDedupe]]:
    """Makes stores on one Redis, each with its own client: separate replicas."""
    made: list[RedisDedupe] = []

    def replica(**options: Any) -> RedisDedupe:
        made.append(RedisDedupe.from_url(redis_url, **options))
        return made[-1]

    yield replica
    for store in made:
        await store.aclose()


async def wait_until_gone(redis: Redis, key: str) -> None:
    """Poll Redis until `key` has expired (PTTL -2), against a deadline."""
    deadline = time.monotonic() + DEADLINE
    while await redis.pttl(key) != -2:
        assert time.monotonic() < deadline, f"{key} did not expire"
        await asyncio.sleep(0.02)


async def sent_to_redis(url: str, action: Callable[[], Awaitable[object]]) -> list[dict[str, Any]]:
    """The commands Redis ran while `action` ran, as MONITOR reports them: a client's
    commands are `tcp`, those a script ran are `lua`. A marker sent after `action` ends
    the watch, so nothing is waited for by time."""
    observer, marker_sender = Redis.from_url(url), Redis.from_url(url)
    marker = f"end-of-watch-{secrets.token_hex(8)}"
    seen: list[dict[str, Any]] = []
    try:
        await marker_sender.ping()  # connected before the watch, so its HELLO is not seen
        async with observer.monitor() as monitor:
            await action()
            await marker_sender.echo(marker)
            while True:
                command = dict(await asyncio.wait_for(monitor.next_command(), DEADLINE))
                if marker in command["command"]:
                    return seen
                seen.append(command)
    finally:
        await observer.aclose()
        await marker_sender.aclose()


def round_trips(commands: list[dict[str, Any]]) -> list[str]:
    """The commands a client sent (each one round trip), not those a script ran."""
    return [c["command"].split()[0].upper() for c in commands if c["client_type"] != "lua"]


async def test_new_then_done_after_done(replicas: Callable[..., RedisDedupe], redis: Redis) -> None:
    store = replicas()
    assert await store.claim(["EV1"]) == [NEW]
    await store.done(["EV1"])
    assert await store.claim(["EV1"]) == [DONE]
    assert await replicas().claim(["EV1"]) == [DONE]  # another replica, or after a restart
    assert await redis.exists(f"{PREFIX}lease:EV1") == 0  # done freed its own lease


async def test_busy_while_another_replica_holds_it(replicas: Callable[..., RedisDedupe]) -> None:
    first, second = replicas(), replicas()
    assert await first.claim(["EV1", "EV2"]) == [NEW, NEW]
    assert await second.claim(["EV2", "EV3"]) == [BUSY, NEW]
    assert await first.claim(["EV1"]) == [BUSY]  # a redelivery to the same replica, too


async def test_release_makes_it_new_again(replicas: Callable[..., RedisDedupe]) -> None:
    first, second = replicas(), replicas()
    assert await first.claim(["EV1"]) == [NEW]
    await first.release(["EV1"])
    assert await second.claim(["EV1"]) == [NEW]


async def test_a_replica_cannot_release_a_claim_it_does_not_hold(
    replicas: Callable[..., RedisDedupe],
) -> None:
    first, second = replicas(), replicas()
    assert await first.claim(["EV1"]) == [NEW]
    await second.release(["EV1"])
    assert await replicas().claim(["EV1"]) == [BUSY]


async def test_an_expired_lease_is_claimed_by_another_and_never_freed_by_the_first(
    replicas: Callable[..., RedisDedupe], redis: Redis
) -> None:
    slow, other = replicas(lease=0.2), replicas()
    lease = f"{PREFIX}lease:EV1"
    assert await slow.claim(["EV1", "EV2"]) == [NEW, NEW]
    await wait_until_gone(redis, lease)  # the slow replica's handler outlived its lease
    assert await other.claim(["EV1"]) == [NEW]
    held_by_other = await redis.get(lease)

    await slow.release(["EV1"])  # compare-and-delete: not its token any more
    assert await redis.get(lease) == held_by_other
    assert await replicas().claim(["EV1"]) == [BUSY]

    assert await slow.claim(["EV3"]) == [NEW]
    await wait_until_gone(redis, f"{PREFIX}lease:EV3")
    assert await other.claim(["EV3"]) == [NEW]
    held_by_other = await redis.get(f"{PREFIX}lease:EV3")
    await slow.done(["EV3"])  # it was handled: marked, but the other's lease stays
    assert await redis.get(f"{PREFIX}lease:EV3") == held_by_other
    assert await replicas().claim(["EV3"]) == [DONE]

    await other.done(["EV1", "EV3"])  # its own leases: freed
    assert await redis.exists(lease, f"{PREFIX}lease:EV3") == 0


async def test_marks_and_leases_expire_after_window_and_lease(
    replicas: Callable[..., RedisDedupe], redis: Redis
) -> None:
    store = replicas(window=3600)
    assert store.lease == DEFAULT_LEASE_SECONDS
    assert await store.claim(["EV1"]) == [NEW]
    assert 9_000 < await redis.pttl(f"{PREFIX}lease:EV1") <= 10_000
    await store.done(["EV1"])
    assert 3_590_000 < await redis.pttl(f"{PREFIX}done:EV1") <= 3_600_000


async def test_the_default_window_outlasts_twilios_retries(
    replicas: Callable[..., RedisDedupe], redis: Redis
) -> None:
    store = replicas()
    assert await store.claim(["EV1"]) == [NEW]
    await store.done(["EV1"])
    assert await redis.pttl(f"{PREFIX}done:EV1") > 4 * 3600 * 1000


async def test_keys_are_prefix_lease_and_done(
    replicas: Callable[..., RedisDedupe], redis: Redis
) -> None:
    store = replicas(prefix="{events_async}:dedupe:")  # a hash tag: one cluster slot
    assert await store.claim(["EV1", "EV2"]) == [NEW, NEW]
    await store.done(["EV1"])
    assert sorted(await redis.keys("*")) == [
        b"{events_async}:dedupe:done:EV1",
        b"{events_async}:dedupe:lease:EV2",
    ]


async def test_duplicates_within_one_call_match_memory_dedupe(
    replicas: Callable[..., RedisDedupe],
) -> None:
    store, memory = replicas(), MemoryDedupe()
    ids = ["EV1", "EV1", "EV2"]
    assert await store.claim(ids) == await memory.claim(ids) == [NEW, BUSY, NEW]
    await store.done(["EV1", "EV1"])
    await memory.done(["EV1", "EV1"])
    assert await store.claim(ids) == await memory.claim(ids) == [DONE, DONE, BUSY]


async def test_a_client_that_decodes_responses_works_too(redis_url: str) -> None:
    async with RedisDedupe.from_url(redis_url, decode_responses=True, lease=0.2) as store:
        assert await store.claim(["EV1"]) == [NEW]
        await store.release(["EV1"])
        assert await store.claim(["EV1"]) == [NEW]
        await store.done(["EV1"])
        assert await store.claim(["EV1"]) == [DONE]


async def test_empty_input_makes_no_round_trip() -> None:
    async with RedisDedupe.from_url("redis://127.0.0.1:1/0") as nowhere:  # nothing listens
        assert await nowhere.claim([]) == []
        await nowhere.done([])
        await nowhere.release([])
        await nowhere.release(["EV1"])  # holds no lease for it: nothing to free


@pytest.mark.parametrize("size", [1, 100])
async def test_one_round_trip_per_call_whatever_the_size(
    replicas: Callable[..., RedisDedupe], redis_url: str, size: int
) -> None:
    store = replicas()
    for call in (store.claim, store.release, store.claim, store.done):
        await call(["warm-up"])  # connects, and loads each script once
    ids = [f"EV{n}" for n in range(size)]

    claim = await sent_to_redis(redis_url, lambda: store.claim(ids))
    assert round_trips(claim) == ["EVALSHA"]
    assert len(claim) == 1 + 2 * size  # the script's EXISTS and SET of each id

    release = await sent_to_redis(redis_url, lambda: store.release(ids[: size // 2 + 1]))
    assert round_trips(release) == ["EVALSHA"]

    done = await sent_to_redis(redis_url, lambda: store.done(ids))
    assert round_trips(done) == ["EVALSHA"]
    assert await store.claim(ids) == [DONE] * size


async def test_redis_down_raises_store_error_without_the_url(own_redis: RedisServer) -> None:
    password = "s3cret-password"  # never sent: the server is down before the store connects
    url = f"redis://:{password}@127.0.0.1:{own_redis.port}/0"
    own_redis.stop()
    async with RedisDedupe.from_url(url) as store:
        with pytest.raises(StoreError, match="Redis did not answer the claim") as caught:
            await store.claim(["EV1"])
    told = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert password not in told
    assert url not in told
    assert f"127.0.0.1:{own_redis.port}" not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_the_store_works_again_once_redis_is_back(own_redis: RedisServer) -> None:
    async with RedisDedupe.from_url(own_redis.url) as store:
        assert await store.claim(["EV1", "EV2"]) == [NEW, NEW]
        own_redis.stop()
        calls = [("claim", store.claim, "EV3"), ("done", store.done, "EV1")]
        calls.append(("release", store.release, "EV2"))  # one it holds: else no round trip
        for what, call, event_id in calls:
            with pytest.raises(StoreError, match=f"did not answer the {what}: ConnectionError"):
                await call([event_id])
        own_redis.start()  # empty, and its script cache too
        assert await store.claim(["EV4"]) == [NEW]
        await store.done(["EV4"])
        assert await store.claim(["EV4"]) == [DONE]


async def test_a_redis_that_never_answers_raises_store_error() -> None:
    async def black_hole(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads until the client hangs up; never answers
        writer.close()

    server = await asyncio.start_server(black_hole, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with RedisDedupe.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.2) as store:
            with pytest.raises(StoreError, match="did not answer the claim: TimeoutError"):
                await store.claim(["EV1"])
    finally:
        server.close()
        await server.wait_closed()


async def connection_named(redis: Redis, name: str) -> bool:
    return any(client["name"] == name for client in await redis.client_list())


async def test_from_url_owns_its_client_and_aclose_closes_it(redis_url: str, redis: Redis) -> None:
    name = f"owned-{secrets.token_hex(4)}"
    store = RedisDedupe.from_url(redis_url, client_name=name, prefix="p:", lease=5, window=60)
    assert (store.prefix, store.lease, store.window) == ("p:", 5.0, 60.0)
    assert await store.claim(["EV1"]) == [NEW]
    assert await redis.exists("p:lease:EV1") == 1
    assert await connection_named(redis, name)
    await store.aclose()
    await store.aclose()  # twice is fine
    deadline = time.monotonic() + DEADLINE
    while await connection_named(redis, name):  # the server sees the hang-up shortly
        assert time.monotonic() < deadline, "aclose left the store's connection open"
        await asyncio.sleep(0.02)


async def test_a_client_passed_in_is_never_closed(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        connection = await client.client_id()
        async with RedisDedupe(client) as store:
            assert await store.claim(["EV1"]) == [NEW]
        await store.aclose()
        assert await client.client_id() == connection  # the same connection, still open
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("option", "value"),
    [("lease", 0), ("lease", -1.0), ("window", float("nan")), ("window", True), ("prefix", 7)],
)
async def test_bad_settings_are_refused(option: str, value: object) -> None:
    client = Redis()  # never connects
    try:
        with pytest.raises(InvalidRequestError, match=option):
            RedisDedupe(client, **{option: value})
    finally:
        await client.aclose()


def test_without_redis_the_import_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("redis", "redis.asyncio", "redis.exceptions", "redis.commands.core"):
        monkeypatch.setitem(sys.modules, name, None)  # as if redis-py were not installed
    monkeypatch.delitem(sys.modules, "events_async.webhooks.redis_dedupe")
    with pytest.raises(ImportError, match=r"pip install 'events-async\[redis\]'"):
        import events_async.webhooks.redis_dedupe  # noqa: F401
