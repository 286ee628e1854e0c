"""The fleet benchmark's server, in its own process: `python -m benchmarks.fleet_server`.

Serves the Events API of `--accounts` accounts (SIDs `AC{n:032x}`, tokens
`fleet-token-{n}`), each holding 10 sinks and 10 subscriptions of 10 event types: the
fake's own answers for such an account, rendered once at start-up and then served from
memory to every account alike, after `--latency-ms`. So the server is cheap per request
and not what is measured. `GET /_stats` (neither delayed nor counted) tells its CPU time,
the requests served and, of those, the catalog's (`/v1/Types…` and `/v1/Schemas/…`,
the same for every account), so the harness counts what each peer asked rather than
assuming it and can show how busy the server was.

The first line printed is `READY <origin>`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import time

import aiohttp
from aiohttp import web

from .server import _until_terminated

SINKS = 10


def account_sid(n: int) -> str:
    return f"AC{n:032x}"


def auth_token(n: int) -> str:
    return f"fleet-token-{n}"


def authorization(n: int) -> str:
    return "Basic " + base64.b64encode(f"{account_sid(n)}:{auth_token(n)}".encode()).decode()


async def render_account() -> dict[str, bytes]:
    """Every answer an audit asks of one account, by path, as the fake renders them."""
    from events_async.testing import FakeEventsServer
    from events_async.testing.demo import seed_large_account

    bodies: dict[str, bytes] = {}
    async with FakeEventsServer() as fake, aiohttp.ClientSession() as session:
        account = seed_large_account(fake.account, sinks=SINKS)
        headers = {
            "Authorization": "Basic "
            + base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()
        }
        paths = ["/v1/Types", "/v1/Sinks", "/v1/Subscriptions"]
        paths += [f"/v1/Subscriptions/{sid}/SubscribedEvents" for sid in account.subscriptions]
        paths += [f"/v1/Schemas/{schema}" for schema in fake.catalog.schemas]
        for path in paths:
            query = "" if path.startswith("/v1/Schemas/") else "?PageSize=1000"
            async with session.get(fake.url + path + query, headers=headers) as response:
                assert response.status == 200, (path, response.status)
                bodies[path] = await response.read()
    return bodies


def is_catalog(path: str) -> bool:
    """Whether a path reads Twilio's catalog (event types, schemas): the same for every
    account, so a fleet may read it once a run."""
    return path.startswith(("/v1/Types", "/v1/Schemas/"))


def fleet_app(bodies: dict[str, bytes], accounts: int, latency: float) -> web.Application:
    allowed = {authorization(n) for n in range(accounts)}
    served = catalog = 0

    async def answer(request: web.Request) -> web.Response:
        nonlocal served, catalog
        served += 1
        catalog += is_catalog(request.path)
        if request.headers.get("Authorization") not in allowed:
            return web.json_response({"code": 20003, "status": 401}, status=401)
        body = bodies.get(request.path)
        if latency:
            await asyncio.sleep(latency)
        if body is None:
            return web.json_response({"code": 20404, "status": 404}, status=404)
        return web.Response(body=body, content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(
            {"cpu": time.process_time(), "requests": served, "catalog": catalog}
        )

    app = web.Application()
    app.router.add_get("/_stats", stats)
    app.router.add_get("/{tail:.*}", answer)
    return app


async def serve(accounts: int, latency_ms: float) -> None:
    bodies = await render_account()
    runner = web.AppRunner(fleet_app(bodies, accounts, latency_ms / 1000), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(f"READY http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await _until_terminated()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(serve(args.accounts, args.latency_ms))


if __name__ == "__main__":
    main()
