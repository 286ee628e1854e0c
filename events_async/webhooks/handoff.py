"""What happens to a verified delivery's events: handled now, or handed to a stream.

`HandleNow` claims the events in the dedupe store, runs the handlers within their time
budget, then marks them done (or releases them, so Twilio's retry handles them again).
`HandToStream` appends them to a Redis Stream, once per event id, for workers to handle
out of band. Both answer with an `Outcome` — a status and a message — that the receiver
turns into the HTTP answer; neither knows HTTP.

A store that fails or is slower than `store_timeout` is a `StoreError`, answered 503:
Twilio retries, and no event is counted as handled without its mark.
"""

from __future__ import annotations

import asyncio
import logging
import time
import types
from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from ..errors import StoreError
from ..models import CloudEvent
from .cloudevents import event_json_bytes
from .dedupe import Claim, DedupeStore, MemoryDedupe
from .router import Progress, Router
from .stats import ReceiverStats

if TYPE_CHECKING:
    from .stream import RedisStream

__all__ = ["HandToStream", "HandleNow", "Outcome", "within"]

logger = logging.getLogger("events_async.webhooks")
_timeout_at: Any = getattr(asyncio, "timeout_at", None)
T = TypeVar("T")


@attrs.frozen
class Outcome:
    """The answer a delivery gets: its HTTP status, a message, and counts to report."""

    status: int
    message: str
    counts: dict[str, int] = attrs.field(factory=dict)


async def within(seconds: float, work: Coroutine[Any, Any, T]) -> T:
    """`await work`, cancelled `seconds` from now (`asyncio.TimeoutError`).

    Most calls on the receiver's path never suspend: the body is already buffered, the
    in-memory dedupe store answers at once, a handler that only records an event does not
    wait. So the first step of `work` runs here, and only a `work` that suspends gets a
    timer, armed for the same deadline as if it had been there from the start (arming and
    cancelling an `asyncio.timeout` costs ~10 µs, a tenth of a delivery). A timer could
    not have stopped that first step anyway: asyncio only cancels at a suspension.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        pending = work.send(None)
    except StopIteration as finished:
        value: T = finished.value
        return value
    if _timeout_at is None:  # Python < 3.11: wait_for's task, as before
        left = max(deadline - loop.time(), 0.0)
        return await asyncio.wait_for(_rest(work, pending), left)
    async with _timeout_at(deadline):
        return await _resume(work, pending)


async def _rest(work: Coroutine[Any, Any, T], pending: Any) -> T:
    return await _resume(work, pending)


@types.coroutine
def _resume(work: Coroutine[Any, Any, T], pending: Any) -> Generator[Any, Any, T]:
    """The rest of a `work` whose first step has run and handed `pending` (what it waits
    on) to the task: what `await work` would do from there, the task's results and
    exceptions (cancellation too) passed on to `work`."""
    while True:
        try:
            sent = yield pending
        except BaseException as error:
            try:
                pending = work.throw(error)
            except StopIteration as finished:
                return cast(T, finished.value)
        else:
            try:
                pending = work.send(sent)
            except StopIteration as finished:
                return cast(T, finished.value)


async def _store(step: str, seconds: float | None, work: Coroutine[Any, Any, T]) -> T:
    """A call to the dedupe store or stream, bounded by `seconds` (None: a store that
    never waits, awaited directly); any failure is a `StoreError`."""
    try:
        return await (work if seconds is None else within(seconds, work))
    except StoreError:
        raise
    except asyncio.TimeoutError:
        raise StoreError(f"the store did not answer the {step} within {seconds:g}s") from None
    except Exception as error:
        raise StoreError(f"the store failed the {step}: {type(error).__name__}") from None


def _unavailable(what: str, error: StoreError) -> Outcome:
    logger.warning("answering 503 so Twilio retries: %s", error)
    return Outcome(503, f"the {what} is unavailable; retry later")


@attrs.define
class HandleNow:
    """Handle each new event now, through `router`, deduplicated by `dedupe`."""

    router: Router
    dedupe: DedupeStore
    stats: ReceiverStats
    handler_timeout: float
    store_timeout: float
    _store_bound: float | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        # A MemoryDedupe answers at once (its methods never await), so no deadline could
        # ever fire on its calls: they are awaited directly, without `within`.
        if type(self.dedupe) is not MemoryDedupe:
            self._store_bound = self.store_timeout

    async def __call__(self, events: list[CloudEvent], malformed: int) -> Outcome:
        first: dict[str, CloudEvent] = {}
        for event in events:  # an id twice in one delivery is handled once
            first.setdefault(event.id, event)
        unique = events if len(first) == len(events) else list(first.values())
        try:
            claims = await _store("claim", self._store_bound, self.dedupe.claim(list(first)))
        except StoreError as error:
            return _unavailable("dedupe store", error)
        claimed: list[CloudEvent] = []
        busy = 0
        for event, claim in zip(unique, claims, strict=True):
            if claim is Claim.NEW:
                claimed.append(event)
            elif claim is Claim.BUSY:
                busy += 1
        duplicates = len(events) - len(claimed) - busy
        progress = Progress()
        started = time.perf_counter()
        try:
            await within(self.handler_timeout, self.router.run(claimed, progress))
        except Exception as error:  # a handler failed or ran out of time: Twilio retries
            self.stats.handler_took(time.perf_counter() - started)
            return await self._failed(claimed, progress, error)
        if claimed:
            self.stats.handler_took(time.perf_counter() - started)
            try:
                await _store("done", self._store_bound, self.dedupe.done([e.id for e in claimed]))
            except StoreError as error:
                logger.warning("%d event(s) handled, but not marked done", len(claimed))
                return _unavailable("dedupe store", error)
        self.stats.events_handled += len(claimed)
        self.stats.duplicates += duplicates
        if busy:
            return Outcome(503, "an event of this delivery is being handled; retry later")
        counts = {"handled": len(claimed), "duplicates": duplicates, "malformed": malformed}
        return Outcome(200, "handled", counts)

    async def _failed(
        self, claimed: list[CloudEvent], progress: Progress, error: Exception
    ) -> Outcome:
        handled = [event.id for event in progress.finished]
        reason = "timed out" if isinstance(error, asyncio.TimeoutError) else "failed"
        culprits = ", ".join(f"{e.id} ({e.type})" for e in progress.current[:3]) or "-"
        logger.warning(
            "a handler %s on event %s; answering 500 so Twilio retries", reason, culprits,
            exc_info=error,
        )  # fmt: skip
        done = set(handled)
        try:
            if handled:
                await _store("done", self._store_bound, self.dedupe.done(handled))
                self.stats.events_handled += len(handled)
            left = [event.id for event in claimed if event.id not in done]
            await _store("release", self._store_bound, self.dedupe.release(left))
        except StoreError as store_error:
            logger.warning("after the failure, the store failed too: %s", store_error)
        return Outcome(500, f"the handler {reason}; retry later")


@attrs.define
class HandToStream:
    """Append each new event to `stream`; 200 only once Redis has them all."""

    stream: RedisStream
    stats: ReceiverStats
    store_timeout: float

    async def __call__(self, events: list[CloudEvent], malformed: int) -> Outcome:
        from .stream import StreamEntry  # the stream needs redis, an optional extra

        entries = [StreamEntry(event.id, event.type, event_json_bytes(event)) for event in events]
        try:
            result = await _store("enqueue", self.store_timeout, self.stream.enqueue(entries))
        except StoreError as error:
            return _unavailable("stream", error)
        added = sum(result.added)
        self.stats.events_handled += added
        self.stats.duplicates += len(events) - added
        self.stats.backlog = result.backlog
        counts = {"enqueued": added, "duplicates": len(events) - added, "malformed": malformed}
        return Outcome(200, "enqueued", counts)
