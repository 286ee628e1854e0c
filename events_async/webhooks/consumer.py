"""The worker side of the hand-off: events read from the Redis Stream by a consumer group.

```python
async with StreamConsumer.from_url("redis://...") as consumer:
    await consumer.run(handle, stop=stop)  # handle(event: CloudEvent) -> Awaitable[None]
```

- At least once to workers: an entry is acknowledged (XACK and XDEL, so the stream's
  length is the backlog) only after its handler returned. A handler that raised, or a
  worker killed mid-event, leaves it pending; once pending `idle` seconds, any worker of
  the group reclaims it (XPENDING IDLE, then XCLAIM, which one worker wins) and handles
  it again. So a handler may see an event twice: make it idempotent, or dedupe on
  `event.id`. A worker restarted under its `consumer` name first re-reads its own.
- No ordering across workers, nor for a retried entry; one worker reads new entries in
  stream order.
- A poison event never loops forever and is never lost: an entry already delivered
  `max_deliveries` times moves, at its next reclaim, to the dead-letter stream (its
  fields plus `reason`, `deliveries` and the original `entry` id) and out of the main
  one, in one atomic script; a payload that is not one CloudEvent moves there at once.
  Nothing trims the dead letters: inspect, replay or delete them.

Trade-offs: a small `idle` retries sooner, but a handler running longer than `idle` is
taken over and its event handled twice: keep `idle` well over the slowest handler. A
larger `max_deliveries` rides out a longer outage of what handlers call, at the cost of
about `max_deliveries * idle` before a poison event is set aside. The producer's `window`
(see `stream`) is how late a Twilio redelivery is still recognised as a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

try:
    import redis.asyncio as aioredis
    from redis.crc import key_slot
    from redis.exceptions import ResponseError
except ImportError:  # pragma: no cover - exercised by a test that hides redis
    raise ImportError(
        "events_async.webhooks.consumer needs redis-py: pip install 'events-async[redis]'"
    ) from None

from .._validate import check_positive_int, check_seconds, check_text
from ..errors import InvalidRequestError, PayloadError
from ..models import CloudEvent
from .events import parse_events
from .stream import DEFAULT_STREAM, REDIS_ERRORS, raise_store_error, stream_key

__all__ = ["DEFAULT_GROUP", "StreamConsumer", "StreamMessage"]

logger = logging.getLogger("events_async.webhooks")

DEFAULT_GROUP = "events_async"

# KEYS[1] the stream, KEYS[2] the dead-letter stream; ARGV group, entry id, reason,
# deliveries, idle ms. Only an entry still pending that long moves, by one worker only:
# one that another worker claimed meanwhile (which resets its idle time) stays. XADD goes
# first: if it fails, nothing changed (Redis does not roll a script back).
_DEAD_LETTER = """
local waiting = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[5], ARGV[2], ARGV[2], 1)
if #waiting == 0 then return 0 end
local found = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #found == 0 then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  return 0
end
local fields = found[1][2]
for _, value in ipairs({'reason', ARGV[3], 'deliveries', ARGV[4], 'entry', ARGV[2]}) do
  fields[#fields + 1] = value
end
redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
"""

Entry = tuple[Any, Any]  # (entry id, fields) as redis-py returns them
_FIELDS = ("id", "type", "event")
_OPTIONS = {"group", "consumer", "count", "block", "idle", "max_deliveries", "dead_letter"}


@attrs.frozen
class StreamMessage:
    """One entry read from the stream: `event` is its payload parsed (a `CloudEvent`),
    `deliveries` how many times it has been delivered, this time included (1 at first)."""

    entry_id: str
    event_id: str
    event_type: str
    payload: bytes = attrs.field(repr=False)
    deliveries: int
    event: CloudEvent = attrs.field(repr=False, eq=False)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _field(fields: dict[Any, Any], name: str) -> bytes | None:
    value = fields.get(name.encode(), fields.get(name))  # bytes, or str if decode_responses
    return value.encode() if isinstance(value, str) else value


def _entries(reply: Any) -> list[Entry]:
    """The entries of an XREADGROUP reply of one stream (RESP2 or RESP3)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return [entry for batch in reply.values() for entry in batch[0]]
    return list(reply[0][1])


class StreamConsumer:
    """One worker of a consumer group on the stream `name` (see the module for what it
    guarantees). `consumer` names this worker in the group (default host-pid-random);
    reads take `count` entries and block at most `block` seconds; entries pending
    `idle` seconds are reclaimed, at most every `idle / 2` seconds."""

    def __init__(
        self,
        redis: aioredis.Redis,
        name: str = DEFAULT_STREAM,
        *,
        group: str = DEFAULT_GROUP,
        consumer: str | None = None,
        count: int = 10,
        block: float = 1.0,
        idle: float = 30.0,
        max_deliveries: int = 5,
        dead_letter: str | None = None,
    ) -> None:
        self.name = name
        self.key = stream_key(name)
        self.group = check_text(group, "group")
        default = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        self.consumer = check_text(consumer, "consumer") if consumer is not None else default
        self.count = check_positive_int(count, "count")
        self.block = check_seconds(block, "block")
        self.idle = check_seconds(idle, "idle")
        self.max_deliveries = check_positive_int(max_deliveries, "max_deliveries")
        self.dead_letter = f"{self.key}:dead" if dead_letter is None else dead_letter
        if key_slot(self.dead_letter.encode()) != key_slot(self.key.encode()):
            raise InvalidRequestError(
                f"dead_letter must hash to the stream's Redis Cluster slot: give it the "
                f"stream's hash tag, e.g. {self.key + ':poison'!r}; got {dead_letter!r}"
            )
        self._redis = redis
        self._dead_script = redis.register_script(_DEAD_LETTER)
        self._owned = self._closed = self._group_ready = False
        self._history: str | None = "0"  # own pending entries are read from here first
        self._next_reclaim = 0.0
        self._ready: list[StreamMessage] = []

    @classmethod
    def from_url(cls, url: str, name: str = DEFAULT_STREAM, **options: Any) -> StreamConsumer:
        """A consumer over a client made from `url`; the consumer's keyword arguments are
        taken from `options`, the rest go to `Redis.from_url` (socket timeouts default to
        5 s, and `block` more for reads)."""
        mine = {key: options.pop(key) for key in list(options) if key in _OPTIONS}
        options.setdefault("socket_connect_timeout", 5.0)
        options.setdefault("socket_timeout", check_seconds(mine.get("block", 1.0), "block") + 5)
        consumer = cls(aioredis.Redis.from_url(url, **options), name, **mine)
        consumer._owned = True
        return consumer

    async def ack(self, message: StreamMessage) -> None:
        """The message was handled: XACK and XDEL it, in one MULTI round trip."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xack(self.key, self.group, message.entry_id)
                pipe.xdel(self.key, message.entry_id)
                await pipe.execute()
        except REDIS_ERRORS as error:
            raise_store_error("acknowledge", error)

    async def run(
        self,
        handler: Callable[[CloudEvent], Awaitable[None]],
        *,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Hand each event to `handler` and acknowledge it once it returned; one that
        raises is logged and left pending, to be retried after `idle`. Returns once
        `stop` is set (seen within `block` seconds, after the entries already read);
        cancelling it cancels the read or handler it awaits, leaving entries pending."""
        while stop is None or not stop.is_set():
            for message in await self.read():
                try:
                    await handler(message.event)
                except Exception as error:
                    logger.warning(
                        "a handler failed on event %s (%s): %s; left pending, retried after %gs",
                        message.event_id, message.event_type, type(error).__name__, self.idle,
                        exc_info=True,
                    )  # fmt: skip
                    continue
                await self.ack(message)

    def __aiter__(self) -> StreamConsumer:
        return self

    async def __anext__(self) -> StreamMessage:
        while not self._ready:
            self._ready = await self.read()
        return self._ready.pop(0)

    async def read(self) -> list[StreamMessage]:
        """The next entries for this worker: reclaimed ones when due, its own pending ones
        after a restart, then new ones (waiting at most `block` seconds: maybe none)."""
        try:
            if not self._group_ready:
                await self._create_group()
            if self._history is not None:
                own = await self._read_history()
                if own or self._history is not None:  # more of its own may follow
                    return own
            if time.monotonic() >= self._next_reclaim:
                reclaimed = await self._reclaim()
                if reclaimed:
                    return reclaimed
            due = self._next_reclaim - time.monotonic()  # block no longer than till a sweep
            ms = max(1, round(1000 * min(self.block, due)))
            reply = await self._redis.xreadgroup(
                self.group, self.consumer, {self.key: ">"}, count=self.count, block=ms
            )
            return await self._messages(_entries(reply), {})
        except ResponseError as error:
            if str(error).startswith("NOGROUP"):  # the stream or group was deleted
                self._group_ready = False
                return []
            raise_store_error("read the stream", error)
        except REDIS_ERRORS as error:
            raise_store_error("read the stream", error)

    async def _create_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.key, self.group, "0", mkstream=True)
        except ResponseError as error:
            if not str(error).startswith("BUSYGROUP"):
                raise
        self._group_ready = True

    async def _read_history(self) -> list[StreamMessage]:
        """This consumer's own pending entries (a restart), `count` at a time."""
        reply = await self._redis.xreadgroup(
            self.group, self.consumer, {self.key: self._history or "0"}, count=self.count
        )
        entries = _entries(reply)
        if not entries:
            self._history = None
            return []
        self._history = _text(entries[-1][0])
        first, last = _text(entries[0][0]), self._history
        pending = await self._redis.xpending_range(
            self.key, self.group, first, last, len(entries), consumername=self.consumer
        )
        counts = {_text(row["message_id"]): int(row["times_delivered"]) for row in pending}
        mine = [entry for entry in entries if _text(entry[0]) in counts]  # not reclaimed since
        return await self._messages(mine, counts)

    async def _reclaim(self) -> list[StreamMessage]:
        """Entries pending `idle` seconds on any consumer: dead-lettered if delivered
        `max_deliveries` times already, else claimed (XCLAIM counts a delivery)."""
        idle_ms = max(1, round(self.idle * 1000))
        pending = await self._redis.xpending_range(
            self.key, self.group, "-", "+", self.count, idle=idle_ms
        )
        full = len(pending) == self.count  # more may wait: sweep again at once
        self._next_reclaim = time.monotonic() + (0.0 if full else self.idle / 2)
        counts: dict[str, int] = {}
        for row in pending:
            entry_id, delivered = _text(row["message_id"]), int(row["times_delivered"])
            if delivered >= self.max_deliveries:  # unless another worker just claimed it
                await self._bury(entry_id, "max_deliveries", delivered, idle_ms)
            else:
                counts[entry_id] = delivered + 1
        if not counts:
            return []
        claimed: list[Entry] = await self._redis.xclaim(  # type: ignore[assignment]
            self.key, self.group, self.consumer, idle_ms, list(counts)
        )
        return await self._messages([entry for entry in claimed if entry[0]], counts)

    async def _messages(self, entries: list[Entry], counts: dict[str, int]) -> list[StreamMessage]:
        """Messages of `entries` (first deliveries unless `counts` says otherwise); the
        ones delivered too often, or that are not one CloudEvent, go to the dead letters."""
        messages = []
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            deliveries = counts.get(entry_id, 1)
            if deliveries > self.max_deliveries:
                await self._bury(entry_id, "max_deliveries", deliveries - 1)
                continue
            event_id, event_type, payload = (_field(fields or {}, f) for f in _FIELDS)
            if event_id is None or event_type is None or payload is None:
                await self._bury(entry_id, "malformed entry", deliveries)  # gone, or not ours
                continue
            try:
                events = parse_events(payload)
                if len(events) != 1:
                    raise PayloadError(f"the payload holds {len(events)} events, not one")
            except PayloadError as error:
                await self._bury(entry_id, f"not a CloudEvent: {error}", deliveries)
                continue
            text = _text(event_id), _text(event_type)
            messages.append(StreamMessage(entry_id, *text, payload, deliveries, events[0]))
        return messages

    async def _bury(self, entry_id: str, reason: str, deliveries: int, idle_ms: int = 0) -> None:
        """Move the entry, if pending `idle_ms` at least, to the dead-letter stream and out
        of the main one, atomically (an entry that is gone is just acknowledged)."""
        keys = [self.key, self.dead_letter]
        args: list[str | int] = [self.group, entry_id, reason, deliveries, idle_ms]
        if await self._dead_script(keys=keys, args=args):
            logger.warning(
                "dead-lettered stream entry %s to %s: %s", entry_id, self.dead_letter, reason
            )

    async def aclose(self) -> None:
        """Close the client if `from_url` made it; a given client stays the caller's."""
        if self._owned and not self._closed:
            self._closed = True
            await self._redis.aclose()

    async def __aenter__(self) -> StreamConsumer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
