"""Plan, apply and export against the fake: converged in place, replaced make-before-break,
an interrupted apply converged by the next, and export read back with no changes."""

from __future__ import annotations

import pytest

from events_async import BadRequestError, EventsClient
from events_async.desired import StreamsFile, apply_account, parse_file, plan, plan_account
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


KINESIS = """
[[sink]]
description = "stream"
type = "kinesis"
arn = "arn:aws:kinesis:us-east-1:111111111111:stream/{stream}"
role_arn = "arn:aws:iam::111111111111:role/events"
external_id = { env = "EXTERNAL_ID" }

[[subscription]]
description = "receipts"
sink = "stream"
types = ["com.twilio.messaging.message.delivered"]
"""


async def test_a_kinesis_replace_keeps_the_old_sink_delivering_until_the_new_is_validated() -> None:
    environ = {"EXTERNAL_ID": "x-1"}
    async with FakeEventsServer() as fake, fake.client() as client:
        first, second = (
            parse_file(KINESIS.replace("{stream}", name)) for name in ("first", "second")
        )
        created = await apply_account(client, first, environ=environ)
        (sink_sid,) = created.awaiting_validation
        assert [c.action.value for c in created.made] == ["create sink"]  # no subscription yet
        assert [c.action.value for c in created.pending] == ["create subscription"]
        await client.sinks.validate(sink_sid, test_id=fake.account.sink(sink_sid).test_id or "")
        done = await apply_account(client, first, environ=environ)
        assert [c.action.value for c in done.made] == ["create subscription"]

        replacing = await apply_account(client, second, environ=environ)
        (new_sid,) = replacing.awaiting_validation
        assert [c.action.value for c in replacing.made] == ["create sink"]
        (subscription,) = await client.subscriptions.list().collect()
        assert subscription.sink_sid == sink_sid  # the old sink still delivers
        waiting = await plan_account(client, second, environ=environ)
        assert waiting.plan is not None
        assert waiting.plan.changes == ()
        assert f"sink {sink_sid} is kept until its replacement {new_sid} is validated" in (
            waiting.plan.waiting
        )

        await client.sinks.validate(new_sid, test_id=fake.account.sink(new_sid).test_id or "")
        finished = await apply_account(client, second, environ=environ)
        assert [c.action.value for c in finished.made] == [
            "create subscription", "delete subscription", "delete sink"
        ]  # fmt: skip
        after = await plan_account(client, second, environ=environ)
        assert after.plan is not None
        assert after.plan.empty
