"""The retry policy, pure: which failures are retried and how long to wait first.

GET and DELETE are idempotent and retry on connection errors, timeouts, 429 and
500/502/503/504. POST retries only when the API cannot have acted on it: a 429 (Twilio
did not process the request) or a failure before the request was sent (connecting), so
a create is never duplicated. Waits grow exponentially with jitter; a `Retry-After`
header, in seconds or as an HTTP date, is honoured up to `MAX_RETRY_AFTER`.

A 429 with `Retry-After` pauses the whole client; when the pause ends, the requests it
held leave spread over `gate_spread(pause)` rather than all at once.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

__all__ = [
    "BACKOFF_CAP",
    "BACKOFF_INITIAL",
    "GATE_SPREAD_CAP",
    "MAX_RETRY_AFTER",
    "Failure",
    "backoff_delay",
    "gate_spread",
    "parse_retry_after",
    "should_retry",
]

BACKOFF_INITIAL = 0.5
BACKOFF_CAP = 8.0
MAX_RETRY_AFTER = 60.0
GATE_SPREAD_CAP = 2.0

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class Failure(enum.Enum):
    """How an attempt failed, as far as retrying is concerned."""

    CONNECT = "connect"  # never reached the server: safe for every method
    TIMEOUT = "timeout"  # sent, then no answer in time: the server may have acted
    DISCONNECT = "disconnect"  # sent, then the connection broke: the server may have acted
    STATUS = "status"  # the server answered with a status


def should_retry(method: str, failure: Failure, status: int | None = None) -> bool:
    """Whether an attempt that failed this way may be made again."""
    if failure is Failure.CONNECT:
        return True
    if failure is Failure.STATUS:
        if status == 429:
            return True
        return method.upper() in IDEMPOTENT_METHODS and status in RETRYABLE_STATUSES
    return method.upper() in IDEMPOTENT_METHODS


def backoff_delay(retry: int, *, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `retry` (1-based): jittered, under a cap.

    The ceiling doubles from `BACKOFF_INITIAL` and stops at `BACKOFF_CAP`; the wait is
    drawn between half the ceiling and the ceiling, so retries spread out but never fire
    at once.
    """
    ceiling = min(BACKOFF_CAP, BACKOFF_INITIAL * 2.0 ** (retry - 1))
    return ceiling / 2 + rand() * ceiling / 2


def gate_spread(pause: float) -> float:
    """Seconds over which requests held by a rate-limit pause are released after it.

    As long as the pause itself, at most `GATE_SPREAD_CAP`: a server that asked for one
    second of quiet gets the held requests back over about one second, not in one burst.
    """
    return min(max(pause, 0.0), GATE_SPREAD_CAP)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds asked for by a `Retry-After` header (delta-seconds or HTTP date).

    None when absent or unreadable; never negative; at most `MAX_RETRY_AFTER`.
    """
    if value is None:
        return None
    value = value.strip()
    seconds: float
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
