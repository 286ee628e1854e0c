"""The durable hand-off of the receive side: verified events appended to a Redis Stream.

A receiver verifies a delivery, then `RedisStream.enqueue`s its events and answers
Twilio 200 only once Redis answered; workers handle them from the stream through a
consumer group (`events_async.webhooks.consumer.StreamConsumer`). A failure of Redis
raises `StoreError`, which a receiver answers 503, so Twilio delivers again: an event
is either in the stream or still Twilio's to retry.

Each enqueue is one round trip (a Lua script, atomic): for each event whose seen-mark
is not there, `XADD <stream> * id <id> type <type> event <payload>` and then the mark,
`SET <seen> 1 PX <window>` (in that order, so a script failing midway never leaves an
event marked but not added); then `XLEN`. So an event id enters the stream once while its
mark lives: `window` (default 4 h 15 min, Twilio's retry horizon plus a margin) trades
Redis memory, one small key per event, for how late a redelivery is still recognised.
(The first enqueue after Redis lost its script cache also loads the script: two more.)

Keys, so all of one script share a Redis Cluster slot: a `name` that carries a hash tag
(`{...}` with something inside) is the stream's key as given; any other is wrapped,
`events_async:events` becoming `{events_async:events}`. Seen-marks are that key plus
`:seen:<event id>`, the consumers' default dead-letter stream that key plus `:dead`. A
name with braces but no hash tag is refused, as it could hash apart from its marks.

Nothing is ever trimmed (no MAXLEN): an entry leaves the stream only when a worker
acknowledged it (XACK and XDEL), so `XLEN` is the backlog of unhandled events. "Redis
has it" is as durable as the server is configured to be: use AOF (`appendonly yes`) and
replicas for a hand-off that outlives the Redis process.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any, NoReturn

import attrs

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - exercised by a test that hides redis
    raise ImportError(
        "events_async.webhooks.stream needs redis-py: pip install 'events-async[redis]'"
    ) from None

from .._validate import check_seconds, check_text
from ..errors import InvalidRequestError, StoreError
from .dedupe import DEFAULT_WINDOW_SECONDS

__all__ = [
    "DEFAULT_STREAM",
    "EnqueueResult",
    "RedisStream",
    "StreamEntry",
    "stream_key",
]

DEFAULT_STREAM = "events_async:events"
REDIS_ERRORS = (RedisError, OSError, asyncio.TimeoutError)
"""What a failing Redis raises: each is turned into a `StoreError`."""

_TAGGED = re.compile(r"^[^{]*\{[^}]+\}")  # the first "{" opens a non-empty hash tag
_ERROR_CODE = re.compile(r"(?:^|: )([A-Z][A-Z_]+)(?= |$)")  # a script's error quotes it

# KEYS[1] the stream, KEYS[i + 1] the seen-mark of entry i;
# ARGV[1] the window in ms, then event id, type and payload for each entry.
# The mark is set after its XADD: a script that fails midway (Redis does not roll it
# back) leaves no event marked that is not in the stream.
_ENQUEUE = """
local added = {}
for i = 2, #KEYS do
  local at = 2 + (i - 2) * 3
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('XADD', KEYS[1], '*', 'id', ARGV[at], 'type', ARGV[at + 1],
               'event', ARGV[at + 2])
    redis.call('SET', KEYS[i], '1', 'PX', ARGV[1])
    added[i - 1] = 1
  else
    added[i - 1] = 0
  end
end
added[#KEYS] = redis.call('XLEN', KEYS[1])
return added
"""


def stream_key(name: str) -> str:
    """The Redis key of the stream called `name`: `name` if it carries a hash tag, else
    `{name}`; its seen-marks and dead letters are this key plus a suffix (same slot)."""
    check_text(name, "name")
    if _TAGGED.match(name):
        return name
    if "{" in name or "}" in name:
        raise InvalidRequestError(
            f"a stream name with braces must start its hash tag well, e.g. 'app:{{events}}',"
            f" got {name!r}"
        )
    return "{" + name + "}"


def raise_store_error(step: str, error: BaseException) -> NoReturn:
    """Raise a `StoreError` naming `step` and the class of `error` (and a Redis error
    code such as OOM or NOGROUP), never its text: that can name hosts."""
    found = _ERROR_CODE.search(str(error.args[0])) if error.args else None
    code = f" {found[1]}" if isinstance(error, RedisError) and found else ""
    raise StoreError(f"Redis failed to {step}: {type(error).__name__}{code}") from None


@attrs.frozen
class StreamEntry:
    """One event to hand off: its id and type, and its CloudEvents JSON as it came."""

    event_id: str
    event_type: str
    payload: bytes = attrs.field(repr=False)


@attrs.frozen
class EnqueueResult:
    """`added[i]` is whether entry i entered the stream (False: a duplicate while its
    seen-mark lives); `backlog` is the stream's length after, the unacknowledged events."""

    added: list[bool]
    backlog: int


class RedisStream:
    """The producer side of the hand-off: `enqueue` a delivery's events, each id once.

    `redis` is a `redis.asyncio.Redis` the caller owns (and closes); `from_url` makes one
    that `aclose()` closes. Give it socket timeouts: a receiver should answer 503 rather
    than wait on a Redis that does not answer (`from_url` sets 5 s unless told).
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        name: str = DEFAULT_STREAM,
        *,
        window: float = DEFAULT_WINDOW_SECONDS,
    ) -> None:
        self.name = name
        self.key = stream_key(name)
        self.window = check_seconds(window, "window")
        self._window_ms = max(1, round(self.window * 1000))
        self._redis = redis
        self._script = redis.register_script(_ENQUEUE)
        self._owned = False
        self._closed = False

    @classmethod
    def from_url(
        cls,
        url: str,
        name: str = DEFAULT_STREAM,
        *,
        window: float = DEFAULT_WINDOW_SECONDS,
        **options: Any,
    ) -> RedisStream:
        """A stream over a client made from `url` (options go to `Redis.from_url`)."""
        options.setdefault("socket_connect_timeout", 5.0)
        options.setdefault("socket_timeout", 5.0)
        stream = cls(aioredis.Redis.from_url(url, **options), name, window=window)
        stream._owned = True
        return stream

    def seen_key(self, event_id: str) -> str:
        """The key of the mark that makes a later enqueue of `event_id` a duplicate."""
        return f"{self.key}:seen:{event_id}"

    async def enqueue(self, entries: Sequence[StreamEntry]) -> EnqueueResult:
        """Append each entry whose id is not marked seen, in one atomic round trip."""
        keys = [self.key, *(self.seen_key(entry.event_id) for entry in entries)]
        args: list[str | bytes | int] = [self._window_ms]
        for entry in entries:
            args += (entry.event_id, entry.event_type, entry.payload)
        try:
            reply = await self._script(keys=keys, args=args)
        except REDIS_ERRORS as error:
            raise_store_error("enqueue", error)
        if not isinstance(reply, list) or len(reply) != len(entries) + 1:
            raise StoreError("Redis failed to enqueue: an unexpected reply")
        return EnqueueResult(added=[flag == 1 for flag in reply[:-1]], backlog=int(reply[-1]))

    async def backlog(self) -> int:
        """How many events are in the stream: enqueued and not yet acknowledged."""
        try:
            return int(await self._redis.xlen(self.key))
        except REDIS_ERRORS as error:
            raise_store_error("read the backlog", error)

    async def aclose(self) -> None:
        """Close the client if `from_url` made it; a given client stays the caller's."""
        if self._owned and not self._closed:
            self._closed = True
            await self._redis.aclose()

    async def __aenter__(self) -> RedisStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
