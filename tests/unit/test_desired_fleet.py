"""A fleet converged through the library: 100 accounts in mixed states, each its own
result; a second apply writes nothing; shards cover the fleet once; the catalog is read
once a run; a saved plan is applied, and refused for an account that moved since."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from events_async.desired import (
    AccountResult,
    Action,
    apply_fleet,
    parse_file,
    plan_fleet,
    read_saved_plan,
)
from events_async.fleet import Shard
from events_async.testing import FakeAccount, FakeEventsServer, Fault

from ..desired_support import WriteLog, seed_sink, seed_subscription

DELIVERED = "com.twilio.messaging.message.delivered"  # Messaging.MessageStatus, 5 versions
FAILED = "com.twilio.messaging.message.failed"
COMPLETED = "com.twilio.voice.status-callback.call.completed"  # Voice.StatusCallback
FILE = f"""
[[sink]]
description = "hook"
type = "webhook"
destination = "http://127.0.0.1:9/{{account_sid}}"

[[subscription]]
description = "receipts"
sink = "hook"
types = ["{DELIVERED}", {{ type = "{COMPLETED}", schema_version = 2 }}]
"""
STREAMS = parse_file(FILE)
CATALOG_READS = 2  # the unpinned type and its schema (a pinned version needs no lookup)
WANTED = {DELIVERED: 5, COMPLETED: 2}


def hook(account: FakeAccount, path: str | None = None) -> dict[str, str | bool]:
    destination = f"http://127.0.0.1:9/{path or account.sid}"
    return {"destination": destination, "method": "POST", "batch_events": True}


def converged(account: FakeAccount) -> None:
    sink = seed_sink(account, "hook", "webhook", hook(account))
    seed_subscription(account, "receipts", sink, WANTED)


def drifted(account: FakeAccount) -> None:
    """The file's sink; its subscription on an old version, one type short, one extra."""
    sink = seed_sink(account, "hook", "webhook", hook(account))
    seed_subscription(account, "receipts", sink, {DELIVERED: 3, FAILED: 1})


def half_replaced(account: FakeAccount) -> None:
    """An apply stopped right after creating the new sink: the old one still delivers."""
    old = seed_sink(account, "hook", "webhook", hook(account, "old"))
    seed_sink(account, "hook", "webhook", hook(account))
    seed_subscription(account, "receipts", old, WANTED)


def ambiguous(account: FakeAccount) -> None:
    """Two sinks described "hook", neither as the file says: which one is it?"""
    for path in ("one", "two"):
        sink = seed_sink(account, "hook", "webhook", hook(account, path))
    seed_subscription(account, "receipts", sink, WANTED)


SEEDS = {"converged": converged, "drifted": drifted, "half replaced": half_replaced,
         "ambiguous": ambiguous}  # fmt: skip
MADE = {
    "fresh": [Action.CREATE_SINK, Action.CREATE_SUBSCRIPTION],
    "converged": [],
    "drifted": [Action.CREATE_TYPE, Action.UPDATE_TYPE, Action.DELETE_TYPE],
    "half replaced": [Action.CREATE_SUBSCRIPTION, Action.DELETE_SUBSCRIPTION, Action.DELETE_SINK],
}


class Fleet:
    """Accounts of one fake by kind, and the logins a fleet run is given."""

    def __init__(self, fake: FakeEventsServer, kinds: list[str]) -> None:
        self.fake = fake
        self.kinds: dict[str, str] = {}
        self.accounts: dict[str, FakeAccount] = {}
        self.logins: list[tuple[str, str]] = []
        for kind in kinds:
            account = fake.add_account()
            if kind in SEEDS:
                SEEDS[kind](account)
            if kind == "failing writes":  # its first write goes through, the next fails
                fake.inject(Fault("POST *", status=400, account=account.sid, skip=1))
            token = "not-its-token" if kind == "bad credentials" else account.auth_token
            self.kinds[account.sid] = kind
            self.accounts[account.sid] = account
            self.logins.append((account.sid, token))

    def of(self, kind: str) -> list[str]:
        return [sid for sid, k in self.kinds.items() if k == kind]


def mixed(count: int = 100) -> list[str]:
    kinds = (["converged"] * 20 + ["drifted"] * 15 + ["half replaced"] * 10 + ["ambiguous"] * 5
             + ["bad credentials"] * 5 + ["failing writes"])  # fmt: skip
    kinds += ["fresh"] * (count - len(kinds))
    random.Random(19).shuffle(kinds)
    return kinds


async def collect(stream: AsyncIterator[AccountResult]) -> dict[str, AccountResult]:
    results: dict[str, AccountResult] = {}
    async for result in stream:
        assert result.account_sid not in results
        results[result.account_sid] = result
    return results


def catalog_reads(fake: FakeEventsServer) -> int:
    return fake.request_count("GET /v1/Types/{Type}") + fake.request_count("GET /v1/Schemas/{Id}")


async def test_a_fleet_of_100_in_mixed_states_each_gets_its_own_result() -> None:
    async with FakeEventsServer() as fake:
        fleet = Fleet(fake, mixed())
        log = WriteLog()
        async with log.session() as session:
            first = await collect(
                apply_fleet(fleet.logins, STREAMS, session=session, base_url=fake.url,
                            max_retries=0, accounts_at_once=10)
            )  # fmt: skip
        assert set(first) == set(fleet.kinds)
        for sid, result in first.items():
            kind = fleet.kinds[sid]
            if kind in MADE:
                assert result.ok, (kind, result.error)
                assert sorted(c.action for c in result.made) == sorted(MADE[kind]), kind
                assert log.sent[sid] == len(MADE[kind])
            elif kind == "ambiguous":
                assert not result.ok
                assert result.plan is not None
                assert result.plan.ambiguous == ("2 sinks are described 'hook'",)
                assert result.made == ()
                assert log.sent[sid] == 0
                assert len(fleet.accounts[sid].sinks) == 2
            elif kind == "bad credentials":
                assert result.signing_in_failed
                assert result.error
                assert log.sent[sid] == 0
            else:
                assert kind == "failing writes"
                assert result.error is not None
                assert "Injected fault" in result.error
                assert [c.action for c in result.made] == [Action.CREATE_SINK]
                assert log.sent[sid] == 2  # the sink, then the refused subscription
        for kind in MADE:
            for sid in fleet.of(kind):
                (subscription,) = fleet.accounts[sid].subscriptions.values()
                types = {t: e.schema_version for t, e in subscription.events.items()}
                assert types == WANTED
                assert len(fleet.accounts[sid].sinks) == 1

        again_log = WriteLog()
        async with again_log.session() as session:
            again = await collect(
                apply_fleet(fleet.logins, STREAMS, session=session, base_url=fake.url,
                            max_retries=0, accounts_at_once=10)
            )  # fmt: skip
        settled = [sid for sid, result in first.items() if result.ok]
        assert len(settled) == 100 - 5 - 5 - 1
        assert again_log.to(fleet.accounts[sid] for sid in settled) == 0
        assert all(again[sid].ok and again[sid].made == () for sid in settled)
        (failing,) = fleet.of("failing writes")
        assert again[failing].ok  # the fault is spent: the rerun finishes what it began
        assert [c.action for c in again[failing].made] == [Action.CREATE_SUBSCRIPTION]
        assert all(again[sid].signing_in_failed for sid in fleet.of("bad credentials"))
        assert all(again[sid].plan.ambiguous for sid in fleet.of("ambiguous"))  # type: ignore[union-attr]


async def test_shards_plan_every_account_of_the_fleet_once() -> None:
    async with FakeEventsServer() as fake:
        fleet = Fleet(fake, mixed())
        seen: list[str] = []
        for index in (1, 2, 3):
            shard = Shard(index, 3)
            results = await collect(
                plan_fleet(fleet.logins, STREAMS, shard=shard, base_url=fake.url, max_retries=0)
            )
            assert results
            assert all(sid in shard for sid in results)
            seen += results
        assert sorted(seen) == sorted(fleet.kinds)
        assert fake.request_count("POST *") + fake.request_count("DELETE *") == 0


@pytest.mark.parametrize(
    ("options", "reads"),
    [
        ({"accounts_at_once": 1}, CATALOG_READS),  # once a run
        ({"accounts_at_once": 1, "catalog_per_account": True}, CATALOG_READS * 9),
    ],
    ids=["shared", "per-account"],
)
async def test_the_catalog_is_read_once_a_run_unless_per_account(
    options: dict[str, Any], reads: int
) -> None:
    async with FakeEventsServer() as fake:
        fleet = Fleet(fake, ["fresh"] * 6 + ["converged"] * 3 + ["bad credentials"])
        for run in (plan_fleet, apply_fleet):
            before = catalog_reads(fake)
            results = await collect(
                run(fleet.logins, STREAMS, base_url=fake.url, max_retries=0, **options)
            )
            assert len(results) == 10
            assert catalog_reads(fake) - before == reads  # each run reads its own


async def test_a_shared_catalog_is_read_at_most_once_by_each_account_running_at_the_start() -> None:
    async with FakeEventsServer() as fake:
        fleet = Fleet(fake, ["fresh"] * 40)
        await collect(plan_fleet(fleet.logins, STREAMS, base_url=fake.url, accounts_at_once=4))
        assert CATALOG_READS <= catalog_reads(fake) <= CATALOG_READS * 4


async def test_a_saved_plan_is_applied_and_refused_for_an_account_that_moved_since() -> None:
    async with FakeEventsServer() as fake:
        fleet = Fleet(fake, ["fresh"] * 5 + ["drifted"] * 3 + ["half replaced"] * 2)
        planned = await collect(plan_fleet(fleet.logins, STREAMS, base_url=fake.url))
        saved = "\n".join(json.dumps(r.to_json()) for r in planned.values()) + "\n"
        expected = read_saved_plan(saved)
        assert set(expected) == set(fleet.kinds)

        moved_sid = fleet.of("drifted")[0]
        moved = fleet.accounts[moved_sid]
        (subscription,) = moved.subscriptions.values()
        moved.add_subscribed_event(subscription.sid, COMPLETED, 1)  # someone else's change
        before = {t: e.schema_version for t, e in subscription.events.items()}
        unplanned = fake.add_account()  # an account the saved plan does not name

        log = WriteLog()
        async with log.session() as session:
            applied = await collect(
                apply_fleet([*fleet.logins, (unplanned.sid, unplanned.auth_token)], STREAMS,
                            expected=expected, session=session, base_url=fake.url)
            )  # fmt: skip
        refused = applied.pop(moved_sid)
        assert refused.stale
        assert refused.error is not None
        assert refused.made == ()
        assert log.sent[moved_sid] == 0
        assert {t: e.schema_version for t, e in subscription.events.items()} == before
        stranger = applied.pop(unplanned.sid)
        assert not stranger.stale
        assert stranger.error is not None
        assert "no plan" in stranger.error
        assert log.sent[unplanned.sid] == 0
        assert not unplanned.sinks
        for sid, result in applied.items():
            assert result.ok, result.error
            assert result.made == planned[sid].plan.changes  # type: ignore[union-attr]
        again = await collect(plan_fleet(fleet.logins, STREAMS, base_url=fake.url))
        assert [sid for sid, r in again.items() if not r.plan.empty] == [moved_sid]  # type: ignore[union-attr]
