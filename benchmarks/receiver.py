"""The receiver benchmark: `python -m benchmarks.receiver`.

The server's CPU time per delivery, for deliveries of 1 and of 50 events, comparing:

- **bare** — an aiohttp handler that only reads the body and answers 200: the floor;
- **events_async** — `EventReceiver`: the body read under a cap, the signature and
  `bodySHA256` verified, the CloudEvents parsed into models, each id deduplicated and
  handed to a handler (which does nothing).

Each server runs in its own process (`--serve PEER`) and reports its own CPU time on
`GET /_stats`; the load comes from this process, with every delivery signed (and every
event id unique) before the clock starts, 16 in flight. Trials are interleaved and
repeated `--runs` times; the table gives medians.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import aiohttp
from aiohttp import web

from .run import server
from .server import _until_terminated

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "benchmark-receiver-token"
PEERS = ("bare", "events_async")
IN_FLIGHT = 16
TARGET = 1.5


def _stats_route(app: web.Application) -> None:
    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"cpu": time.process_time()})

    app.router.add_get("/_stats", stats)


def bare_app() -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": 200})

    app = web.Application()
    app.router.add_post("/events", receive)
    return app


def receiver_app() -> web.Application:
    from events_async.webhooks import CloudEvent, EventReceiver

    async def handle(event: CloudEvent) -> None:
        return None

    receiver = EventReceiver(handle, auth_tokens=TOKEN)
    app = web.Application()
    app.router.add_post("/events", receiver.handle)
    return app


async def serve(peer: str) -> None:
    app = bare_app() if peer == "bare" else receiver_app()
    _stats_route(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"READY http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await _until_terminated()
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
                "id": f"EZ{run:04d}{n:08d}{k:04d}",
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


def measure(args: argparse.Namespace) -> dict[tuple[int, str], list[float]]:
    results: dict[tuple[int, str], list[float]] = defaultdict(list)
    with contextlib.ExitStack() as stack:
        servers = {
            peer: stack.enter_context(server("--serve", peer, module="benchmarks.receiver"))[0]
            for peer in PEERS
        }
        for batch in (1, 50):
            count = args.deliveries if batch == 1 else max(args.deliveries // 10, 1)
            for origin in servers.values():  # warm-up
                asyncio.run(_load(origin, deliveries(origin, 20, batch, 9999)))
            for run in range(args.runs):
                order = PEERS[run % 2 :] + PEERS[: run % 2]
                for peer in order:
                    origin = servers[peer]
                    work = deliveries(origin, count, batch, run)
                    results[(batch, peer)].append(asyncio.run(_load(origin, work)) / count)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.receiver", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=4000, help="of 1 event (50: a tenth)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve", choices=PEERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.serve))
        return 0
    results = measure(args)
    print(
        f"{date.today().isoformat()} · {platform.python_implementation()} "
        f"{platform.python_version()} · {platform.machine()} · {os.cpu_count()} cores · "
        f"{args.runs} runs, medians of the server's CPU per delivery"
    )
    print()
    print("| events per delivery | peer | CPU µs / delivery | CPU µs / event | vs bare | target |")
    print("|---:|---|---:|---:|---:|---|")
    for batch in (1, 50):
        floor = statistics.median(results[(batch, "bare")])
        for peer in PEERS:
            cpu = statistics.median(results[(batch, peer)])
            verdict = ""
            if peer == "events_async":
                verdict = f"≤ {TARGET}x: {'met' if cpu / floor <= TARGET else 'MISSED'}"
            print(
                f"| {batch} | {peer} | {cpu * 1e6:.0f} | {cpu * 1e6 / batch:.1f} "
                f"| {cpu / floor:.2f}x | {verdict} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
