"""The Redis the receiving commands share (`listen --redis-url`, `consume`): one client,
reached once at start, named in messages without its password."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from yarl import URL

from ..errors import StoreError
from .spec import Arg, UsageError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["REDIS_URL_OPTION", "STREAM_OPTION", "redis_client", "where"]

REDIS_ENV = "EVENTS_ASYNC_REDIS_URL"
CONNECT_TIMEOUT = 5.0

REDIS_URL_OPTION = Arg(
    ("--redis-url",),
    f"the Redis (or Valkey) shared by every receiver, redis://host:port/db (default: ${REDIS_ENV})",
    {"metavar": "URL", "default": None},
)
STREAM_OPTION = Arg(
    ("--stream",),
    "the Redis Stream events are handed to (default: events_async:events)",
    {"metavar": "NAME"},
)


def where(url: str) -> str:
    """`url` without its user or password: `host:port/db`."""
    try:
        parsed = URL(url)
    except ValueError:
        return "the Redis URL given"
    return f"{parsed.host or 'localhost'}:{parsed.port or 6379}{parsed.path}"


def redis_url(given: str | None) -> str | None:
    """The URL from `--redis-url`, else the environment, else None."""
    return given or os.environ.get(REDIS_ENV) or None


@contextlib.asynccontextmanager
async def redis_client(url: str) -> AsyncIterator[aioredis.Redis]:
    """A client for `url` that has answered PING, closed on exit; a Redis that cannot be
    reached is a `StoreError` naming where, never how to sign in."""
    try:
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError
    except ImportError:
        raise UsageError("--redis-url needs redis-py: pip install 'events-async[redis]'") from None
    try:
        client = aioredis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT
        )
    except ValueError:
        raise UsageError("--redis-url must be a redis://, rediss:// or unix:// URL") from None
    try:
        try:
            await client.ping()
        except (RedisError, OSError) as error:
            raise StoreError(
                f"cannot reach Redis at {where(url)}: {type(error).__name__}"
            ) from None
        yield client
    finally:
        await client.aclose()
