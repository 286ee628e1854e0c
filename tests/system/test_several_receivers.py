"""Several receivers on one real Redis, as a service runs them behind a load balancer:
each event handled once between processes, through kills, retries and a Redis outage."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import attrs

from events_async.models import CloudEvent
from events_async.webhooks import EventReceiver, signature_for, signed_url
from events_async.webhooks.redis_dedupe import RedisDedupe
from events_async.webhooks.stream import RedisStream, StreamEntry

from ..redis_server import RedisServer
from ..support import ROOT, serve

TOKEN = "the account's auth token"
DEADLINE = 30.0


@attrs.define
class Replica:
    process: subprocess.Popen[str]
    log: Path
    url: str = ""

    def lines(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []


@contextmanager
def replicas(
    count: int, redis_url: str, folder: Path, *, mode: str = "receive", hangs: Sequence[int] = ()
) -> Iterator[list[Replica]]:
    """`count` receiver (or stream worker) processes; those in `hangs` hang on `hang` events."""
    started: list[Replica] = []
    try:
        for n in range(count):
            started.append(start_replica(redis_url, folder / f"replica{n}.log", mode, n in hangs))
        yield started
    finally:
        for replica in started:
            if replica.process.poll() is None:
                replica.process.kill()
            replica.process.wait(10)
            assert replica.process.stdout is not None
            replica.process.stdout.close()


def start_replica(redis_url: str, log: Path, mode: str, hangs: bool) -> Replica:
    env = {**os.environ, "RECEIVER_HANGS": "1" if hangs else ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.receiver_process", redis_url, TOKEN, str(log), mode],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    ready = process.stdout.readline().split()
    assert ready[:1] == ["ready"], f"the replica did not start: {ready}"
    return Replica(process, log, ready[1] if len(ready) > 1 else "")


def event(event_id: str, **data: object) -> dict[str, object]:
    return {"specversion": "1.0", "type": "com.twilio.messaging.message.delivered",
            "source": "/2010-04-01/Accounts/AC1/Messages/SM1.json", "id": event_id,
            "data": data}  # fmt: skip


async def deliver_as_twilio(
    session: aiohttp.ClientSession, urls: Sequence[str], events: list[dict[str, object]]
) -> int:
    """POST one signed delivery as Twilio does: to one replica, then, on a 5xx, a timeout
    or a refused connection, again (perhaps to another) after a short backoff, until a
    2xx or a 4xx. Returns how many attempts it took."""
    body = json.dumps(events).encode()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    for attempt in range(1, 10_000):
        target = signed_url(random.choice(urls), body)
        headers = {"X-Twilio-Signature": signature_for(TOKEN, target)}
        try:
            async with session.post(target, data=body, headers=headers) as response:
                if response.status < 500:
                    assert response.status == 200, await response.text()
                    return attempt
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        assert loop.time() < deadline, "Twilio would still be retrying"
        await asyncio.sleep(0.05)  # Twilio's backoff between retries, shortened
    raise AssertionError("unreachable")


def handled(replicas: Sequence[Replica], step: str = "done") -> Counter[str]:
    lines = [line for r in replicas if r.log.exists() for line in r.log.read_text().splitlines()]
    return Counter(line.split()[1] for line in lines if line.startswith(step + " "))


async def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll `condition` (a function, or a coroutine function) until it holds, against a
    deadline: what another process writes to a file or to Redis."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not (await condition() if asyncio.iscoroutinefunction(condition) else condition()):
        assert loop.time() < deadline, f"never: {what}"
        await asyncio.sleep(0.02)


async def test_three_receivers_on_one_redis_handle_each_event_exactly_once(
    redis_url: str, tmp_path: Path
) -> None:
    ids = [f"EZ{n:04d}" for n in range(60)]
    shuffled = random.Random(7)
    deliveries: list[list[dict[str, object]]] = []
    for _ in range(3):  # every event delivered three times, in other batches and orders
        order = ids[:]
        shuffled.shuffle(order)
        while order:
            size = shuffled.randint(1, 5)
            deliveries.append([event(i) for i in order[:size]])
            order = order[size:]
    shuffled.shuffle(deliveries)
    with replicas(3, redis_url, tmp_path) as running:
        urls = [r.url for r in running]
        async with aiohttp.ClientSession() as session:
            attempts = await asyncio.gather(
                *(deliver_as_twilio(session, urls, d) for d in deliveries)
            )
    assert handled(running) == Counter(dict.fromkeys(ids, 1))
    assert handled(running, "start") == Counter(dict.fromkeys(ids, 1))  # none began twice
    assert len({r.log for r in running if r.lines()}) == 3  # all three took a share
    assert len(attempts) == len(deliveries)  # each acknowledged, after retries if a 503


async def test_a_receiver_killed_mid_handler_lets_twilios_retry_handle_it_once(
    redis_url: str, tmp_path: Path
) -> None:
    with replicas(2, redis_url, tmp_path, hangs=[0]) as (doomed, survivor):
        behind_the_balancer = [doomed.url]
        async with aiohttp.ClientSession() as session:
            delivery = asyncio.create_task(
                deliver_as_twilio(session, behind_the_balancer, [event("h", hang=True)])
            )
            await wait_until(lambda: "h" in handled([doomed], "start"), "the handler began")
            doomed.process.send_signal(signal.SIGKILL)
            doomed.process.wait(10)
            behind_the_balancer[:] = [survivor.url]  # the balancer drops the dead replica
            attempts = await delivery
    assert handled([survivor]) == Counter({"h": 1})  # once its lease ran out
    assert handled([doomed], "start") == Counter({"h": 1})
    assert handled([doomed]) == Counter()
    assert attempts > 2  # refused while the dead replica's lease held (503), then handled


async def test_a_stream_worker_killed_mid_event_has_its_entry_handled_by_another(
    redis_url: str, tmp_path: Path
) -> None:
    async with RedisStream.from_url(redis_url, "events") as stream:
        with replicas(1, redis_url, tmp_path, mode="stream", hangs=[0]) as (doomed,):
            payload = json.dumps(event("h", hang=True)).encode()
            await stream.enqueue([StreamEntry("h", "com.twilio.messaging.message.delivered",
                                              payload)])  # fmt: skip
            await wait_until(lambda: "h" in handled([doomed], "start"), "the worker began")
            doomed.process.send_signal(signal.SIGKILL)
            doomed.process.wait(10)
            (tmp_path / "next").mkdir()
            with replicas(1, redis_url, tmp_path / "next", mode="stream") as (other,):
                await wait_until(lambda: "h" in handled([other]), "another worker handled it")

                async def acknowledged() -> bool:  # after its handler returned: not before
                    return await stream.backlog() == 0  # XACK and XDEL: gone from the stream

                await wait_until(acknowledged, "the entry was acknowledged")
    assert handled([doomed]) == Counter()


async def test_redis_stopped_mid_run_is_503_and_nothing_is_marked_done_unhandled(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path, durable=True)
    server.start()
    finished: list[str] = []
    gate = asyncio.Event()
    gate.set()

    async def handle(event: CloudEvent) -> None:
        await gate.wait()
        finished.append(event.id)

    try:
        async with RedisDedupe.from_url(server.url) as store:
            receiver = EventReceiver(handle, auth_tokens=TOKEN, dedupe=store)
            async with serve(receiver.app("/events")) as origin, aiohttp.ClientSession() as s:
                url = origin + "/events"
                before = [await post_once(s, url, [event(f"a{n}")]) for n in range(5)]
                gate.clear()  # a delivery whose handler is running when Redis goes away
                in_flight = asyncio.create_task(post_once(s, url, [event("flight")]))
                await wait_until(lambda: receiver.in_progress == 1, "the handler is running")
                server.stop()
                gate.set()
                during = [await post_once(s, url, [event(f"b{n}")]) for n in range(5)]
                flight = await in_flight
                server.start()
                marked = await done_marks(server.url)
                after = [await post_once(s, url, [event(f"b{n}")]) for n in range(5)]
    finally:
        server.stop()
    assert before == [200] * 5
    assert during == [503] * 5  # Twilio retries each of them
    assert flight == 503  # handled, but its mark could not be stored: Twilio retries
    assert marked <= set(finished)  # nothing marked done that was not handled
    assert {f"a{n}" for n in range(5)} <= marked
    assert after == [200] * 5
    assert Counter(finished)["b0"] == 1
    assert receiver.stats.events_handled == 10  # the in-flight one is not counted


async def post_once(
    session: aiohttp.ClientSession, url: str, events: list[dict[str, object]]
) -> int:
    body = json.dumps(events).encode()
    target = signed_url(url, body)
    headers = {"X-Twilio-Signature": signature_for(TOKEN, target)}
    async with session.post(target, data=body, headers=headers) as response:
        return response.status


async def done_marks(url: str) -> set[str]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        return {key.decode().rpartition(":")[2] async for key in client.scan_iter("*done:*")}
    finally:
        await client.aclose()
