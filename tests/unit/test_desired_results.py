"""What a plan says of an account: its fingerprint, its JSON line, saved plans read back,
and the catalog shared by a fleet's accounts. Pure, except the catalog against the fake."""

from __future__ import annotations

import asyncio
import json

import pytest

from events_async import BadRequestError
from events_async.catalog import SharedCatalog
from events_async.desired import (
    PLAN_SCHEMA,
    AccountResult,
    CurrentSink,
    CurrentState,
    CurrentSubscription,
    DesiredSink,
    DesiredState,
    DesiredSubscription,
    DesiredType,
    SavedPlanError,
    fingerprint,
    plan,
    read_saved_plan,
)
from events_async.testing import FakeEventsServer, Fault

DELIVERED = "com.twilio.messaging.message.delivered"
SEGMENT = DesiredSink("seg", "segment", {"write_key": "s3cret"}, frozenset({"write_key"}))
DESIRED = DesiredState(
    (SEGMENT,), (DesiredSubscription("receipts", "seg", (DesiredType(DELIVERED),)),)
)
CURRENT = CurrentState(
    (CurrentSink("DG1", "seg", "segment", {"write_key": "old"}),),
    (CurrentSubscription("DF1", "receipts", "DG1", {DELIVERED: 1}),),
)


def test_the_fingerprint_moves_with_the_account_the_versions_the_file_and_prune() -> None:
    base = fingerprint(CURRENT, {DELIVERED: 2}, DESIRED, False)
    drifted = CurrentState(
        CURRENT.sinks, (CurrentSubscription("DF1", "receipts", "DG1", {DELIVERED: 2}),)
    )
    other_file = DesiredState((SEGMENT,), ())
    assert base == fingerprint(CURRENT, {DELIVERED: 2}, DESIRED, False)
    assert base.startswith("sha256:")
    assert base != fingerprint(drifted, {DELIVERED: 2}, DESIRED, False)
    assert base != fingerprint(CURRENT, {DELIVERED: 3}, DESIRED, False)
    assert base != fingerprint(CURRENT, {DELIVERED: 2}, other_file, False)
    assert base != fingerprint(CURRENT, {DELIVERED: 2}, DESIRED, True)


def test_no_secret_enters_the_fingerprint_or_the_json_line() -> None:
    rotated = DesiredState(
        (DesiredSink("seg", "segment", {"write_key": "n3w"}, frozenset({"write_key"})),),
        DESIRED.subscriptions,
    )
    twilio_rotated = CurrentState(
        (CurrentSink("DG1", "seg", "segment", {"write_key": "other"}),), CURRENT.subscriptions
    )
    base = fingerprint(CURRENT, {}, DESIRED, False)
    assert base == fingerprint(CURRENT, {}, rotated, False)
    assert base == fingerprint(twilio_rotated, {}, DESIRED, False)
    fresh = plan(DESIRED, CurrentState(), latest={DELIVERED: 2})
    line = json.dumps(AccountResult("AC1", fresh, base).to_json())
    assert "s3cret" not in line
    assert '"write_key": "***"' in line


def test_a_plan_line_says_each_change_with_its_symbol() -> None:
    moved = CurrentState((CurrentSink("DG1", "seg", "webhook", {}),), ())
    result = AccountResult("AC1", plan(DESIRED, moved, latest={DELIVERED: 2}), "sha256:x")
    document = result.to_json()
    assert document["schema"] == PLAN_SCHEMA
    assert [(c["symbol"], c["action"]) for c in document["changes"]] == [
        ("-/+", "create sink"),
        ("+", "create subscription"),
        ("-", "delete sink"),
    ]
    assert document["changes"][0]["replaces"] == "DG1"
    assert document["changes"][1]["types"] == [{"type": DELIVERED, "schema_version": None}]


def test_a_saved_plan_reads_back_each_accounts_fingerprint() -> None:
    lines = [
        json.dumps(AccountResult("AC1", plan(DESIRED, CURRENT), "sha256:a").to_json()),
        "",
        json.dumps(AccountResult("AC2", error="could not sign in").to_json()),
    ]
    assert read_saved_plan("\n".join(lines)) == {"AC1": "sha256:a", "AC2": ""}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "the plan, line 1: not JSON"),
        ('{"schema": "events_async.apply/1"}', "line 1: not a events_async.plan/1 line"),
        ('{"schema": "events_async.plan/1", "account_sid": "AC1"}', "no account_sid"),
        (
            '{"schema": "events_async.plan/1", "account_sid": "AC1", "fingerprint": "x"}\n' * 2,
            "line 2: AC1 is planned twice",
        ),
        ("\n\n", "plans no account"),
    ],
)
def test_a_saved_plan_that_cannot_be_used_names_its_line(text: str, message: str) -> None:
    with pytest.raises(SavedPlanError, match=message):
        read_saved_plan(text)


async def test_a_fleets_catalog_is_read_once_and_a_failed_read_left_to_the_next() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        catalog = SharedCatalog()
        fake.fail_next("GET /v1/Types/{Type}", status=400, times=1)
        with pytest.raises(BadRequestError):
            await catalog.latest_versions(client, [DELIVERED])
        first = await catalog.latest_versions(client, [DELIVERED])
        reads = fake.request_count("GET *")
        assert await catalog.latest_versions(client, [DELIVERED, DELIVERED]) == first
        assert fake.request_count("GET *") == reads
        assert first[DELIVERED] >= 1


async def test_accounts_reading_side_by_side_share_one_read_of_the_catalog() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        catalog = SharedCatalog()
        results = await asyncio.gather(
            *(catalog.latest_versions(client, [DELIVERED]) for _ in range(8))
        )
        assert results == [results[0]] * 8
        assert fake.request_count("GET /v1/Types/{Type}") == 1
        assert fake.request_count("GET /v1/Schemas/{Id}") == 1


async def test_an_account_waits_for_anothers_slow_read_only_as_long_as_its_patience() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        slow = fake.add_account()
        fake.inject(Fault(delay=30, times=None, account=slow.sid))
        catalog = SharedCatalog(patience=0.05)
        async with fake.client(slow) as stuck:
            held = asyncio.create_task(catalog.latest_versions(stuck, [DELIVERED]))  # first
            quick = asyncio.create_task(catalog.latest_versions(client, [DELIVERED]))
            done, _ = await asyncio.wait({held, quick}, timeout=10, return_when="FIRST_COMPLETED")
            held.cancel()
        assert done == {quick}
        assert DELIVERED in quick.result()
