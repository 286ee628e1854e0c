"""Plan, apply and export against the fake: converged in place, replaced make-before-break,
an interrupted apply converged by the next, and export read back with no changes."""

from __future__ import annotations

import pytest

from events_async import BadRequestError, EventsClient
from events_async.desired import StreamsFile, parse_file, plan
from events_async.desired.account import apply_plan, latest_versions, read_current
from events_async.desired.export import export_text
from events_async.desired.planner import Plan
from events_async.testing import FakeEventsServer

DELIVERED = "com.twilio.messaging.message.delivered"
FAILED = "com.twilio.messaging.message.failed"
FILE = f"""
[[sink]]
description = "hook"
type = "webhook"
destination = "http://127.0.0.1:9/{{account_sid}}"

[[subscription]]
description = "receipts"
sink = "hook"
types = ["{DELIVERED}", {{ type = "{FAILED}", schema_version = 1 }}]
"""


async def planned(client: EventsClient, loaded: StreamsFile, account_sid: str) -> Plan:
    state = loaded.for_account(account_sid)
    latest = await latest_versions(client, {t.type for s in state.subscriptions for t in s.types})
    return plan(state, await read_current(client), latest=latest)


def writes(fake: FakeEventsServer) -> int:
    return fake.request_count("POST *") + fake.request_count("DELETE *")


async def test_apply_converges_and_a_second_apply_writes_nothing() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        loaded = parse_file(FILE)
        first = await planned(client, loaded, fake.account.sid)
        applied = await apply_plan(client, first)
        assert [c.action.value for c in applied.made] == ["create sink", "create subscription"]
        after = writes(fake)
        again = await planned(client, loaded, fake.account.sid)
        assert again.empty
        await apply_plan(client, again)
        assert writes(fake) == after


async def test_a_changed_destination_replaces_the_sink_without_a_gap() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        await apply_plan(client, await planned(client, parse_file(FILE), fake.account.sid))
        moved = parse_file(FILE.replace("127.0.0.1:9/", "127.0.0.1:10/"))
        replace = await planned(client, moved, fake.account.sid)
        order = [c.action.value for c in replace.changes]
        assert order == ["create sink", "create subscription", "delete subscription",
                         "delete sink"]  # fmt: skip
        await apply_plan(client, replace)
        assert (await planned(client, moved, fake.account.sid)).empty
        (sink,) = await client.sinks.list().collect()
        assert sink.sink_configuration is not None
        assert sink.sink_configuration["destination"].startswith("http://127.0.0.1:10/")


async def test_a_replace_interrupted_at_its_deletes_is_converged_by_the_next_apply() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        await apply_plan(client, await planned(client, parse_file(FILE), fake.account.sid))
        moved = parse_file(FILE.replace("127.0.0.1:9/", "127.0.0.1:10/"))
        fake.fail_next("DELETE /v1/Subscriptions/{Sid}", status=400, times=1)
        with pytest.raises(BadRequestError):
            await apply_plan(client, await planned(client, moved, fake.account.sid))
        assert len(await client.sinks.list().collect()) == 2  # half replaced
        rest = await planned(client, moved, fake.account.sid)
        assert [c.action.value for c in rest.changes] == ["delete subscription", "delete sink"]
        await apply_plan(client, rest)
        assert (await planned(client, moved, fake.account.sid)).empty


async def test_export_then_plan_shows_no_changes() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        await apply_plan(client, await planned(client, parse_file(FILE), fake.account.sid))
        text = export_text(await read_current(client))
        assert (await planned(client, parse_file(text), fake.account.sid)).empty
