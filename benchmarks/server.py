"""The benchmark's loopback server, run in its own process so it is not what is measured.

`python -m benchmarks.server --sinks 20000 --events 200000` serves pre-rendered pages:

- `GET /v1/Sinks` — `--sinks` sinks, pages of any PageSize (rendered once, then cached);
- `GET /v1/Subscriptions/{Sid}` — one pre-rendered subscription;
- `GET /v1/Subscriptions/{Sid}/SubscribedEvents` — `--events` subscribed events.

`--audit` serves instead a `FakeEventsServer` holding a large account (100 sinks, 100
subscriptions of 10 types each) with `--latency-ms` added to every request. Either way
the first line printed is `READY <origin> <account sid> <auth token>`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import signal
from collections.abc import Callable

import orjson
from aiohttp import web

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "benchmark-token"
SUBSCRIPTION_SID = "DF" + "c" * 32


def sink(origin: str, n: int) -> dict[str, object]:
    sid = f"DG{n:032x}"
    url = f"{origin}/v1/Sinks/{sid}"
    return {
        "status": "active",
        "sink_configuration": {
            "destination": f"https://hooks.example.com/events/{n}",
            "method": "POST",
            "batch_events": True,
        },
        "description": f"Sink number {n}",
        "sid": sid,
        "date_created": "2015-07-30T19:00:00Z",
        "sink_type": "webhook",
        "date_updated": "2015-07-30T19:00:00Z",
        "url": url,
        "links": {"sink_test": f"{url}/Test", "sink_validate": f"{url}/Validate"},
    }


def subscription(origin: str) -> dict[str, object]:
    url = f"{origin}/v1/Subscriptions/{SUBSCRIPTION_SID}"
    return {
        "account_sid": ACCOUNT_SID,
        "date_created": "2015-07-30T20:00:00Z",
        "date_updated": "2015-07-30T20:01:33Z",
        "sid": SUBSCRIPTION_SID,
        "sink_sid": "DG" + "a" * 32,
        "description": "A subscription",
        "url": url,
        "links": {"subscribed_events": f"{url}/SubscribedEvents"},
    }


def subscribed_event(origin: str, n: int) -> dict[str, object]:
    type = f"com.twilio.benchmark.event-{n}"
    return {
        "account_sid": ACCOUNT_SID,
        "type": type,
        "schema_version": 1 + n % 5,
        "subscription_sid": SUBSCRIPTION_SID,
        "url": f"{origin}/v1/Subscriptions/{SUBSCRIPTION_SID}/SubscribedEvents/{type}",
    }


class PagedList:
    """One list resource: items serialised once, pages rendered once per (size, page)."""

    def __init__(self, key: str, path: str, items: list[bytes]) -> None:
        self.key = key
        self.path = path
        self.items = items
        self.pages: dict[tuple[int, int], bytes] = {}

    def page(self, origin: str, size: int, number: int) -> bytes:
        cached = self.pages.get((size, number))
        if cached is None:
            cached = self.pages[(size, number)] = self._render(origin, size, number)
        return cached

    def _render(self, origin: str, size: int, number: int) -> bytes:
        start = size * number
        chunk = self.items[start : start + size]
        base = f"{origin}{self.path}?PageSize={size}"
        has_next = start + size < len(self.items)
        meta = {
            "page": number,
            "page_size": size,
            "first_page_url": f"{base}&Page=0",
            "previous_page_url": f"{base}&Page={number - 1}&PageToken=PT{number - 1}"
            if number
            else None,
            "url": f"{base}&Page={number}",
            "next_page_url": f"{base}&Page={number + 1}&PageToken=PT{number + 1}"
            if has_next
            else None,
            "key": self.key,
        }
        return b"".join(
            [
                b'{"' + self.key.encode() + b'":[',
                b",".join(chunk),
                b'],"meta":',
                orjson.dumps(meta),
                b"}",
            ]
        )


def plain_app(origin: Callable[[], str], sinks: int, events: int) -> web.Application:
    expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    lists: dict[str, PagedList] = {}
    single: dict[str, bytes] = {}

    def prepare() -> None:
        base = origin()
        lists["/v1/Sinks"] = PagedList(
            "sinks", "/v1/Sinks", [orjson.dumps(sink(base, n)) for n in range(sinks)]
        )
        events_path = f"/v1/Subscriptions/{SUBSCRIPTION_SID}/SubscribedEvents"
        lists[events_path] = PagedList(
            "types", events_path, [orjson.dumps(subscribed_event(base, n)) for n in range(events)]
        )
        single[f"/v1/Subscriptions/{SUBSCRIPTION_SID}"] = orjson.dumps(subscription(base))

    async def handle(request: web.Request) -> web.Response:
        if not lists:
            prepare()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        body = single.get(request.path)
        if body is None:
            paged = lists.get(request.path)
            if paged is None:
                return web.json_response({"code": 20404, "message": "Not found"}, status=404)
            size = int(request.query.get("PageSize", "50"))
            number = int(request.query.get("Page", "0"))
            body = paged.page(origin(), size, number)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


async def serve_plain(sinks: int, events: int) -> None:
    origin = ""
    runner = web.AppRunner(plain_app(lambda: origin, sinks, events), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
    print(f"READY {origin} {ACCOUNT_SID} {AUTH_TOKEN}", flush=True)
    await _until_terminated()
    await runner.cleanup()


async def serve_audit(latency_ms: float) -> None:
    from events_async.testing import FakeEventsServer, Fault
    from events_async.testing.demo import seed_large_account

    async with FakeEventsServer() as fake:
        account = seed_large_account(fake.account, sinks=100)
        fake.inject(Fault(delay=latency_ms / 1000, times=None))
        print(f"READY {fake.url} {account.sid} {account.auth_token}", flush=True)
        await _until_terminated()


async def _until_terminated() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sinks", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--audit", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    if args.audit:
        asyncio.run(serve_audit(args.latency_ms))
    else:
        asyncio.run(serve_plain(args.sinks, args.events))


if __name__ == "__main__":
    main()
