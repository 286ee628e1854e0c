"""A new user's first touch: the fake's default lifecycle is today's Twilio, the older one
is an option everywhere the fake is started, and what the docs name is really there."""

from __future__ import annotations

import inspect

import pytest

from events_async import SinkStatus, WebhookSinkConfiguration
from events_async.testing import FakeEventsServer

KINESIS = {"arn": "arn:aws:kinesis:us-east-1:1:stream/s", "role_arn": "r", "external_id": "e"}
HOOK = WebhookSinkConfiguration("https://example.com/events")


async def _new_sink_statuses(fake: FakeEventsServer) -> tuple[SinkStatus, SinkStatus]:
    """(a new webhook sink's status, a new Kinesis sink's status) on `fake`."""
    async with fake.client() as client:
        hook = await client.sinks.create(
            description="h", sink_type="webhook", sink_configuration=HOOK
        )
        stream = await client.sinks.create(
            description="k", sink_type="kinesis", sink_configuration=KINESIS
        )
    return SinkStatus(hook.status), SinkStatus(stream.status)


async def test_webhook_sinks_start_active_as_twilio_documents_today() -> None:
    async with FakeEventsServer() as fake:
        assert await _new_sink_statuses(fake) == (SinkStatus.ACTIVE, SinkStatus.INITIALIZED)


async def test_the_older_lifecycle_is_an_option_of_the_class() -> None:
    async with FakeEventsServer(webhooks_start_active=False) as fake:
        assert await _new_sink_statuses(fake) == (SinkStatus.INITIALIZED, SinkStatus.INITIALIZED)


async def test_the_fixture_starts_webhooks_active(fake_events: FakeEventsServer) -> None:
    assert await _new_sink_statuses(fake_events) == (SinkStatus.ACTIVE, SinkStatus.INITIALIZED)


@pytest.mark.fake_events(webhooks_start_active=False)
async def test_the_fixtures_marker_gives_the_older_lifecycle(
    fake_events: FakeEventsServer,
) -> None:
    statuses = await _new_sink_statuses(fake_events)
    assert statuses == (SinkStatus.INITIALIZED, SinkStatus.INITIALIZED)


@pytest.mark.fake_events(max_sinks=1)
async def test_the_fixtures_marker_passes_any_option(fake_events: FakeEventsServer) -> None:
    assert fake_events.account.max_sinks == 1


def test_the_fakes_signature_is_short_enough_to_read() -> None:
    shown = str(inspect.signature(FakeEventsServer))
    assert len(shown) < 400, shown
    assert "catalog: 'Catalog | None' = None" in shown


def test_the_documented_deliverer_is_importable_from_the_testing_package() -> None:
    from events_async import testing
    from events_async.testing import Deliverer, Delivery
    from events_async.testing.delivery import Deliverer as Home

    assert Deliverer is Home
    assert {"Deliverer", "Delivery"} <= set(testing.__all__)
    assert Delivery.__name__ == "Delivery"
