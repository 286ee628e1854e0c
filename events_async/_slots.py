"""The client's own cap on its requests in flight: a count, and a queue only when full.

`asyncio.Semaphore` does the same job, but each `async with` runs five Python calls (and
`locked()` scans the waiters) even when a slot is free; here a free slot is one check and
one subtraction. Waiters are served first come, first served; a slot freed while
requests wait goes straight to the first of them, so no newcomer overtakes it.
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Slots"]


class Slots:
    """At most `size` holders at once: `take_now()` or `await take()`, then `give()`."""

    __slots__ = ("_free", "_waiters", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __repr__(self) -> str:
        return f"<Slots {self.held}/{self.size} held, {self.waiting} waiting>"

    @property
    def held(self) -> int:
        """How many slots are taken."""
        return self.size - self._free

    @property
    def waiting(self) -> int:
        """How many wait in line for a slot."""
        return len(self._waiters)

    def take_now(self) -> bool:
        """Take a slot if one is free and nobody waits for one; True if taken."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def take(self) -> None:
        """Take a slot, waiting in line for one if none is free."""
        if self.take_now():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give()  # handed a slot, cancelled before using it: pass it on
            elif waiter in self._waiters:  # give() may have dropped it already
                self._waiters.remove(waiter)
            raise

    def give(self) -> None:
        """Give a slot back: to the first waiter, else to the pool."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on, still taken
                return
        self._free += 1
