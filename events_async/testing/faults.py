"""Fault injection for the fake: make chosen requests fail, stall, drop or garble.

A `Fault` names the requests it applies to by route ("GET /v1/Sinks/{Sid}", "POST *",
or "*"), how many times it fires (or forever), and with what chance. What it does:

- `status`: answer with that status and Twilio's error JSON (`retry_after` adds the
  `Retry-After` header, as with a 429);
- `drop`: close the connection without answering;
- `malformed`: answer 200 with a body that is not JSON;
- `delay`: wait that many seconds first (alone, a fault that only adds latency).

With `account`, it applies only to requests signed in as that account (by its SID or
one of its API keys): the way to make one account of a fleet misbehave.

With `after=True` the request is carried out first and the fault replaces its answer:
the way to test that a client does not repeat a POST the server already acted on.

With `skip=k` the first `k` requests it is aimed at go through untouched and it fires
from the one after: the way to fail the k-th write of a sequence (`Fault("DELETE *",
status=400, skip=1)` refuses the second DELETE). `skipped` counts those let through.
"""

from __future__ import annotations

import random

import attrs

__all__ = ["Fault", "FaultPlan"]


@attrs.define
class Fault:
    """One injected misbehaviour; see the module docstring."""

    route: str = "*"
    status: int | None = None
    retry_after: float | None = None
    drop: bool = False
    malformed: bool = False
    delay: float = 0.0
    times: int | None = 1
    probability: float = 1.0
    after: bool = False
    account: str | None = None
    skip: int = 0
    fired: int = 0
    skipped: int = 0

    def matches(self, method: str, route: str, account: str | None = None) -> bool:
        """Whether this fault is aimed at `method route` (signed in as `account`)."""
        if self.account is not None and self.account != account:
            return False
        if self.route == "*":
            return True
        want_method, _, want_route = self.route.partition(" ")
        return want_method in ("*", method) and want_route in ("*", route)

    @property
    def spent(self) -> bool:
        """True once it has fired `times` times."""
        return self.times is not None and self.fired >= self.times


class FaultPlan:
    """The faults in force, in the order added; the first that fires wins."""

    def __init__(self, seed: int | None = None) -> None:
        self.faults: list[Fault] = []
        self._random = random.Random(seed)

    def add(self, fault: Fault) -> Fault:
        """Put `fault` in force and return it (its `fired` counts what it did)."""
        if fault.status is None and not (fault.drop or fault.malformed or fault.delay):
            raise ValueError("a Fault needs a status, drop, malformed or delay")
        if fault.skip < 0:
            raise ValueError("a Fault's skip is a count of requests, 0 or more")
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        self.faults.clear()

    @property
    def per_account(self) -> bool:
        """True when some fault in force is aimed at one account."""
        return any(fault.account is not None for fault in self.faults)

    def pick(
        self, method: str, route: str, account: str | None = None
    ) -> tuple[float, Fault | None]:
        """What happens to this request: the latency added, and the fault that acts on it.

        Latency-only faults add up; of the others, the first that fires acts. Each fault
        that fires counts it; one still skipping counts the request as skipped instead.
        """
        delay = 0.0
        acting: Fault | None = None
        for fault in self.faults:
            if fault.spent or not fault.matches(method, route, account):
                continue
            if fault.skipped < fault.skip:
                fault.skipped += 1
                continue
            acts = fault.status is not None or fault.drop or fault.malformed
            if acts and acting is not None:
                continue
            if fault.probability < 1.0 and self._random.random() >= fault.probability:
                continue
            fault.fired += 1
            delay += fault.delay
            if acts:
                acting = fault
        return delay, acting
