"""Fleet audits: streamed reports, per-account failures, the fleet's cap, shards."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
from collections.abc import AsyncIterator

import aiohttp
import pytest

from events_async.accounts import AccountsClient
from events_async.audit import AuditReport
from events_async.errors import AuthenticationError, InvalidRequestError
from events_async.fleet import FleetSummary, Login, Shard, audit_accounts, audit_fleet, shard_number
from events_async.models import Account
from events_async.testing import FakeAccount, FakeEventsServer, Fault
from events_async.testing.demo import seed_large_account


def login(account: FakeAccount) -> tuple[str, str]:
    return account.sid, account.auth_token


def codes(report: AuditReport) -> set[str]:
    return {f.code for f in report.findings}


async def collect(reports: AsyncIterator[AuditReport]) -> dict[str | None, AuditReport]:
    return {r.account_sid: r async for r in reports}


async def test_each_failing_account_gets_its_own_report_and_the_rest_are_audited() -> None:
    async with FakeEventsServer() as fake:
        clean = seed_large_account(fake.add_subaccount(), sinks=2)
        rotated = fake.add_subaccount()
        failing = seed_large_account(fake.add_subaccount(), sinks=1)
        slow = fake.add_subaccount()
        suspended = fake.add_subaccount(status="suspended")
        fake.inject(Fault("GET /v1/Subscriptions", status=500, times=None, account=failing.sid))
        fake.inject(Fault(delay=5.0, times=None, account=slow.sid))
        members = [
            login(clean),
            (rotated.sid, "a token since rotated"),
            login(failing),
            login(slow),
            login(suspended),
            Account(sid="AC" + "9" * 32, auth_token=None),
            ("not a sid", "a secret in the wrong place"),
        ]
        reports = await collect(
            audit_fleet(members, base_url=fake.url, max_retries=0, account_timeout=0.5)
        )
    assert len(reports) == len(members)
    assert codes(reports[clean.sid]) == set()
    assert reports[rotated.sid].authentication_failed
    assert reports[suspended.sid].authentication_failed
    failed = reports[failing.sid]
    assert codes(failed) == {"AUDIT_INCOMPLETE"}
    assert "500" in failed.findings[0].message
    assert failed.sinks == 1  # what could be read was read
    assert "took over 0.5s" in reports[slow.sid].findings[0].message
    assert not reports[slow.sid].authentication_failed  # slow, not refused
    assert not failed.authentication_failed
    assert "no auth token" in reports["AC" + "9" * 32].findings[0].message
    assert "a secret in the wrong place" not in repr(reports)
    assert all(r.has_errors for sid, r in reports.items() if sid != clean.sid)


async def test_reports_arrive_as_each_account_finishes_not_in_input_order() -> None:
    async with FakeEventsServer() as fake:
        slow = fake.add_subaccount()
        fast = [fake.add_subaccount() for _ in range(5)]
        fake.inject(Fault(delay=0.5, times=None, account=slow.sid))
        order = [
            r.account_sid
            async for r in audit_fleet(
                [login(slow), *map(login, fast)], base_url=fake.url, accounts_at_once=3
            )
        ]
    assert order[-1] == slow.sid
    assert sorted(order[:-1]) == sorted(a.sid for a in fast)


async def test_audit_accounts_returns_the_reports_in_input_order() -> None:
    async with FakeEventsServer() as fake:
        slow = fake.add_subaccount()
        fast = fake.add_subaccount()
        fake.inject(Fault(delay=0.3, times=None, account=slow.sid))
        reports = await audit_accounts([login(slow), login(fast)], base_url=fake.url)
    assert [r.account_sid for r in reports] == [slow.sid, fast.sid]


@pytest.mark.parametrize("cap", [3, 7])
async def test_the_fleet_cap_bounds_requests_in_flight_across_accounts(cap: int) -> None:
    async with FakeEventsServer() as fake, aiohttp.ClientSession() as roomy:  # a pool of 100
        accounts = [seed_large_account(fake.add_subaccount(), sinks=4) for _ in range(8)]
        fake.inject(Fault(delay=0.02, times=None))
        reports = await collect(
            audit_fleet(
                map(login, accounts),
                session=roomy,
                base_url=fake.url,
                max_in_flight=cap,
                accounts_at_once=8,
            )
        )
    assert all(not r.findings for r in reports.values())
    assert fake.peak_in_flight == cap  # reached, never passed


async def test_one_accounts_rate_limit_pauses_only_that_account() -> None:
    async with FakeEventsServer() as fake:
        limited = fake.add_subaccount()
        others = [fake.add_subaccount() for _ in range(3)]
        fake.inject(Fault(status=429, retry_after=0.6, times=1, account=limited.sid))
        order = [
            r.account_sid
            async for r in audit_fleet([login(limited), *map(login, others)], base_url=fake.url)
        ]
    assert order[-1] == limited.sid  # the others were not held by its gate


async def test_the_source_is_pulled_only_as_slots_free_up() -> None:
    pulled = 0

    async def members(fake: FakeEventsServer) -> AsyncIterator[tuple[str, str]]:
        nonlocal pulled
        for _ in range(10):
            pulled += 1
            yield login(fake.add_subaccount())

    async with FakeEventsServer() as fake:
        stream = audit_fleet(members(fake), base_url=fake.url, accounts_at_once=2)
        async with contextlib.aclosing(stream):
            await anext(stream)
            assert pulled <= 4  # two being audited, at most two more reports queued
            rest = [r async for r in stream]
    assert len(rest) == 9
    assert pulled == 10


async def test_closing_the_stream_early_stops_the_audits_and_leaks_nothing() -> None:
    async with FakeEventsServer() as fake:
        accounts = [fake.add_subaccount() for _ in range(20)]
        fake.inject(Fault(delay=0.05, times=None))
        stream = audit_fleet(map(login, accounts), base_url=fake.url, accounts_at_once=4)
        async with contextlib.aclosing(stream):
            async for _ in stream:
                break
        asked = fake.request_count()
        await asyncio.sleep(0.1)  # nothing is still running to ask for more
        assert fake.request_count() == asked < 20 * 3


async def test_a_failing_source_ends_the_stream_with_its_error() -> None:
    async with FakeEventsServer() as fake:
        fake.add_subaccount()
        async with AccountsClient(fake.account.sid, "wrong", base_url=fake.url) as accounts:
            with pytest.raises(AuthenticationError):
                [r async for r in audit_fleet(accounts.subaccounts(), base_url=fake.url)]


async def test_discovered_subaccounts_are_audited_with_their_own_tokens() -> None:
    async with FakeEventsServer() as fake:
        children = [seed_large_account(fake.add_subaccount(), sinks=1) for _ in range(3)]
        parent = fake.account
        async with AccountsClient(parent.sid, parent.auth_token, base_url=fake.url) as accounts:
            reports = await collect(audit_fleet(accounts.subaccounts(), base_url=fake.url))
    assert set(reports) == {c.sid for c in children}
    assert all(r.sinks == 1 and not r.findings for r in reports.values())


async def test_an_api_key_login_is_reported_under_its_account_sid() -> None:
    async with FakeEventsServer() as fake:
        child = fake.add_subaccount()
        key, secret = fake.add_api_key(child)
        reports = await collect(
            audit_fleet([Login(key, secret, child.sid), Login(key, secret)], base_url=fake.url)
        )
    assert set(reports) == {child.sid, key}
    assert not reports[child.sid].findings
    assert not reports[key].findings
    assert secret not in repr(Login(key, secret))


@pytest.mark.parametrize(
    "options",
    [
        {"max_in_flight": 0},
        {"accounts_at_once": -1},
        {"concurrency": True},
        {"account_timeout": math.nan},
        {"session": None, "max_concurrency": 3},
        {"limiter": None},  # the fleet's cap is the fleet's own
        {"transport": None},  # one session for the fleet
    ],
)
def test_bad_options_are_refused_before_anything_runs(options: dict[str, object]) -> None:
    with pytest.raises(InvalidRequestError):
        audit_fleet([], **options)  # type: ignore[arg-type]


# sharding ---------------------------------------------------------------------------------


def test_shard_number_is_a_stable_hash_of_the_sid() -> None:
    sid = "AC" + "0123456789abcdef" * 2
    expected = 1 + int.from_bytes(hashlib.sha256(sid.encode()).digest()[:8], "big") % 8
    assert shard_number(sid, 8) == expected


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16])
def test_every_account_is_in_exactly_one_shard(count: int) -> None:
    sids = [f"AC{n:032x}" for n in range(500)]
    shards = [Shard(k, count) for k in range(1, count + 1)]
    for sid in sids:
        assert sum(sid in shard for shard in shards) == 1
    if count > 1:  # and the hash spreads them
        sizes = [sum(sid in shard for sid in sids) for shard in shards]
        assert min(sizes) > 500 / count / 2


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "a/b", "3", "-1/2", "1/2/3"])
def test_a_shard_outside_its_count_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequestError):
        Shard.parse(text)


async def test_shards_audit_every_account_exactly_once_between_them() -> None:
    async with FakeEventsServer() as fake:
        accounts = [fake.add_subaccount() for _ in range(12)]
        audited: list[str | None] = []
        for k in (1, 2, 3):
            shard = Shard.parse(f"{k}/3")
            audited += [
                r.account_sid
                async for r in audit_fleet(map(login, accounts), base_url=fake.url, shard=shard)
            ]
    assert sorted(audited) == sorted(a.sid for a in accounts)  # type: ignore[type-var]


def test_the_summary_counts_accounts_by_what_was_found() -> None:
    from datetime import datetime, timezone

    from events_async.audit import Finding, Severity

    def report(*severities: Severity, code: str = "X") -> AuditReport:
        findings = [Finding(s, code, "subject", "message") for s in severities]
        return AuditReport("AC" + "0" * 32, datetime.now(timezone.utc), 0.0, findings)

    summary = FleetSummary()
    for r in (
        report(),
        report(Severity.ERROR, Severity.WARNING),
        report(Severity.WARNING, Severity.INFO),
        report(Severity.ERROR, code="AUDIT_INCOMPLETE"),
    ):
        summary.add(r)
    assert summary.to_json() == {
        "schema": "events_async.fleet-summary/1",
        "accounts": 4,
        "with_errors": 2,
        "with_warnings": 2,
        "incomplete": 1,
        "errors": 2,
        "warnings": 2,
        "info": 1,
    }


# progress -------------------------------------------------------------------------------


async def test_the_total_is_none_until_discovery_is_spent_then_final() -> None:
    async with FakeEventsServer() as fake:
        accounts = [fake.add_subaccount() for _ in range(6)]
        more = asyncio.Event()

        async def discovered() -> AsyncIterator[tuple[str, str]]:  # two pages, the second late
            for account in accounts[:3]:
                yield login(account)
            await more.wait()
            for account in accounts[3:]:
                yield login(account)

        calls: list[tuple[int, int | None]] = []

        def progress(done: int, total: int | None) -> None:
            calls.append((done, total))
            if done == 3:
                more.set()  # the first page's accounts are done before the second page came

        reports = [r async for r in audit_fleet(discovered(), base_url=fake.url, progress=progress)]

    assert len(reports) == 6
    assert calls[:3] == [(1, None), (2, None), (3, None)]  # not 3/3: more were coming
    assert calls[-1] == (6, 6)
    assert {total for _, total in calls[3:]} <= {None, 6}
    assert calls == sorted(calls, key=lambda call: call[0])


@pytest.mark.parametrize("shard", [None, Shard(1, 2)])
async def test_a_lists_total_is_known_from_the_first_report(shard: Shard | None) -> None:
    async with FakeEventsServer() as fake:
        made = [login(fake.add_subaccount()) for _ in range(24)]
        inside = [m for m in made if m[0] in Shard(1, 2)][:4]
        outside = [m for m in made if m[0] not in Shard(1, 2)][:4]
        members = [m for pair in zip(outside, inside, strict=True) for m in pair]
        expected = 4 if shard else 8
        calls: list[tuple[int, int | None]] = []
        async for _ in audit_fleet(
            members,
            base_url=fake.url,
            shard=shard,
            accounts_at_once=1,  # pulled one by one: the total cannot come from what was pulled
            progress=lambda *call: calls.append(call),
        ):
            pass
    assert calls == [(n, expected) for n in range(1, expected + 1)]


@pytest.mark.parametrize("per_account", [False, True])
async def test_the_catalog_is_read_once_a_run_unless_asked_per_account(per_account: bool) -> None:
    def catalog_reads() -> tuple[int, int]:
        return fake.request_count("GET /v1/Types"), fake.request_count("GET /v1/Schemas/{Id}")

    async with FakeEventsServer() as fake:
        accounts = [seed_large_account(fake.add_account(), sinks=2) for _ in range(4)]
        (alone,) = await audit_accounts([login(accounts[0])], base_url=fake.url)
        one_account = catalog_reads()
        fake.requests.clear()
        reports = await audit_accounts(
            [login(a) for a in accounts],
            base_url=fake.url,
            catalog_per_account=per_account,
            accounts_at_once=1,  # accounts running side by side may each read it once
        )
        runs = 4 if per_account else 1
        assert one_account[0] == 1
        assert one_account[1] > 0
        assert catalog_reads() == (one_account[0] * runs, one_account[1] * runs)
    assert [r.findings for r in reports] == [alone.findings] * 4
