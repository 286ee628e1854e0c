"""Apply converges any account, even one interrupted mid-replace, and a replace never
leaves a subscribed type undelivered — checked against the fake, through the library."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from events_async import EventsClient
from events_async.desired import (
    AccountResult,
    Action,
    CurrentSink,
    CurrentState,
    CurrentSubscription,
    DesiredSink,
    DesiredState,
    StreamsFile,
    apply_account,
    export_account,
    parse_file,
    plan,
    plan_account,
)
from events_async.desired.file import Env
from events_async.testing import DEFAULT_CATALOG, FakeAccount, FakeEventsServer, Fault

from ..desired_support import WriteLog, seed_sink, seed_subscription, writes

DELIVERED = "com.twilio.messaging.message.delivered"
FAILED = "com.twilio.messaging.message.failed"
RECEIVED = "com.twilio.messaging.inbound-message.received"
COMPLETED = "com.twilio.voice.status-callback.call.completed"
STARTED = "com.twilio.studio.flow.execution.started"
TASK = "com.twilio.taskrouter.task.created"
TYPES = (DELIVERED, FAILED, RECEIVED, COMPLETED, STARTED, TASK)
LATEST = {
    name: DEFAULT_CATALOG.schemas[DEFAULT_CATALOG.types[name].schema_id].latest_version
    for name in TYPES
}
OLD = "http://127.0.0.1:9/old"
NEW = "http://127.0.0.1:9/new"
HOOK: dict[str, str | bool] = {"destination": OLD, "method": "POST", "batch_events": True}
KEYS = ("write-key-a", "write-key-b")
WEBHOOK_DEFAULTS = {"method": "POST", "batch_events": True}  # Twilio's, when not given


def settled(result: AccountResult) -> None:
    """An account read, planned unambiguously and every change made."""
    assert result.ok, result.error or result.plan


# --- the fake's `skip` ------------------------------------------------------------------


async def test_a_fault_with_skip_lets_the_first_requests_through_and_fails_the_next() -> None:
    async with FakeEventsServer() as fake, fake.client(max_retries=0) as client:
        third = fake.inject(Fault("POST /v1/Sinks", status=400, skip=2))
        made = [
            await client.sinks.create(
                description=f"hook {n}", sink_type="webhook",
                sink_configuration={"destination": f"{OLD}/{n}"},
            )
            for n in range(2)
        ]  # fmt: skip
        assert (third.skipped, third.fired) == (2, 0)
        with pytest.raises(Exception, match="Injected fault"):
            await client.sinks.create(
                description="hook 2", sink_type="webhook", sink_configuration=HOOK
            )
        assert (third.skipped, third.fired, third.spent) == (2, 1, True)
        assert len(fake.account.sinks) == len(made) == 2
        await client.sinks.list().collect()  # a GET is not aimed at, so not skipped
        assert third.skipped == 2


def test_a_fault_cannot_skip_a_negative_count() -> None:
    from events_async.testing import FaultPlan

    with pytest.raises(ValueError, match="skip"):
        FaultPlan().add(Fault(status=500, skip=-1))


# --- the planner: pruning a replaced sink's unmanaged subscription ------------------------


def test_with_prune_a_replaced_sinks_unmanaged_subscription_is_deleted_not_carried() -> None:
    state = DesiredState((DesiredSink("hook", "webhook", {**HOOK, "destination": NEW}),), ())
    current = CurrentState(
        (CurrentSink("DG1", "hook", "webhook", HOOK),),
        (CurrentSubscription("DF1", "someone else's", "DG1", {DELIVERED: 5}),),
    )
    pruned = plan(state, current, prune=True)
    assert [(c.action, c.sid) for c in pruned.changes] == [
        (Action.CREATE_SINK, None),
        (Action.DELETE_SUBSCRIPTION, "DF1"),
        (Action.DELETE_SINK, "DG1"),
    ]
    kept = plan(state, current)  # without prune it is carried to the new sink, as it is
    assert [c.action for c in kept.changes][:2] == [Action.CREATE_SINK, Action.CREATE_SUBSCRIPTION]


# --- pruning a sink whose subscription waits for a validation ----------------------------

MOVED_TO_SEGMENT = f"""
[[sink]]
description = "alpha"
type = "segment"
write_key = "{KEYS[0]}"

[[subscription]]
description = "receipts"
sink = "alpha"
types = ["{DELIVERED}"]
"""


def test_a_pruned_sink_is_kept_while_its_subscription_waits_for_a_validation() -> None:
    desired = parse_file(MOVED_TO_SEGMENT).for_account("AC1")
    current = CurrentState(
        (
            CurrentSink("DG1", "beta", "webhook", HOOK),
            CurrentSink("DG2", "alpha", "segment", {"write_key": KEYS[0]}, "validating"),
        ),
        (CurrentSubscription("DF1", "receipts", "DG1", {DELIVERED: 5}),),
    )
    planned = plan(desired, current, prune=True)
    assert planned.changes == ()  # not the delete of DG1, which DF1 is still on
    assert planned.waiting


async def test_apply_with_prune_keeps_the_sink_a_waiting_subscription_is_on() -> None:
    async with FakeEventsServer() as fake, fake.client(max_retries=0) as client:
        beta = seed_sink(fake.account, "beta", "webhook", HOOK)
        seed_subscription(fake.account, "receipts", beta, {DELIVERED: 5})
        streams = parse_file(MOVED_TO_SEGMENT)
        first = await apply_account(client, streams, prune=True)
        settled(first)
        assert [c.action for c in first.made] == [Action.CREATE_SINK]
        assert beta.sid in fake.account.sinks  # still delivering "receipts"
        still = await apply_account(client, streams, prune=True)  # not validated yet
        settled(still)
        assert still.made == ()
        await validate_waiting(client, fake, first)
        settled(await apply_account(client, streams, prune=True))
        assert beta.sid not in fake.account.sinks
        final = await plan_account(client, streams, prune=True)
        assert final.plan is not None
        assert final.plan.empty


def test_a_webhook_made_without_method_or_batching_has_twilios_defaults_not_a_replace() -> None:
    state = DesiredState((DesiredSink("hook", "webhook", HOOK),), ())  # the file's defaults
    current = CurrentState((CurrentSink("DG1", "hook", "webhook", {"destination": OLD}),))
    assert plan(state, current).empty
    other = DesiredSink("hook", "webhook", {**HOOK, "method": "GET", "batch_events": False})
    assert [c.action for c in plan(DesiredState((other,), ()), current).changes] == [
        Action.CREATE_SINK,
        Action.DELETE_SINK,
    ]


# --- a replace, step by step --------------------------------------------------------------

REPLACED = f"""
[[sink]]
description = "hook"
type = "webhook"
destination = "{NEW}"

[[subscription]]
description = "receipts"
sink = "hook"
types = ["{DELIVERED}", {{ type = "{FAILED}", schema_version = 2 }}]
"""
CARRIED = {COMPLETED: 3}  # "audit trail", not in the file: carried to the new sink as it is


def before_the_replace(account: FakeAccount) -> set[str]:
    """A sink at OLD with the file's subscription (one type short) and one the file does
    not name; returns the types they deliver."""
    sink = seed_sink(account, "hook", "webhook", HOOK)
    seed_subscription(account, "receipts", sink, {DELIVERED: 5})
    seed_subscription(account, "audit trail", sink, CARRIED)
    return {DELIVERED, COMPLETED}


REPLACE_STEPS = [
    (Action.CREATE_SINK, "hook"),
    (Action.CREATE_SUBSCRIPTION, "receipts"),
    (Action.CREATE_SUBSCRIPTION, "audit trail"),
    (Action.DELETE_SUBSCRIPTION, "receipts"),
    (Action.DELETE_SUBSCRIPTION, "audit trail"),
    (Action.DELETE_SINK, "hook"),
]


def method_of(action: Action) -> str:
    return "POST" if action.value.startswith("create") else "DELETE"


async def test_no_subscribed_type_goes_undelivered_during_a_replace() -> None:
    async with FakeEventsServer() as fake:
        subscribed = before_the_replace(fake.account)
        log = WriteLog(watch=fake.account)
        async with log.session() as session, fake.client(session=session) as client:
            result = await apply_account(client, parse_file(REPLACED))
            settled(result)
            assert [(c.action, c.description) for c in result.made] == REPLACE_STEPS
            await assert_replaced_plan_empty(client)
    assert len(log.moments) == 1 + len(REPLACE_STEPS)  # before, and after every write
    for n, moment in enumerate(log.moments):
        assert subscribed <= moment.delivered(), f"undelivered after write {n}"


async def assert_replaced_plan_empty(client: EventsClient) -> None:
    result = await plan_account(client, parse_file(REPLACED))
    assert result.plan is not None
    assert result.plan.changes == ()


@pytest.mark.parametrize("lost", [False, True], ids=["refused", "acted-then-answer-lost"])
@pytest.mark.parametrize("step", range(len(REPLACE_STEPS)), ids=lambda k: f"write{k}")
async def test_a_replace_interrupted_at_any_write_converges_with_no_type_undelivered(
    step: int, lost: bool
) -> None:
    method = method_of(REPLACE_STEPS[step][0])
    earlier = sum(method_of(action) == method for action, _ in REPLACE_STEPS[:step])
    async with FakeEventsServer() as fake:
        subscribed = before_the_replace(fake.account)
        log = WriteLog(watch=fake.account)
        fault = fake.inject(
            Fault(f"{method} *", status=500 if lost else 400, after=lost, skip=earlier)
        )
        async with log.session() as session, fake.client(session=session, max_retries=0) as c:
            interrupted = await apply_account(c, parse_file(REPLACED))
            assert fault.fired == 1
            assert interrupted.error is not None
            assert [(x.action, x.description) for x in interrupted.made] == REPLACE_STEPS[:step]
            for _ in range(3):
                rerun = await apply_account(c, parse_file(REPLACED))
                if rerun.ok and not rerun.made:
                    break
                settled(rerun)
            else:
                pytest.fail("three more applies did not converge")
            await assert_replaced_plan_empty(c)
        (sink,) = fake.account.sinks.values()
        assert sink.sink_configuration["destination"] == NEW
        on_it = {
            s.description: {t: e.schema_version for t, e in s.events.items()}
            for s in fake.account.subscriptions.values()
            if s.sink_sid == sink.sid
        }
        assert on_it == {
            "receipts": {DELIVERED: LATEST[DELIVERED], FAILED: 2},
            "audit trail": CARRIED,
        }
        assert len(fake.account.subscriptions) == 2
    for n, moment in enumerate(log.moments):
        assert subscribed <= moment.delivered(), f"undelivered after write {n}"


# --- any file, any account ----------------------------------------------------------------

SINK_NAMES = ("alpha", "beta", "gamma")
SUBSCRIPTION_NAMES = ("s1", "s2", "s3", "s4")
URLS = ("http://127.0.0.1:9/a", "http://127.0.0.1:9/b")
ARNS = ("arn:aws:kinesis:us-east-1:1:stream/a", "arn:aws:kinesis:us-east-1:1:stream/b")
ROLE = "arn:aws:iam::1:role/events"


@st.composite
def sink_configurations(draw: st.DrawFn, sink_type: str) -> dict[str, Any]:
    """A configuration of `sink_type` from small pools, so that two often agree. A secret
    is either a literal or the sentinel `Env` (the file writes it `{ env = ... }`)."""
    secret = st.one_of(st.sampled_from(KEYS), st.just(Env("")))
    if sink_type == "webhook":
        chosen = {
            "destination": draw(st.sampled_from(URLS)),
            "method": draw(st.sampled_from(("POST", "GET"))),
            "batch_events": draw(st.booleans()),
        }
        return {k: v for k, v in chosen.items() if k == "destination" or draw(st.booleans())}
    if sink_type == "kinesis":
        return {"arn": draw(st.sampled_from(ARNS)), "role_arn": ROLE, "external_id": draw(secret)}
    return {"write_key": draw(secret)}


def versions(kind: str) -> st.SearchStrategy[int]:
    return st.integers(1, LATEST[kind])


sink_types = st.sampled_from(("webhook", "segment", "kinesis"))
versioned = st.sampled_from(TYPES).flatmap(
    lambda name: st.tuples(st.just(name), st.integers(1, LATEST[name]))
)


@st.composite
def streams_files(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """The text of a file of 1-3 sinks and 0-4 subscriptions, and the secrets it reads."""
    environ: dict[str, str] = {}
    lines: list[str] = []
    names = draw(st.lists(st.sampled_from(SINK_NAMES), min_size=1, max_size=3, unique=True))
    for name in names:
        sink_type = draw(sink_types)
        lines += ["[[sink]]", f"description = {json.dumps(name)}", f'type = "{sink_type}"']
        for key, value in draw(sink_configurations(sink_type)).items():
            if isinstance(value, Env):
                variable = f"SECRET_{len(environ)}"
                environ[variable] = draw(st.sampled_from(KEYS))
                lines.append(f'{key} = {{ env = "{variable}" }}')
            else:
                lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    subscriptions = draw(st.lists(st.sampled_from(SUBSCRIPTION_NAMES), max_size=4, unique=True))
    for name in subscriptions:
        kinds = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True))
        entries = [
            json.dumps(kind)
            if draw(st.booleans())
            else f"{{ type = {json.dumps(kind)}, schema_version = {draw(versions(kind))} }}"
            for kind in kinds
        ]
        lines += ["[[subscription]]", f"description = {json.dumps(name)}",
                  f"sink = {json.dumps(draw(st.sampled_from(names)))}",
                  f"types = [{', '.join(entries)}]", ""]  # fmt: skip
    return "\n".join(lines), environ


@st.composite
def accounts(draw: st.DrawFn, twice: bool = False) -> list[Any]:
    """What an account has before: sinks and subscriptions made outside the tool, some
    described as the file's with another configuration or other types, some the file
    does not name; with `twice`, descriptions may repeat. Seeded by `seed_account`."""
    sink_names = st.sampled_from((*SINK_NAMES, "legacy"))
    names = draw(st.lists(sink_names, max_size=4, unique=not twice))
    sinks = []
    for name in names:
        sink_type = draw(sink_types)
        configuration = draw(sink_configurations(sink_type))
        configuration = {
            k: draw(st.sampled_from(KEYS)) if isinstance(v, Env) else v
            for k, v in configuration.items()
        }
        sinks.append((name, sink_type, configuration))
    subscriptions = []
    if sinks:
        subscription_names = st.sampled_from((*SUBSCRIPTION_NAMES, "other", "another"))
        for name in draw(st.lists(subscription_names, max_size=5, unique=not twice)):
            on = draw(st.integers(0, len(sinks) - 1))
            types = dict(
                draw(st.lists(versioned, min_size=1, max_size=3, unique_by=lambda t: t[0]))
            )
            subscriptions.append((name, on, types))
    return [sinks, subscriptions]


def seed_account(account: FakeAccount, drawn: list[Any]) -> None:
    sinks, subscriptions = drawn
    made = [seed_sink(account, *sink) for sink in sinks]
    for name, on, types in subscriptions:
        seed_subscription(account, name, made[on], types)


async def validate_waiting(
    client: EventsClient, fake: FakeEventsServer, result: AccountResult
) -> None:
    """What the operator does for a sink the apply left awaiting validation."""
    for sid in result.awaiting_validation:
        await client.sinks.validate(sid, test_id=fake.test_id(sid))


def assert_as_the_file_says(
    account: FakeAccount, streams: StreamsFile, environ: dict[str, str]
) -> None:
    """Checked on the fake's own state, not through the planner: every sink and
    subscription of the file once, as the file says it (a secret is never compared: a
    sink made before with another one is kept, by design; a webhook made without a
    method or batching has Twilio's defaults)."""
    desired = streams.for_account(account.sid, environ=environ)
    sinks = {}
    for wanted in desired.sinks:
        (sink,) = (s for s in account.sinks.values() if s.description == wanted.description)
        assert sink.sink_type == wanted.sink_type
        assert sink.status == "active"
        shown = {k: v for k, v in wanted.configuration.items() if k not in wanted.secrets}
        defaults = WEBHOOK_DEFAULTS if sink.sink_type == "webhook" else {}
        had = {**defaults, **sink.sink_configuration}
        assert {k: had.get(k) for k in shown} == shown
        sinks[wanted.description] = sink.sid
    for wanted_subscription in desired.subscriptions:
        (subscription,) = (
            s
            for s in account.subscriptions.values()
            if s.description == wanted_subscription.description
        )
        assert subscription.sink_sid == sinks[wanted_subscription.sink]
        assert {t: e.schema_version for t, e in subscription.events.items()} == {
            t.type: t.schema_version or LATEST[t.type] for t in wanted_subscription.types
        }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=streams_files(), before=accounts(), prune=st.booleans())
def test_any_file_applied_to_any_account_converges_and_a_second_apply_writes_nothing(
    file: tuple[str, dict[str, str]], before: list[Any], prune: bool
) -> None:
    text, environ = file
    note(f"file:\n{text}\nenviron: {environ}\nbefore: {before}")
    streams = parse_file(text)

    async def run() -> None:
        async with FakeEventsServer() as fake, fake.client(max_retries=0) as client:
            seed_account(fake.account, before)
            first = await apply_account(client, streams, prune=prune, environ=environ)
            settled(first)
            await validate_waiting(client, fake, first)
            if first.awaiting_validation:  # what waited for them is made now
                settled(await apply_account(client, streams, prune=prune, environ=environ))
            planned = await plan_account(client, streams, prune=prune, environ=environ)
            assert planned.plan is not None
            assert planned.plan.empty, planned.plan
            if prune:
                assert planned.plan.unmanaged == ()
            assert_as_the_file_says(fake.account, streams, environ)
            sent = writes(fake)
            again = await apply_account(client, streams, prune=prune, environ=environ)
            settled(again)
            assert again.made == ()
            assert writes(fake) == sent

    asyncio.run(run())


# --- export, then plan ------------------------------------------------------------------


def left_out(account: FakeAccount) -> set[str]:
    """What an export cannot write: a sink or subscription whose description another
    shares, and a subscription on such a sink."""
    sinks = Counter(s.description for s in account.sinks.values())
    subscriptions = Counter(s.description for s in account.subscriptions.values())
    out = {s.sid for s in account.sinks.values() if sinks[s.description] > 1}
    return out | {
        s.sid
        for s in account.subscriptions.values()
        if subscriptions[s.description] > 1 or s.sink_sid in out
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=accounts(twice=True))
def test_an_exported_account_plans_no_changes(before: list[Any]) -> None:
    async def run() -> None:
        async with FakeEventsServer() as fake, fake.client(max_retries=0) as client:
            seed_account(fake.account, before)
            text = await export_account(client)
            note(text)
            streams = parse_file(text)
            environ = {
                value.name: "a secret Twilio does not show back"
                for sink in streams.sinks
                for value in sink.configuration.values()
                if isinstance(value, Env)
            }
            result = await plan_account(client, streams, environ=environ)
            assert result.plan is not None, result.error
            assert result.plan.empty, result.plan
            assert {u.split()[1] for u in result.plan.unmanaged} == left_out(fake.account)

    asyncio.run(run())
