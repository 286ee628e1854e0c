"""What a receiver has seen: test events by probe, refusals, requests to other paths.

`prove_sink` waits here for its sink's test event, and when none comes, says what did
arrive instead — nothing at all, deliveries refused for their signature, or requests to
another path — so the error points at the destination, the token or the network.
"""

from __future__ import annotations

import asyncio

import attrs

from .._validate import check_seconds
from ..errors import ProbeTimeoutError
from ..models import CloudEvent

__all__ = ["Observations", "Sightings"]


@attrs.frozen
class Sightings:
    """Counts of what reached a receiver, to compare before and after a wait."""

    verified: int = 0
    refused: int = 0
    last_refusal: str | None = None
    strays: int = 0
    last_stray: str | None = None

    def since(self, before: Sightings) -> str:
        """What arrived after `before`, in words, for an error message."""
        seen = []
        if self.refused > before.refused:
            seen.append(
                f"{self.refused - before.refused} delivery(ies) refused ({self.last_refusal}): "
                "is the receiver's auth token the account's?"
            )
        if self.strays > before.strays:
            seen.append(
                f"{self.strays - before.strays} request(s) to another path ({self.last_stray}): "
                "does the destination's path match the receiver's?"
            )
        if self.verified > before.verified:
            seen.append(f"{self.verified - before.verified} verified delivery(ies) of other events")
        if not seen:
            return "nothing reached the receiver: is the destination reachable from Twilio?"
        return "; ".join(seen)


class Observations:
    """The receiver's record of test events (by probe) and of what it refused."""

    def __init__(self) -> None:
        self._verified = self._refused = self._strays = 0  # plain counts: the hot path
        self._last_refusal: str | None = None
        self._last_stray: str | None = None
        self._test_events: dict[str | None, list[CloudEvent]] = {}
        self._waiters: dict[str | None, list[asyncio.Future[None]]] = {}

    @property
    def sightings(self) -> Sightings:
        """What has reached the receiver so far, as one value to compare later."""
        return Sightings(
            self._verified, self._refused, self._last_refusal, self._strays, self._last_stray
        )

    def verified(self) -> None:
        self._verified += 1

    def refused(self, reason: str) -> None:
        self._refused += 1
        self._last_refusal = reason

    def stray(self, path: str) -> None:
        self._strays += 1
        self._last_stray = path[:200]

    def test_events(self, probe: str | None = None) -> list[CloudEvent]:
        """The verified test events delivered for `probe` so far, oldest first."""
        return list(self._test_events.get(probe, ()))

    def record_test_event(self, probe: str | None, event: CloudEvent) -> None:
        self._test_events.setdefault(probe, []).append(event)
        for waiter in self._waiters.pop(probe, []):
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for_test_event(
        self, probe: str | None, timeout: float, *, skip: int = 0
    ) -> CloudEvent:
        """The first test event for `probe` after the first `skip`; `ProbeTimeoutError`
        (also an `asyncio.TimeoutError`) after `timeout` seconds, saying what came."""
        check_seconds(timeout, "timeout")
        before = self.sightings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(seen := self._test_events.get(probe, [])) <= skip:
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(probe, []).append(waiter)
            try:
                await asyncio.wait_for(waiter, max(deadline - loop.time(), 0))
            except asyncio.TimeoutError:
                raise ProbeTimeoutError(
                    f"no test event within {timeout:g}s: {self.sightings.since(before)}"
                ) from None
            finally:
                waiters = self._waiters.get(probe, [])
                if waiter in waiters:
                    waiters.remove(waiter)
        return seen[skip]
