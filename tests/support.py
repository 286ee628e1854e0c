"""Constants and helpers the tests share."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from events_async import EventsClient

ROOT = Path(__file__).resolve().parent.parent  # the repository
TESTS = ROOT / "tests"
DATA = TESTS / "data"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "s3cr3t-auth-token-value"
API_KEY = "SK" + "fedcba9876543210" * 2
API_SECRET = "s3cr3t-api-secret-value"
SINK_SID = "DG" + "a" * 32
SUBSCRIPTION_SID = "DF" + "a" * 32
BASE = "https://events.twilio.com"


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on an ephemeral loopback port; yields its origin, e.g. http://127.0.0.1:1234."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def basic_auth(login: str, password: str) -> str:
    """An `Authorization` header value (aiohttp deprecates BasicAuth)."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def decode_basic_auth(header: str) -> tuple[str, str]:
    """(login, password) from an `Authorization` header value."""
    scheme, _, encoded = header.partition(" ")
    assert scheme == "Basic"
    login, _, password = base64.b64decode(encoded).decode().partition(":")
    return login, password


def loopback_client(base_url: str, **options: Any) -> EventsClient:
    """A client with test credentials pointed at a loopback server."""
    options.setdefault("max_retries", 0)
    return EventsClient(ACCOUNT_SID, AUTH_TOKEN, base_url=base_url, **options)


class CountingConnector(aiohttp.TCPConnector):
    """A pool that counts the connections it has handed out and not got back, through
    aiohttp's public `connect()` and `Connection.add_callback` (aiohttp keeps no public
    count of them): `in_use`. A connection dropped without `release()` or `close()`
    stays counted."""

    in_use = 0

    async def connect(self, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection:
        connection = await super().connect(*args, **kwargs)
        self.in_use += 1
        connection.add_callback(self._returned)
        return connection

    def _returned(self) -> None:
        self.in_use -= 1


@contextlib.asynccontextmanager
async def counted_session(pool_size: int = 100) -> AsyncIterator[aiohttp.ClientSession]:
    """A session like the library's own (a pool of `pool_size`, no cookie jar) on a
    `CountingConnector`: inject it (`session=`) and read `connections_in_use(session)`."""
    connector = CountingConnector(limit=pool_size)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        yield session


def connections_in_use(session: aiohttp.ClientSession) -> int:
    """Connections of a `counted_session()` handed out and not yet returned."""
    connector = session.connector
    assert isinstance(connector, CountingConnector)
    return connector.in_use


def linked_pages(
    next_urls: list[str | None], seen: list[str], *, page: Any = None
) -> web.Application:
    """A list endpoint that answers with the next of `next_urls` as next_page_url."""

    async def sinks(request: web.Request) -> web.Response:
        seen.append(str(request.rel_url))
        index = len(seen) - 1
        meta = {
            "page": index if page is None else page,
            "page_size": 1,
            "key": "sinks",
            "next_page_url": next_urls[min(index, len(next_urls) - 1)],
        }
        return web.json_response({"sinks": [{"sid": "DG" + "0" * 32}], "meta": meta})

    async def other(request: web.Request) -> web.Response:
        return web.json_response({"sinks": [], "meta": {"key": "sinks"}})

    app = web.Application()
    app.router.add_get("/v1/Sinks", sinks)
    app.router.add_get("/v1/Subscriptions", other)
    app.router.add_get("/v1/Types", other)
    return app
