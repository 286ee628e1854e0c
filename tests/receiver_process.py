"""A receiver replica in a process of its own, for the tests of several receivers.

`python -m tests.receiver_process REDIS_URL TOKEN LOG [stream]`: serves on a free loopback
port, prints `ready <url>`, and runs until killed. Each handler first writes `start <id>`
then `done <id>` to LOG (its own file), so a test can tell a handler that began from one
that finished; with RECEIVER_HANGS set, an event whose data has `"hang": true` never
finishes here (the test kills the process).
With `stream`, a worker instead: it consumes the stream and logs the same way.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiohttp import web

from events_async.models import CloudEvent
from events_async.webhooks import EventReceiver
from events_async.webhooks.redis_dedupe import RedisDedupe

LEASE = 3.0
HANDLER_TIMEOUT = 2.0
IDLE = 1.0


def logger(path: str):  # type: ignore[no-untyped-def]
    log = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    async def handle(event: CloudEvent) -> None:
        log.write(f"start {event.id}\n")
        os.fsync(log.fileno())
        if (
            os.environ.get("RECEIVER_HANGS")
            and isinstance(event.data, dict)
            and event.data.get("hang")
        ):
            await asyncio.Event().wait()  # until this process is killed
        await asyncio.sleep(0.01 * (hash(event.id) % 5))  # handlers overlap across replicas
        log.write(f"done {event.id}\n")
        os.fsync(log.fileno())

    return handle


async def receive(url: str, token: str, path: str) -> None:
    async with RedisDedupe.from_url(url, lease=LEASE) as store:
        receiver = EventReceiver(
            logger(path), auth_tokens=token, dedupe=store, handler_timeout=HANDLER_TIMEOUT
        )
        runner = web.AppRunner(receiver.app("/events"), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        print(f"ready http://{host}:{port}/events", flush=True)
        await asyncio.Event().wait()


async def work(url: str, path: str) -> None:
    from events_async.webhooks.consumer import StreamConsumer

    async with StreamConsumer.from_url(url, "events", idle=IDLE, block=0.2) as consumer:
        print("ready", flush=True)
        await consumer.run(logger(path))


if __name__ == "__main__":
    if len(sys.argv) > 4 and sys.argv[4] == "stream":
        asyncio.run(work(sys.argv[1], sys.argv[3]))
    else:
        asyncio.run(receive(sys.argv[1], sys.argv[2], sys.argv[3]))
