"""Shared fixtures: test credentials, spec examples, and an aioresponses that works."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import aioresponses.core as aioresponses_core
import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses

from events_async import EventsClient

from .redis_server import RedisServer
from .support import ACCOUNT_SID, AUTH_TOKEN, DATA


class _CompatClientResponse(ClientResponse):
    """aioresponses 0.7.9 builds ClientResponse without `stream_writer`, which aiohttp
    3.14 made a required argument (aioresponses issue 289). Supplying a writer that has
    already sent everything lets its canned responses build again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", mock.Mock(output_size=0))
        super().__init__(*args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _aioresponses_compat() -> Iterator[None]:
    with mock.patch.object(aioresponses_core, "ClientResponse", _CompatClientResponse):
        yield


@pytest.fixture(scope="session")
def spec_examples() -> dict[str, dict[str, Any]]:
    """Response examples of the newest spec, by operationId and example name."""
    examples: dict[str, dict[str, Any]] = json.loads((DATA / "spec_examples.json").read_text())
    return examples


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[EventsClient]:
    async with EventsClient(ACCOUNT_SID, AUTH_TOKEN, max_retries=0) as c:
        yield c


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server on loopback for the session (see tests/redis_server.py)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.start()  # a test that stopped it leaves it to be started again
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, which the test may stop and start."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Any]:
    """A redis-py asyncio client of the session's Redis, emptied for this test."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()
