"""A receiver's Prometheus metrics, scraped over a socket and parsed by prometheus_client."""

from __future__ import annotations

import aiohttp
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from events_async.webhooks import EventReceiver, signature_for, signed_url
from events_async.webhooks.metrics import ReceiverCollector, metrics_app

from ..support import ROOT, serve
from .test_receiver import Handled, events_body

TOKEN = "the account's auth token"


async def test_every_documented_metric_is_scraped_with_what_the_receiver_did() -> None:
    receiver = EventReceiver(Handled(fail=1), auth_tokens=TOKEN)
    registry = CollectorRegistry()
    registry.register(ReceiverCollector(receiver.stats))
    async with serve(receiver.app("/events")) as origin, serve(metrics_app(registry)) as metrics:
        url = origin + "/events"
        bodies = [events_body("a", "b"), events_body("a", "b"), events_body("a", "c")]
        bodies.append(b'[{"id": ""}, ' + events_body("d")[1:])
        async with aiohttp.ClientSession() as session:
            for body in bodies:
                target = signed_url(url, body)
                headers = {"X-Twilio-Signature": signature_for(TOKEN, target)}
                async with session.post(target, data=body, headers=headers) as response:
                    await response.read()
            async with session.post(url, data=b"[]") as response:  # unsigned
                await response.read()
            async with session.get(metrics + "/metrics") as response:
                text = await response.text()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("events_async_deliveries_total", (("status", "500"),))] == 1
    assert samples[("events_async_deliveries_total", (("status", "200"),))] == 3
    assert samples[("events_async_deliveries_total", (("status", "403"),))] == 1
    assert samples[("events_async_events_handled_total", ())] == 4  # a, b; then c; then d
    assert samples[("events_async_duplicates_total", ())] == 1  # a, the third time
    assert samples[("events_async_malformed_events_total", ())] == 1
    assert samples[("events_async_signature_refusals_total", ())] == 1
    assert samples[("events_async_deliveries_in_progress", ())] == 0
    assert samples[("events_async_handler_duration_seconds_count", ())] == 4
    assert samples[("events_async_handler_duration_seconds_bucket", (("le", "+Inf"),))] == 4
    assert ("events_async_stream_backlog", ()) not in samples  # no stream


def test_the_readmes_metric_table_names_every_metric_and_only_those() -> None:

    from events_async.webhooks.stats import ReceiverStats

    readme = (ROOT / "README.md").read_text()
    documented = {
        line.split("`")[1].removesuffix("_total")
        for line in readme.splitlines()
        if line.startswith("| `events_async_")
    }
    collected = {family.name for family in ReceiverCollector(ReceiverStats(backlog=0)).collect()}
    assert documented == collected
