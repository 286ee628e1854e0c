"""The audit: every finding on a seeded scenario, none on a clean account, at scale."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from events_async import EventsClient, Finding, WebhookSinkConfiguration
from events_async._audit_rules import AuditData, find_problems
from events_async.audit import (
    REPORT_SCHEMA,
    AuditReport,
    FindingCode,
    Severity,
    audit_account,
    audit_accounts,
)
from events_async.models import Sink, SinkStatus, Subscription
from events_async.testing import FakeEventsServer, Fault
from events_async.testing.demo import seed_demo_account, seed_large_account

ALL_CODES = {code.value for code in FindingCode}


@pytest.fixture
async def demo() -> AsyncIterator[tuple[FakeEventsServer, EventsClient]]:
    async with FakeEventsServer() as fake, fake.client(max_retries=0) as client:
        seed_demo_account(fake.account)
        yield fake, client


def _by_code(report: AuditReport) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.code, set()).add(finding.subject)
    return found


def _sid(fake: FakeEventsServer, description: str) -> str:
    for sink in fake.account.sinks.values():
        if sink.description == description:
            return sink.sid
    for subscription in fake.account.subscriptions.values():
        if subscription.description == description:
            return subscription.sid
    raise LookupError(description)


async def test_the_demo_account_shows_every_finding_but_incomplete(
    demo: tuple[FakeEventsServer, EventsClient],
) -> None:
    fake, client = demo
    report = await audit_account(client)
    found = _by_code(report)

    assert set(found) == ALL_CODES - {"AUDIT_INCOMPLETE"}
    assert found["SUBSCRIPTION_SINK_MISSING"] == {_sid(fake, "Conversations feed")}
    assert found["SUBSCRIPTION_SINK_NOT_ACTIVE"] == {_sid(fake, "Staging messaging")}
    assert found["SINK_FAILED"] == {_sid(fake, "Segment analytics")}
    assert found["SINK_NOT_VALIDATED"] == {
        _sid(fake, "Staging webhook"),
        _sid(fake, "Old Kinesis stream"),
    }
    assert found["SINK_UNUSED"] == {
        _sid(fake, "Segment analytics"),
        _sid(fake, "Old Kinesis stream"),
    }
    assert found["SUBSCRIPTION_EMPTY"] == {_sid(fake, "Studio flows")}
    assert found["EVENT_TYPE_UNKNOWN"] == {"com.twilio.messaging.message.retired"}
    assert found["EVENT_TYPE_DEPRECATED"] == {"com.twilio.messaging.message.legacy-status"}
    assert found["SCHEMA_VERSION_OUTDATED"] == {_sid(fake, "Messaging delivery receipts")}
    assert found["DUPLICATE_DELIVERY"] == {_sid(fake, "Data lake stream")}
    assert found["WEBHOOK_INSECURE"] == {_sid(fake, "Staging webhook")}
    assert report.has_errors
    assert [f.severity for f in report.findings] == sorted(
        (f.severity for f in report.findings),
        key=[Severity.ERROR, Severity.WARNING, Severity.INFO].index,
    )
    assert (report.sinks, report.subscriptions, report.subscribed_events) == (5, 7, 11)
    assert report.account_sid == fake.account.sid


async def test_an_unreadable_part_is_a_finding_and_the_rest_goes_on(
    demo: tuple[FakeEventsServer, EventsClient],
) -> None:
    fake, client = demo
    fake.inject(
        Fault("GET /v1/Subscriptions/{SubscriptionSid}/SubscribedEvents", status=500, times=None)
    )
    report = await audit_account(client)
    found = _by_code(report)

    assert found["AUDIT_INCOMPLETE"] == set(fake.account.subscriptions)
    assert "SINK_FAILED" in found
    assert "SUBSCRIPTION_SINK_MISSING" in found
    # Nothing is concluded from subscribed events that were not read.
    for code in ("SUBSCRIPTION_EMPTY", "EVENT_TYPE_UNKNOWN", "DUPLICATE_DELIVERY"):
        assert code not in found
    assert not report.authentication_failed


async def test_wrong_credentials_make_the_whole_audit_incomplete(
    demo: tuple[FakeEventsServer, EventsClient],
) -> None:
    fake, _ = demo
    async with EventsClient(fake.account.sid, "wrong", base_url=fake.url) as stranger:
        report = await audit_account(stranger)
    assert report.authentication_failed
    [finding] = report.findings  # one finding for the account, not one per list it read
    assert (finding.severity, finding.code, finding.subject) == (
        Severity.ERROR,
        "AUDIT_INCOMPLETE",
        "account",
    )
    assert finding.message.startswith("could not sign in: HTTP 401")
    assert "wrong" not in finding.message


async def test_a_clean_account_has_no_findings() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        sink = await client.sinks.create(
            description="prod",
            sink_type="webhook",
            sink_configuration=WebhookSinkConfiguration("https://hooks.example.com/events"),
        )
        assert sink.sid is not None
        await client.sinks.test(sink.sid)
        await client.sinks.validate(sink.sid, test_id=fake.test_id(sink.sid) or "")
        await client.subscriptions.create(
            description="receipts",
            sink_sid=sink.sid,
            types=[
                "com.twilio.messaging.message.delivered",
                "com.twilio.voice.status-callback.call.completed",
            ],
        )
        report = await audit_account(client)

    assert report.findings == []
    assert not report.has_errors
    assert report.summary().endswith("No problems found.")


async def test_report_json_follows_the_documented_schema(
    demo: tuple[FakeEventsServer, EventsClient],
) -> None:
    _, client = demo
    document = (await audit_account(client)).to_json()

    assert json.loads(json.dumps(document)) == document
    assert document["schema"] == REPORT_SCHEMA
    assert set(document) == {
        "schema",
        "account_sid",
        "started_at",
        "duration_seconds",
        "totals",
        "findings",
    }
    assert set(document["totals"]) == {
        "sinks",
        "subscriptions",
        "subscribed_events",
        "event_types",
        "errors",
        "warnings",
        "info",
    }
    assert document["totals"]["errors"] == 4
    assert document["started_at"].endswith("Z")
    for finding in document["findings"]:
        assert set(finding) == {"severity", "code", "subject", "message"}
        assert finding["severity"] in ("error", "warning", "info")


async def test_progress_is_reported_until_done(
    demo: tuple[FakeEventsServer, EventsClient],
) -> None:
    _, client = demo
    calls: list[tuple[int, int | None]] = []
    await audit_account(client, progress=lambda done, total: calls.append((done, total)))

    totals = [total for _, total in calls]
    known = totals.index(3 + 7 + 5)  # lists, one per subscription, one per schema in use
    assert set(totals[:known]) == {None}  # unknown while reads are still being found
    assert set(totals[known:]) == {15}  # then final: it never grows
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (15, 15)


async def test_concurrency_must_be_positive(demo: tuple[FakeEventsServer, EventsClient]) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await audit_account(demo[1], concurrency=0)


async def test_a_large_account_is_audited_concurrently() -> None:
    """100 sinks, 100 subscriptions with 10 types each, 20 ms of latency on every request."""
    async with FakeEventsServer() as fake, fake.client() as client:
        seed_large_account(fake.account, sinks=100)
        fake.inject(Fault(delay=0.02, times=None))

        report = await audit_account(client, concurrency=10)

    schemas_in_use = 5
    assert fake.request_count() == 3 + 100 + schemas_in_use
    assert fake.request_count("GET /v1/Subscriptions/{SubscriptionSid}/SubscribedEvents") == 100
    assert fake.peak_in_flight == 10
    assert report.findings == []
    assert (report.sinks, report.subscriptions, report.subscribed_events) == (100, 100, 1000)


async def test_many_accounts_over_one_session_one_report_each() -> None:
    async with FakeEventsServer() as fake:
        seed_demo_account(fake.account)
        clean = fake.add_account()
        key, secret = fake.add_api_key(clean)
        progress: list[tuple[int, int]] = []
        reports = await audit_accounts(
            [
                (fake.account.sid, fake.account.auth_token),
                (key, secret),
                (clean.sid, "wrong token"),
                ("ACnot-a-sid", "token"),
            ],
            base_url=fake.url,
            max_retries=0,
            progress=lambda done, total: progress.append((done, total)),
        )

    assert [r.has_errors for r in reports] == [True, False, True, True]
    assert reports[0].account_sid == fake.account.sid
    assert reports[1].findings == []
    assert reports[2].authentication_failed
    assert reports[3].authentication_failed
    assert "account_sid must be an Account SID" in reports[3].findings[0].message
    assert sorted(progress) == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_rules_draw_nothing_from_parts_not_read() -> None:
    data = AuditData(
        sinks=None,
        subscriptions=[Subscription(sid="DF1", sink_sid="DG1")],
        subscribed_events={"DF1": None},
        catalog=None,
        latest_versions={},
    )
    assert find_problems(data) == []


def test_rules_on_a_sink_alone() -> None:
    data = AuditData(
        sinks=[Sink(sid="DG1", status=SinkStatus.ACTIVE, sink_type="webhook")],
        subscriptions=None,
        subscribed_events={},
        catalog=[],
        latest_versions={},
    )
    assert find_problems(data) == []


def test_finding_and_severity_are_public_names() -> None:
    import pickle

    import events_async
    from events_async import audit

    assert {"Finding", "FindingCode", "Severity"} <= set(events_async.__all__) & set(audit.__all__)
    assert events_async.Finding is audit.Finding
    assert events_async.Severity is audit.Severity
    assert events_async.FindingCode is audit.FindingCode
    for public in (audit.Finding, audit.FindingCode, audit.Severity):
        assert public.__module__ == "events_async.audit"  # what help() and pickle name
    finding = audit.Finding(audit.Severity.WARNING, "SINK_UNUSED", "DG1", "unused")
    assert pickle.loads(pickle.dumps(finding)) == finding


USER_CODE = """
from events_async import Finding, FindingCode, Severity
from events_async.audit import AuditReport
from events_async.fleet import audit_fleet


async def audited(pairs: list[tuple[str, str]]) -> list[str]:
    return [report.account_sid async for report in audit_fleet(pairs)]


def errors(report: AuditReport) -> list[Finding]:
    return [f for f in report.findings if f.severity is Severity.ERROR]


def described(report: AuditReport) -> list[str]:
    return [
        f"{code} ({code.severity.value}): {code.description}"
        for code in FindingCode
        if any(f.code == code for f in report.findings)
    ]


def default_severity(code: str) -> Severity:
    return FindingCode(code).severity
"""


def test_users_strict_code_gets_a_str_sid_and_public_finding_types(tmp_path: Path) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    user = tmp_path / "user.py"
    user.write_text(USER_CODE)
    out, err, status = mypy_api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(user)]
    )
    assert status == 0, out + err


def _report(findings: list[Finding], *, authentication_failed: bool = False) -> AuditReport:
    return AuditReport(
        account_sid="AC" + "0" * 32,
        started_at=datetime.now(timezone.utc),
        duration_seconds=0.5,
        findings=findings,
        sinks=1,
        subscriptions=2,
        subscribed_events=1,
        authentication_failed=authentication_failed,
    )


def test_the_audit_headline_counts_in_words() -> None:
    one_error = Finding(Severity.ERROR, "SINK_FAILED", "DG1", "failed")
    headline = _report([one_error]).summary().splitlines()[0]
    assert headline.endswith(
        ": 1 sink, 2 subscriptions, 1 subscribed event in 0.50s: 1 error, 0 warnings, 0 info"
    )


def test_after_a_401_the_headline_says_the_account_could_not_be_read() -> None:
    refused = Finding(Severity.ERROR, "AUDIT_INCOMPLETE", "sinks", "HTTP 401")
    headline = _report([refused], authentication_failed=True).summary().splitlines()[0]
    assert "could not be read (authentication failed)" in headline
    assert "sink" not in headline.split(":", 1)[1]


async def test_an_audit_takes_what_the_shared_catalog_holds_without_reading_it(
    demo: tuple[FakeEventsServer, EventsClient],
) -> None:
    from events_async.catalog import SharedCatalog

    fake, client = demo
    catalog = SharedCatalog()
    assert catalog.known_event_types() is None
    first = await audit_account(client, catalog=catalog)
    held = catalog.known_event_types()
    assert held is not None
    assert len(held) == first.event_types
    schemas = fake.request_count("GET /v1/Schemas/{Id}")
    assert schemas > 0
    assert all(catalog.known_schema(f"unread {n}") is None for n in range(2))

    calls: list[tuple[int, int | None]] = []
    again = await audit_account(
        client, catalog=catalog, progress=lambda done, total: calls.append((done, total))
    )
    assert again.findings == first.findings
    assert fake.request_count("GET /v1/Types") == 1
    assert fake.request_count("GET /v1/Schemas/{Id}") == schemas
    assert calls[-1] == (3 + 7 + schemas, 3 + 7 + schemas)  # held parts count as reads
