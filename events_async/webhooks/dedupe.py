"""Deduplication of deliveries by event `id`: each event handled once, at least once.

Twilio delivers at least once and retries for up to 4 hours, so the same event can
arrive again, even while its first delivery is still being handled. A receiver *claims*
an id before handling it; the claim is `NEW` (handle it), `DONE` (handled already:
acknowledge, do nothing) or `BUSY` (another delivery is handling it now: ask Twilio to
come back, so it is not handled twice). An id is marked done only after its handler
succeeded; a failed handler releases it, so Twilio's retry handles it again.

`MemoryDedupe` keeps ids in this process only, bounded by age and count: several
processes behind a load balancer each see only their own deliveries, so an event
retried to another process is handled there again. For exactly-once across processes,
implement `DedupeStore` over a shared store (Redis `SET NX` with a TTL, a database
unique key).
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

from .._validate import check_positive_int, check_seconds

__all__ = ["DEFAULT_WINDOW_SECONDS", "Claim", "DedupeStore", "MemoryDedupe"]

DEFAULT_WINDOW_SECONDS = 4 * 60 * 60 + 15 * 60  # Twilio retries for 4 hours; a margin
DEFAULT_MAX_IDS = 100_000


class Claim(enum.Enum):
    """What a receiver should do with an event id it claimed."""

    NEW = "new"
    DONE = "done"
    BUSY = "busy"


class DedupeStore(Protocol):
    """Where a receiver records which event ids are being, or have been, handled.

    Each call takes every id of one delivery at once, so a shared store answers a
    delivery in one round trip (a Redis pipeline, one SQL statement).
    """

    async def claim(self, event_ids: Sequence[str]) -> list[Claim]:
        """Claim each id for handling, in order; `NEW` means the caller must handle it."""

    async def done(self, event_ids: Sequence[str]) -> None:
        """The claimed events were handled: later deliveries of them are duplicates."""

    async def release(self, event_ids: Sequence[str]) -> None:
        """Handling the claimed events failed: a later delivery handles them again."""


class MemoryDedupe:
    """A `DedupeStore` in this process's memory: ids kept for `window` seconds after
    they were handled, at most `max_ids` of them (the oldest forgotten first)."""

    def __init__(
        self,
        *,
        window: float = DEFAULT_WINDOW_SECONDS,
        max_ids: int = DEFAULT_MAX_IDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = check_seconds(window, "window")
        self.max_ids = check_positive_int(max_ids, "max_ids")
        self._clock = clock
        self._done: OrderedDict[str, float] = OrderedDict()  # id -> when handled
        self._busy: set[str] = set()
        self._oldest = 0.0  # when the oldest id still kept was handled

    def __len__(self) -> int:
        return len(self._done)

    def _forget_old(self) -> None:
        done = self._done
        if not done:
            return
        horizon = self._clock() - self.window
        if len(done) <= self.max_ids and self._oldest >= horizon:
            return  # the usual case: nothing to forget, decided without walking
        while done and (len(done) > self.max_ids or next(iter(done.values())) < horizon):
            done.popitem(last=False)
        self._oldest = next(iter(done.values())) if done else 0.0

    async def claim(self, event_ids: Sequence[str]) -> list[Claim]:
        """See `DedupeStore.claim`."""
        self._forget_old()
        done, busy = self._done, self._busy
        claims = []
        for event_id in event_ids:
            if event_id in done:
                claims.append(Claim.DONE)
            elif event_id in busy:
                claims.append(Claim.BUSY)
            else:
                busy.add(event_id)
                claims.append(Claim.NEW)
        return claims

    async def done(self, event_ids: Sequence[str]) -> None:
        """See `DedupeStore.done`."""
        now = self._clock()
        done, busy = self._done, self._busy
        if not done:
            self._oldest = now
        for event_id in event_ids:
            busy.discard(event_id)
            done[event_id] = now
            done.move_to_end(event_id)
        self._forget_old()

    async def release(self, event_ids: Sequence[str]) -> None:
        """See `DedupeStore.release`."""
        self._busy.difference_update(event_ids)
