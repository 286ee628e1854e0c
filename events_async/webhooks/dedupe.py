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
from collections.abc import Callable
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
    """Where a receiver records which event ids are being, or have been, handled."""

    async def claim(self, event_id: str) -> Claim:
        """Claim `event_id` for handling; `NEW` means the caller must handle it."""

    async def done(self, event_id: str) -> None:
        """The claimed event was handled: later deliveries of it are duplicates."""

    async def release(self, event_id: str) -> None:
        """Handling the claimed event failed: a later delivery handles it again."""


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

    def __len__(self) -> int:
        return len(self._done)

    def _forget_old(self) -> None:
        horizon = self._clock() - self.window
        done = self._done
        while done and (len(done) > self.max_ids or next(iter(done.values())) < horizon):
            done.popitem(last=False)

    async def claim(self, event_id: str) -> Claim:
        """See `DedupeStore.claim`."""
        self._forget_old()
        if event_id in self._done:
            return Claim.DONE
        if event_id in self._busy:
            return Claim.BUSY
        self._busy.add(event_id)
        return Claim.NEW

    async def done(self, event_id: str) -> None:
        """See `DedupeStore.done`."""
        self._busy.discard(event_id)
        self._done[event_id] = self._clock()
        self._done.move_to_end(event_id)
        self._forget_old()

    async def release(self, event_id: str) -> None:
        """See `DedupeStore.release`."""
        self._busy.discard(event_id)
