"""A realistic demo account with planted problems, for `events-async ... --fake`.

Seeded straight into the fake's state (some of these states cannot be reached through
the API: a subscription outliving its sink, a type since removed from the catalog), so
that an audit of it shows every kind of finding but AUDIT_INCOMPLETE.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .state import FakeAccount, FakeSink, FakeSubscribedEvent

if TYPE_CHECKING:
    from .server import FakeEventsServer

__all__ = ["LARGE_ACCOUNT_TYPES", "seed_demo_account", "seed_demo_fleet", "seed_large_account"]

LARGE_ACCOUNT_TYPES = (
    "com.twilio.messaging.message.queued",
    "com.twilio.messaging.message.sent",
    "com.twilio.messaging.message.delivered",
    "com.twilio.messaging.message.undelivered",
    "com.twilio.messaging.message.failed",
    "com.twilio.voice.status-callback.call.initiated",
    "com.twilio.voice.status-callback.call.completed",
    "com.twilio.conversations.message.added",
    "com.twilio.studio.flow.execution.started",
    "com.twilio.taskrouter.task.created",
)
"""Ten event types of five schemas, at their latest versions: a large account's mix."""

_MESSAGING = "com.twilio.messaging.message"
_VOICE = "com.twilio.voice"


def _active_sink(
    account: FakeAccount, description: str, kind: str, config: dict[str, Any]
) -> FakeSink:
    sink = account.create_sink(description, kind, json.dumps(config))
    account.start_test(sink.sid)
    account.validate(sink.sid, sink.test_id or "")
    return sink


def seed_demo_account(account: FakeAccount) -> FakeAccount:
    """Fill `account` with the demo set-up and return it."""
    orders = _active_sink(
        account,
        "Orders webhook (production)",
        "webhook",
        {
            "destination": "https://hooks.acme-shop.example/twilio/events",
            "method": "POST",
            "batch_events": True,
        },
    )
    lake = _active_sink(
        account,
        "Data lake stream",
        "kinesis",
        {
            "arn": "arn:aws:kinesis:us-east-1:111122223333:stream/twilio-events",
            "role_arn": "arn:aws:iam::111122223333:role/TwilioEventStreams",
            "external_id": "acme-demo",
        },
    )
    staging = _active_sink(
        account,
        "Staging webhook",
        "webhook",
        {
            "destination": "http://staging.acme-shop.example/events",
            "method": "POST",
            "batch_events": True,
        },
    )
    retired = _active_sink(
        account,
        "Conversations webhook (removed)",
        "webhook",
        {
            "destination": "https://support.acme-shop.example/events",
            "method": "POST",
            "batch_events": False,
        },
    )
    segment = account.create_sink(
        "Segment analytics", "segment", json.dumps({"write_key": "demo-write-key"})
    )
    segment.status = "failed"
    account.create_sink(
        "Old Kinesis stream",
        "kinesis",
        json.dumps(
            {
                "arn": "arn:aws:kinesis:us-east-1:111122223333:stream/old",
                "role_arn": "arn:aws:iam::111122223333:role/Old",
                "external_id": "old",
            }
        ),
    )

    account.create_subscription(
        "Messaging delivery receipts",
        orders.sid,
        [
            (f"{_MESSAGING}.delivered", None),
            (f"{_MESSAGING}.failed", 3),
            (f"{_MESSAGING}.undelivered", None),
            (f"{_MESSAGING}.legacy-status", None),
        ],
    )
    inbound = account.create_subscription(
        "Inbound SMS", orders.sid, [("com.twilio.messaging.inbound-message.received", None)]
    )
    inbound.events["com.twilio.messaging.message.retired"] = FakeSubscribedEvent(
        type="com.twilio.messaging.message.retired", schema_version=1
    )
    account.create_subscription(
        "Voice analytics",
        lake.sid,
        [
            (f"{_VOICE}.insights.call-summary.complete", None),
            (f"{_VOICE}.status-callback.call.completed", None),
        ],
    )
    account.create_subscription(
        "Voice analytics (copy)", lake.sid, [(f"{_VOICE}.status-callback.call.completed", None)]
    )
    account.create_subscription("Staging messaging", staging.sid, [(f"{_MESSAGING}.sent", None)])
    staging.status = "validating"  # re-tested after its subscription was made, never validated
    account.create_subscription(
        "Conversations feed", retired.sid, [("com.twilio.conversations.message.added", None)]
    )
    del account.sinks[retired.sid]  # removed behind its subscription's back
    studio = account.create_subscription(
        "Studio flows", orders.sid, [("com.twilio.studio.flow.execution.started", None)]
    )
    studio.events.clear()
    return account


def seed_large_account(account: FakeAccount, *, sinks: int = 100) -> FakeAccount:
    """`sinks` active Kinesis sinks, each with one subscription to the ten
    `LARGE_ACCOUNT_TYPES`: a clean account at scale, for load and audit tests."""
    account.max_sinks = max(account.max_sinks, sinks)
    account.max_subscriptions = max(account.max_subscriptions, sinks)
    configuration = json.dumps(
        {"arn": "arn:aws:kinesis:us-east-1:1:stream/s", "role_arn": "r", "external_id": "e"}
    )
    for n in range(sinks):
        sink = account.create_sink(f"stream {n}", "kinesis", configuration)
        sink.status = "active"
        account.create_subscription(
            f"subscription {n}", sink.sid, [(t, None) for t in LARGE_ACCOUNT_TYPES]
        )
    return account


def seed_demo_fleet(fake: FakeEventsServer) -> list[FakeAccount]:
    """The default account as the demo parent, with five subaccounts, each telling a
    different story to a fleet audit; returns the subaccounts.

    - "Acme Retail": a clean set-up (no findings);
    - "Acme Logistics": a failed sink and an unused one;
    - "Acme Legacy": the Accounts API lists a token since rotated (sign-in fails);
    - "Acme Support": its subscriptions cannot be read (the API answers 500);
    - "Acme Labs": suspended, so a fleet audit of active accounts leaves it out.
    """
    from .faults import Fault

    seed_demo_account(fake.account)
    retail = fake.add_subaccount(friendly_name="Acme Retail")
    seed_large_account(retail, sinks=2)
    logistics = fake.add_subaccount(friendly_name="Acme Logistics")
    seed_large_account(logistics, sinks=1)
    broken = logistics.create_sink(
        "Fleet tracking", "segment", json.dumps({"write_key": "logistics-write-key"})
    )
    broken.status = "failed"
    _active_sink(logistics, "Spare stream", "webhook", {"destination": "https://hooks.example/s"})
    legacy = fake.add_subaccount(friendly_name="Acme Legacy")
    legacy.listed_auth_token = "0" * 32
    support = fake.add_subaccount(friendly_name="Acme Support")
    seed_large_account(support, sinks=1)
    fake.inject(Fault("GET /v1/Subscriptions", status=500, times=None, account=support.sid))
    labs = fake.add_subaccount(friendly_name="Acme Labs", status="suspended")
    return [retail, logistics, legacy, support, labs]
