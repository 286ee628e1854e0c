"""Every attempt's deadlines in one event loop, watched by one timer.

An attempt of `AiohttpTransport` has two deadlines:

- **total**: the whole attempt (waiting for a connection, connecting, sending, the head
  and the body) within `total` seconds of its start;
- **read**: the answer's head (status line and headers) within `read` seconds of the
  attempt's start, then never `read` seconds without a chunk of the body.

aiohttp can keep both (`ClientTimeout.total` and `sock_read`), but it arms a timer per
request for the total and re-arms another on every chunk received for the read: about
64k instructions of a 450k-instruction fetch, most of it keeping asyncio's heap of
cancelled timers in order. Here one timer serves every attempt of the loop. An attempt
only notes the time it started and when it last made progress (its head, each chunk);
the timer is armed for the earliest deadline any attempt in flight could have, and when
it fires it looks at each attempt: one past a deadline fails, the others set the next
time. A fast answer arms nothing of its own, and the timer fires about once per `read`
seconds however many requests go by.

A failed attempt ends as aiohttp's own would: a read that stalls raises
`aiohttp.SocketTimeoutError("Timeout on reading data from socket")`, the total a bare
`asyncio.TimeoutError`; the connection is closed, never reused. Before the head, the
attempt's task is cancelled and the cancellation turned into that error by `failure`;
a cancellation the task got from anyone else stays a cancellation (on Python >= 3.11,
where `Task.uncancel` tells them apart; on 3.10, as with aiohttp's own `total`, a
cancel that lands in the same loop iteration as the deadline becomes the timeout).
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Callable
from typing import Any

import aiohttp

__all__ = ["READ_TIMEOUT_MESSAGE", "Deadlines", "Watch"]

READ_TIMEOUT_MESSAGE = "Timeout on reading data from socket"  # aiohttp's own words


class Watch:
    """One attempt in flight: its task, when it started, its last progress, its answer."""

    __slots__ = (
        "cancelled",
        "cancelling",
        "error",
        "progress",
        "response",
        "started",
        "task",
        "time",
    )

    def __init__(
        self, task: asyncio.Task[Any], time: Callable[[], float], now: float, cancelling: int
    ) -> None:
        self.task = task
        self.time = time
        self.started = now
        self.progress = now  # the start, then the head, then each chunk of the body
        self.response: aiohttp.ClientResponse | None = None  # once the head is in
        self.cancelling = cancelling  # the task's cancel requests when it started
        self.error: BaseException | None = None  # set when a deadline passed
        self.cancelled = False  # ... and the task was cancelled for it

    def moved(self) -> None:
        """The attempt made progress now (its head, a chunk of its body)."""
        self.progress = self.time()

    def failure(self) -> BaseException | None:
        """The timeout to raise instead of the `CancelledError` being handled, or None:
        the attempt is not past a deadline, or someone else cancelled it too."""
        if not self.cancelled:
            return None  # not ours (after the head, a deadline fails the read instead)
        uncancel = getattr(self.task, "uncancel", None)
        if uncancel is not None and uncancel() > self.cancelling:
            return None  # our cancel is withdrawn; another is still pending: let it through
        return self.error


class Deadlines:
    """The attempts in flight in one loop and the one timer that watches them.

    `total` and `read` are in seconds; None leaves that deadline out (at least one is
    set). `watch()` when an attempt starts, `done()` when it ends (in a `finally`)."""

    __slots__ = ("_first", "_loop", "_read", "_timer", "_total", "_watches", "time")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, *, total: float | None, read: float | None
    ) -> None:
        assert total is not None or read is not None
        self._loop = loop
        self.time = loop.time
        self._total = math.inf if total is None else total
        self._read = math.inf if read is None else read
        self._first = min(self._total, self._read)  # no attempt's deadline comes sooner
        self._watches: set[Watch] = set()
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._watches)

    def watch(self, task: asyncio.Task[Any]) -> Watch:
        """Watch an attempt that starts now, run by `task`."""
        cancelling = 0
        if sys.version_info >= (3, 11):
            cancelling = task.cancelling()  # those pending are not ours to withdraw
        now = self.time()
        watch = Watch(task, self.time, now, cancelling)
        self._watches.add(watch)
        if self._timer is None:
            # Armed timers are never later than this: each one is set for the earliest
            # deadline of the attempts in flight, none later than its own start + _first.
            self._timer = self._loop.call_at(now + self._first, self._check)
        return watch

    def done(self, watch: Watch) -> None:
        """The attempt ended (answered, failed or cancelled)."""
        self._watches.discard(watch)

    def close(self) -> None:
        """Stop the timer (the transport is closing), unless attempts are still in flight:
        on an injected session, which outlives the transport, their deadlines still hold
        (the timer stops by itself once they have ended)."""
        if self._timer is not None and not self._watches:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        self._timer = None
        now = self.time()
        total, read = self._total, self._read
        soonest = math.inf
        for watch in tuple(self._watches):
            if watch.error is not None:
                continue  # failed, not yet ended
            total_at = watch.started + total
            read_at = watch.progress + read
            due = min(total_at, read_at)
            if due > now:
                soonest = min(soonest, due)
            else:
                self._fail(watch, read_at < total_at)  # due at once: the total
        if soonest < math.inf:
            self._timer = self._loop.call_at(soonest, self._check)

    @staticmethod
    def _fail(watch: Watch, stalled: bool) -> None:
        """End the attempt with its timeout."""
        watch.error = error = _error(stalled)
        response = watch.response
        content = response.content if response is not None else None
        if content is None or content.is_eof():
            # Inside aiohttp (waiting for its head, or for the request's own body to be
            # written once the answer is all in): only a cancel reaches it.
            watch.cancelled = True
            watch.task.cancel()
            return
        content.set_exception(error)  # wakes the read with it
        response.close()  # type: ignore[union-attr]  # the connection is not reused


def _error(stalled: bool) -> BaseException:
    if stalled:
        return aiohttp.SocketTimeoutError(READ_TIMEOUT_MESSAGE)
    return asyncio.TimeoutError()
