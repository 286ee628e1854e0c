"""Prometheus metrics of a receiver, read from its `stats` at scrape time.

`pip install 'events-async[metrics]'`. The receiver only counts plain integers as it
works (`ReceiverStats`); `ReceiverCollector` turns them into metric families when
Prometheus scrapes, so metrics cost the hot path nothing more.

| metric | type | labels | what |
|---|---|---|---|
| `events_async_deliveries_total` | counter | `status` | deliveries answered, by HTTP status |
| `events_async_events_handled_total` | counter | | events handled (or enqueued to the stream) |
| `events_async_duplicates_total` | counter | | events already handled, acknowledged only |
| `events_async_malformed_events_total` | counter | | malformed events skipped |
| `events_async_signature_refusals_total` | counter | | deliveries refused for their signature |
| `events_async_deliveries_in_progress` | gauge | | deliveries being handled now |
| `events_async_handler_duration_seconds` | histogram | | time a delivery's handlers took |
| `events_async_stream_backlog` | gauge | | stream entries not yet acknowledged |

```python
from prometheus_client import CollectorRegistry
from events_async.webhooks.metrics import ReceiverCollector, metrics_app

registry = CollectorRegistry()
registry.register(ReceiverCollector(receiver.stats))
app.add_subapp("/metrics", metrics_app(registry))   # or serve it on its own port
```
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate

try:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
    )
    from prometheus_client.registry import Collector
except ImportError as error:  # pragma: no cover - the extra is part of the test set-up
    raise ImportError(
        "metrics need prometheus_client: pip install 'events-async[metrics]'"
    ) from error
from aiohttp import web

from .stats import LATENCY_BUCKETS, ReceiverStats

__all__ = ["ReceiverCollector", "metrics_app"]


class ReceiverCollector(Collector):
    """The metric families of one receiver's `stats` (see the module's table)."""

    def __init__(self, stats: ReceiverStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        deliveries = CounterMetricFamily(
            "events_async_deliveries", "Deliveries answered, by HTTP status.", labels=["status"]
        )
        for status, count in sorted(stats.deliveries.items()):
            deliveries.add_metric([str(status)], count)
        yield deliveries
        for name, text, value in (
            ("events_handled", "Events handled, or enqueued to the stream.", stats.events_handled),
            ("duplicates", "Events already handled, acknowledged only.", stats.duplicates),
            ("malformed_events", "Malformed events of verified deliveries.", stats.malformed),
            ("signature_refusals", "Deliveries refused for their signature.",
             stats.signature_refusals),
        ):  # fmt: skip
            yield CounterMetricFamily(f"events_async_{name}", text, value=value)
        yield GaugeMetricFamily(
            "events_async_deliveries_in_progress",
            "Deliveries being handled now.",
            value=stats.in_progress,
        )
        cumulative = list(accumulate(stats.latency_buckets))
        bounds = [*(f"{bound:g}" for bound in LATENCY_BUCKETS), "+Inf"]
        yield HistogramMetricFamily(
            "events_async_handler_duration_seconds",
            "Time a delivery's handlers took.",
            buckets=list(zip(bounds, cumulative, strict=True)),
            sum_value=stats.latency_sum,
        )
        if stats.backlog is not None:
            yield GaugeMetricFamily(
                "events_async_stream_backlog",
                "Entries in the stream not yet acknowledged by a worker.",
                value=stats.backlog,
            )


def metrics_app(registry: CollectorRegistry) -> web.Application:
    """An aiohttp application answering `GET /` with `registry` in Prometheus' text format."""

    async def scrape(request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.router.add_get("/", scrape)
    app.router.add_get("/metrics", scrape)
    return app
