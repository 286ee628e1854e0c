"""The receiver benchmark: `python -m benchmarks.receiver`.

The server's CPU time per delivery, for deliveries of 1 and of 50 events, comparing:

- **bare** — an aiohttp handler that only reads the body and answers 200: the floor;
- **least** — the least correct work: the body read, its SHA-256 and the HMAC-SHA1 of the
  URL compared (in constant time) to `bodySHA256` and `X-Twilio-Signature`, the body
  decoded by `orjson.loads`; no models, no deduplication;
- **memory** — `EventReceiver` (default `MemoryDedupe`, a handler that does nothing);
- **redis** — the same with `RedisDedupe` on a real redis-server started for the run;
- **stream** — `EventReceiver(stream=RedisStream(...))`, nothing consuming the stream.

Each server runs in its own process (`--serve PEER`) and reports its own CPU time on
`GET /_stats`; the load comes from this process, with every delivery signed (and every
event id unique) before the clock starts, 16 in flight. Trials are interleaved and
repeated `--runs` times, Redis flushed before each; the table gives medians. Redis's own
figures come from the server: its CPU and commands (`INFO cpu`, `INFO commandstats`
around each trial), and its round trips — the commands clients sent, apart from those a
Lua script ran — counted under `MONITOR` over 50 more deliveries, outside the timing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import orjson
import redis
from aiohttp import web

from .run import server
from .server import _until_terminated

TOKEN = "benchmark-receiver-token"
PEERS = ("bare", "least", "memory", "redis", "stream")
ON_REDIS = ("redis", "stream")
IN_FLIGHT = 16
WARM_UP = 100
MONITORED = 50  # deliveries whose round trips are counted under MONITOR, untimed
TARGET_LEAST = 1.3  # memory, one event, against least
TARGET_BARE = 1.5  # memory against bare (the earlier target)


def bare_app() -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": 200})

    return _app(receive)


def least_app() -> web.Application:
    key = TOKEN.encode()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        given = request.query.get("bodySHA256", "").encode()
        url = f"{request.scheme}://{request.host}{request.raw_path}".encode()
        expected = base64.b64encode(hmac.digest(key, url, "sha1"))  # one-shot, as the receiver
        signature = request.headers.get("X-Twilio-Signature", "").encode()
        hashed = hmac.compare_digest(given, hashlib.sha256(body).hexdigest().encode())
        if not (hmac.compare_digest(signature, expected) and hashed):
            return web.json_response({"status": 403}, status=403)
        orjson.loads(body)
        return web.json_response({"status": 200})

    return _app(receive)


def receiver_app(peer: str, redis_url: str) -> tuple[web.Application, Any]:
    """An `EventReceiver` app for `peer`, and the Redis store or stream to close (or None)."""
    from events_async.webhooks import CloudEvent, EventReceiver

    async def handle(event: CloudEvent) -> None:
        return None

    store: Any = None
    if peer == "memory":
        receiver = EventReceiver(handle, auth_tokens=TOKEN)
    elif peer == "redis":
        from events_async.webhooks.redis_dedupe import RedisDedupe

        store = RedisDedupe.from_url(redis_url)
        receiver = EventReceiver(handle, auth_tokens=TOKEN, dedupe=store)
    else:
        from events_async.webhooks.stream import RedisStream

        store = RedisStream.from_url(redis_url, "benchmark:events")
        receiver = EventReceiver(auth_tokens=TOKEN, stream=store)
    return _app(receiver.handle), store


def _app(receive: Callable[[web.Request], Awaitable[web.Response]]) -> web.Application:
    """`receive` on POST /events, and the process's CPU time on GET /_stats."""

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"cpu": time.process_time()})

    app = web.Application()
    app.router.add_post("/events", receive)
    app.router.add_get("/_stats", stats)
    return app


async def serve(peer: str, redis_url: str) -> None:
    store = None
    if peer in ("bare", "least"):
        app = bare_app() if peer == "bare" else least_app()
    else:
        app, store = receiver_app(peer, redis_url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"READY http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await _until_terminated()
    await runner.cleanup()
    if store is not None:
        await store.aclose()


class _Wire(asyncio.Transport):
    """A transport without a socket: what aiohttp writes is kept, and each complete answer
    wakes the waiting delivery. So `in_process` runs aiohttp's parser, its request and
    response objects and the handler, but no system call."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.answered = asyncio.Event()

    def write(self, data: Any) -> None:
        self.written += data
        head, sep, body = bytes(self.written).partition(b"\r\n\r\n")
        if sep:
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            if len(body) >= length:
                self.answered.set()

    def writelines(self, data: Any) -> None:
        for chunk in data:
            self.write(chunk)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 8080)}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 0


async def in_process(peer: str, count: int) -> None:
    """`count` one-event deliveries to `peer`, one after another, through aiohttp's
    protocol on a `_Wire`; for callgrind (`--in-process PEER --deliveries N`): run at two
    counts and divide the difference. Peer `none` only builds the requests, what every
    other peer's count includes too."""
    origin = "http://127.0.0.1:8080"
    requests = []
    for url, body, signature in deliveries(origin, count, 1, 0):
        head = (
            f"POST {url.removeprefix(origin)} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    if peer == "none":
        return
    app = bare_app() if peer == "bare" else least_app() if peer == "least" else None
    if app is None:
        app = receiver_app(peer, "")[0]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    protocol = runner.server()  # type: ignore[misc]
    wire = _Wire()
    protocol.connection_made(wire)
    for request in requests:
        wire.written.clear()
        wire.answered.clear()
        protocol.data_received(request)
        await wire.answered.wait()
        assert wire.written.startswith(b"HTTP/1.1 200"), bytes(wire.written[:200])
    await runner.cleanup()


def deliveries(origin: str, count: int, batch: int, run: int) -> list[tuple[str, bytes, str]]:
    """`count` signed deliveries of `batch` events each, every event id unique."""
    from events_async.webhooks import signature_for, signed_url

    made = []
    for n in range(count):
        events = [
            {
                "specversion": "1.0",
                "type": "com.twilio.messaging.message.delivered",
                "source": "/2010-04-01/Accounts/AC0/Messages/SM0.json",
                "id": f"EZ{batch:02d}{run:04d}{n:08d}{k:04d}",
                "dataschema": "https://events-schemas.twilio.com/Messaging.MessageStatus/5",
                "datacontenttype": "application/json",
                "time": "2026-11-29T10:00:00.000Z",
                "data": {"messageSid": "SM" + "0" * 32, "messageStatus": "DELIVERED"},
            }
            for k in range(batch)
        ]
        body = json.dumps(events).encode()
        url = signed_url(origin + "/events", body)
        made.append((url, body, signature_for(TOKEN, url)))
    return made


async def _load(origin: str, work: list[tuple[str, bytes, str]]) -> float:
    """Send every delivery, `IN_FLIGHT` at once; the server's CPU seconds meanwhile."""
    pending = iter(work)
    async with aiohttp.ClientSession() as session:

        async def server_cpu() -> float:
            async with session.get(origin + "/_stats") as response:
                cpu: float = (await response.json())["cpu"]
                return cpu

        async def worker() -> None:
            for url, body, signature in pending:
                headers = {"X-Twilio-Signature": signature, "Content-Type": "application/json"}
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status

        before = await server_cpu()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return await server_cpu() - before


class Trial(NamedTuple):
    """Per delivery: the server's CPU seconds, Redis's calls by command, Redis's CPU."""

    cpu: float
    calls: dict[str, float]
    redis_cpu: float


def _redis_now(client: redis.Redis) -> tuple[dict[str, int], float]:
    stats: Any = client.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): s["calls"] for name, s in stats.items()}
    calls.pop("info", None)
    cpu: Any = client.info("cpu")
    return calls, cpu["used_cpu_user"] + cpu["used_cpu_sys"]


def _round_trips_seen(origin: str, batch: int, url: str) -> float:
    """Round trips per delivery as Redis itself saw them: under MONITOR (outside the timed
    trials), each command a client sent, not those a Lua script ran (marked `lua`)."""
    marker = "events-async-benchmark-done"
    seen: list[dict[str, Any]] = []
    ready = threading.Event()

    def watch() -> None:
        with redis.Redis.from_url(url) as watcher, watcher.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                if marker in command["command"]:
                    return
                seen.append(command)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(10)
    asyncio.run(_load(origin, deliveries(origin, MONITORED, batch, 8888)))
    with redis.Redis.from_url(url) as client:
        client.echo(marker)
    thread.join(30)
    sent = [c for c in seen if c.get("client_type") != "lua"]
    return len(sent) / MONITORED


def _trial(origin: str, work: list[tuple[str, bytes, str]], client: redis.Redis) -> Trial:
    client.flushall()  # the same empty Redis for every trial, outside the measurement
    calls, redis_cpu = _redis_now(client)
    cpu = asyncio.run(_load(origin, work))
    calls_after, redis_cpu_after = _redis_now(client)
    n = len(work)
    delta = {name: (c - calls.get(name, 0)) / n for name, c in calls_after.items()}
    return Trial(cpu / n, delta, (redis_cpu_after - redis_cpu) / n)


def measure(
    args: argparse.Namespace,
) -> tuple[dict[tuple[int, str], list[Trial]], dict[tuple[int, str], float]]:
    """Every trial, by (events per delivery, peer); and the round trips Redis saw."""
    results: dict[tuple[int, str], list[Trial]] = defaultdict(list)
    trips: dict[tuple[int, str], float] = {}
    with contextlib.ExitStack() as stack:
        from tests.redis_server import RedisServer

        store = RedisServer(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        store.start()
        stack.callback(store.stop)
        client = stack.enter_context(redis.Redis.from_url(store.url))
        servers = {
            peer: stack.enter_context(
                server("--serve", peer, "--redis-url", store.url, module="benchmarks.receiver")
            )[0]
            for peer in PEERS
        }
        for batch in (1, 50):
            count = args.deliveries if batch == 1 else max(args.deliveries // 10, 1)
            for origin in servers.values():
                asyncio.run(_load(origin, deliveries(origin, WARM_UP, batch, 9999)))
            for run in range(args.runs):
                shift = run % len(PEERS)
                for peer in PEERS[shift:] + PEERS[:shift]:
                    work = deliveries(servers[peer], count, batch, run)
                    results[(batch, peer)].append(_trial(servers[peer], work, client))
            for peer in ON_REDIS:
                trips[(batch, peer)] = _round_trips_seen(servers[peer], batch, store.url)
    return results, trips


def _verdict(batch: int, vs_least: float, vs_bare: float) -> str:
    """The memory peer's targets: ≤ 1.3x least for one event; ≤ 1.5x bare, as before."""
    met = {True: "met", False: "MISSED"}
    least = f"≤ {TARGET_LEAST}x least: {met[vs_least <= TARGET_LEAST]}; " if batch == 1 else ""
    return least + f"≤ {TARGET_BARE}x bare: {met[vs_bare <= TARGET_BARE]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.receiver", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=4000, help="of 1 event (50: a tenth)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve", choices=PEERS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--in-process",
        choices=("none", "bare", "least", "memory"),
        help="only send --deliveries one-event deliveries to PEER in this process, without "
        "a socket (for callgrind: run at two counts, divide the difference)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.serve, args.redis_url))
        return 0
    if args.in_process:
        asyncio.run(in_process(args.in_process, args.deliveries))
        return 0
    results, trips_seen = measure(args)
    print(
        f"{date.today().isoformat()} · {platform.python_implementation()} "
        f"{platform.python_version()} · {platform.machine()} · {os.cpu_count()} cores · "
        f"{args.runs} runs, medians of the server's CPU per delivery\n"
    )
    print(
        "| events per delivery | peer | CPU µs / delivery | CPU µs / event | vs bare | vs least "
        "| Redis round trips / delivery | Redis CPU µs / delivery | target |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    notes = []
    for batch in (1, 50):
        bare = statistics.median(t.cpu for t in results[(batch, "bare")])
        least = statistics.median(t.cpu for t in results[(batch, "least")])
        for peer in PEERS:
            trials = results[(batch, peer)]
            mine = statistics.median(t.cpu for t in trials)
            trips = rcpu = "-"
            if peer in ON_REDIS:
                names = sorted({name for t in trials for name in t.calls})
                calls = {n: statistics.median(t.calls.get(n, 0.0) for t in trials) for n in names}
                trips = f"{trips_seen[(batch, peer)]:.2f}"
                rcpu = f"{statistics.median(t.redis_cpu for t in trials) * 1e6:.0f}"
                listed = ", ".join(f"{n} {c:.2f}" for n, c in calls.items() if c)
                notes.append(f"- {peer}, {batch} event{'s' if batch > 1 else ''}: {listed}")
            verdict = _verdict(batch, mine / least, mine / bare) if peer == "memory" else ""
            print(
                f"| {batch} | {peer} | {mine * 1e6:.0f} | {mine * 1e6 / batch:.1f} "
                f"| {mine / bare:.2f}x | {mine / least:.2f}x | {trips} | {rcpu} | {verdict} |"
            )
    print("\nRedis commands per delivery, medians (a script's own commands included):")
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
