"""Constants and helpers the tests share."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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
