"""One measured trial, run in a fresh child process: `python -m benchmarks.workloads`.

Prints one JSON line: the client process's CPU time (user + sys) and wall time spent in
the workload, the items it saw, and its peak RSS growth. Imports, client set-up and one
warm-up request of the same kind happen before the clock starts, for every peer.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import resource
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

from .server import SUBSCRIPTION_SID

Workload = Callable[[], Awaitable[int]]


def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _bounded(count: int, in_flight: int, fetch: Callable[[], Awaitable[Any]]) -> int:
    slots = asyncio.Semaphore(in_flight)

    async def one() -> int:
        async with slots:
            await fetch()
            return 1

    return sum(await asyncio.gather(*(one() for _ in range(count))))


# --- the floor: raw aiohttp + orjson, no models, no checks ------------------------------


class Raw:
    def __init__(self, origin: str, sid: str, token: str) -> None:
        self.origin = origin
        self.headers = {
            "Authorization": "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
        }
        self.session = aiohttp.ClientSession()

    async def get(self, url: str) -> Any:
        async with self.session.get(url, headers=self.headers) as response:
            return orjson.loads(await response.read())

    async def list(self, path: str, page_size: int) -> int:
        count = 0
        url: str | None = f"{self.origin}{path}?PageSize={page_size}"
        while url:
            page = await self.get(url)
            for _ in page[page["meta"]["key"]]:  # visit every item, as the other peers do
                count += 1
            url = page["meta"]["next_page_url"]
        return count

    async def close(self) -> None:
        await self.session.close()


# --- twilio-python's async client, pointed at the loopback server ----------------------


def _twilio(origin: str, sid: str, token: str) -> Any:
    warnings.simplefilter("ignore")  # it uses aiohttp's deprecated BasicAuth
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    class LoopbackHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
        async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            url = url.replace("https://events.twilio.com", origin)
            return await super().request(method, url, *args, **kwargs)

    http = LoopbackHttpClient()
    return Client(sid, token, http_client=http), http


# --- the workloads, per peer --------------------------------------------------------------


async def trial(
    peer: str, workload: str, origin: str, sid: str, token: str, size: int
) -> dict[str, Any]:
    events_path = f"/v1/Subscriptions/{SUBSCRIPTION_SID}/SubscribedEvents"
    cleanup: Callable[[], Awaitable[Any]]
    fetch_one: Callable[[], Awaitable[Any]]
    list_one: Callable[[], Awaitable[Any]]
    if peer == "raw":
        raw = Raw(origin, sid, token)
        cleanup = raw.close
        fetch_one = lambda: raw.get(f"{origin}/v1/Subscriptions/{SUBSCRIPTION_SID}")  # noqa: E731
        list_one = lambda: raw.get(f"{origin}/v1/Sinks?PageSize=1")  # noqa: E731
        runs: dict[str, Workload] = {
            "list-1000": lambda: raw.list("/v1/Sinks", 1000),
            "list-50": lambda: raw.list("/v1/Sinks", 50),
            "fetch": lambda: _bounded(
                size, 50, lambda: raw.get(f"{origin}/v1/Subscriptions/{SUBSCRIPTION_SID}")
            ),
            "memory": lambda: raw.list(events_path, 1000),
        }
    elif peer == "twilio":
        client, http = _twilio(origin, sid, token)
        cleanup = http.close

        async def twilio_list(stream: Any) -> int:
            count = 0
            async for _ in await stream:
                count += 1
            return count

        subscription = client.events.v1.subscriptions(SUBSCRIPTION_SID)
        fetch_one = subscription.fetch_async
        list_one = lambda: client.events.v1.sinks.list_async(limit=1)  # noqa: E731
        runs = {
            "list-1000": lambda: twilio_list(client.events.v1.sinks.stream_async(page_size=1000)),
            "list-50": lambda: twilio_list(client.events.v1.sinks.stream_async(page_size=50)),
            "fetch": lambda: _bounded(size, 50, subscription.fetch_async),
            "memory": lambda: twilio_list(
                subscription.subscribed_events.stream_async(page_size=1000)
            ),
        }
    elif peer == "events_async":
        from events_async import EventsClient
        from events_async.audit import audit_account

        events = EventsClient(sid, token, base_url=origin, max_concurrency=50)
        cleanup = events.close
        fetch_one = lambda: events.subscriptions.fetch(SUBSCRIPTION_SID)  # noqa: E731
        list_one = lambda: events.sinks.list(limit=1).collect()  # noqa: E731

        async def ours_list(paginator: Any) -> int:
            count = 0
            async for _ in paginator:
                count += 1
            return count

        async def audit() -> int:
            report = await audit_account(events, concurrency=10)
            return report.subscribed_events

        runs = {
            "list-1000": lambda: ours_list(events.sinks.list(page_size=1000)),
            "list-50": lambda: ours_list(events.sinks.list(page_size=50)),
            "fetch": lambda: _bounded(
                size, 50, lambda: events.subscriptions.fetch(SUBSCRIPTION_SID)
            ),
            "memory": lambda: ours_list(
                events.subscriptions.subscribed_events(SUBSCRIPTION_SID).list(page_size=1000)
            ),
            "audit": audit,
        }
    else:
        raise SystemExit(f"unknown peer {peer}")
    warm_ups: dict[str, Callable[[], Awaitable[Any]]] = {
        "list-1000": list_one,
        "list-50": list_one,
        "fetch": fetch_one,
        "memory": list_one,
        "audit": list_one,
    }
    run = runs[workload]
    await warm_ups[workload]()  # first-call costs (sessions, generated code) stay off the clock
    rss_before = _rss_kib()
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    items = await run()
    cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
    rss_growth = _rss_kib() - rss_before
    await cleanup()
    return {
        "peer": peer,
        "workload": workload,
        "cpu": cpu,
        "wall": wall,
        "items": items,
        "rss_growth_kib": rss_growth,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("peer")
    parser.add_argument("workload")
    parser.add_argument("origin")
    parser.add_argument("sid")
    parser.add_argument("token")
    parser.add_argument("--size", type=int, default=2000, help="fetches, for the fetch workload")
    args = parser.parse_args()
    result = asyncio.run(
        trial(args.peer, args.workload, args.origin, args.sid, args.token, args.size)
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
