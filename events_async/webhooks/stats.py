"""A receiver's running counts: plain integers on the hot path, read by metrics later.

`EventReceiver.stats` is one `ReceiverStats`; `events_async.webhooks.metrics` exposes it
to Prometheus at scrape time, so a receiver without metrics pays only for the counting.
"""

from __future__ import annotations

from bisect import bisect_left

import attrs

__all__ = ["LATENCY_BUCKETS", "ReceiverStats"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Upper bounds (seconds) of the handler-latency histogram; Twilio waits 5 s."""


@attrs.define
class ReceiverStats:
    """What a receiver has done since it started."""

    deliveries: dict[int, int] = attrs.field(factory=dict)
    """Deliveries answered, by HTTP status."""
    events_handled: int = 0
    """Events whose handler succeeded (and whose done-mark was stored), or enqueued."""
    duplicates: int = 0
    """Events already handled (or enqueued), acknowledged without handling."""
    malformed: int = 0
    """Events of verified deliveries that are not CloudEvents, skipped."""
    signature_refusals: int = 0
    """Deliveries refused for their signature or bodySHA256 (403)."""
    in_progress: int = 0
    """Deliveries being handled now."""
    backlog: int | None = None
    """The stream's length when last seen (queue mode), else None."""
    latency_buckets: list[int] = attrs.field(factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    """Handler runs per bucket of `LATENCY_BUCKETS` (not cumulative; the last is +Inf)."""
    latency_sum: float = 0.0
    latency_count: int = 0

    def answered(self, status: int) -> None:
        self.deliveries[status] = self.deliveries.get(status, 0) + 1

    def handler_took(self, seconds: float) -> None:
        self.latency_buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds
        self.latency_count += 1
