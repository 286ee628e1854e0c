"""The I/O around the planner, for one account: read what it has, apply a plan, export it.

Thin on purpose: `read_current` turns the account's sinks, subscriptions and subscribed
events into the planner's `CurrentState`; `latest_versions` reads the schema versions the
planner compares with; `apply_plan` makes the plan's changes in order, one at a time, so
that a failure stops the account where it is (the next plan converges it); `export`
writes what an account has as a file `load_file` reads back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import attrs

from ..catalog import SharedCatalog
from ..client import EventsClient
from ..models import SinkStatus, SubscribedType
from .planner import Action, Change, CurrentSink, CurrentState, CurrentSubscription, Plan

__all__ = ["Applied", "apply_changes", "apply_plan", "latest_versions", "read_current"]

READ_CONCURRENCY = 8


async def read_current(
    client: EventsClient, *, concurrency: int = READ_CONCURRENCY
) -> CurrentState:
    """The account's sinks and subscriptions, with every subscription's types (read
    `concurrency` subscriptions at a time)."""
    listed_sinks, subscriptions = await asyncio.gather(
        client.sinks.list().collect(), client.subscriptions.list().collect()
    )  # one round trip, not two, for an account with nothing on it
    sinks = tuple(
        CurrentSink(
            s.sid,
            s.description,
            str(s.sink_type or ""),
            dict(s.sink_configuration or {}),
            str(s.status or ""),
        )
        for s in listed_sinks
    )
    slots = asyncio.Semaphore(concurrency)

    async def with_types(sid: str, description: str | None, sink_sid: str) -> CurrentSubscription:
        async with slots:
            events = await client.subscriptions.subscribed_events(sid).list().collect()
        return CurrentSubscription(
            sid, description, sink_sid, {e.type: e.schema_version for e in events}
        )

    read = await asyncio.gather(
        *(with_types(s.sid, s.description, s.sink_sid) for s in subscriptions)
    )
    return CurrentState(sinks, tuple(read))


async def latest_versions(client: EventsClient, types: Iterable[str]) -> dict[str, int]:
    """Each event type's latest schema version, read for this account alone (two reads
    a type: its event type, then its schema); a fleet shares a `SharedCatalog` instead."""
    return await SharedCatalog().latest_versions(client, types)


@attrs.frozen
class Applied:
    """What an apply did: the changes made, in order, and the sinks Twilio left waiting
    for validation (test sent; run `events-async sinks validate SID --test-id ID`)."""

    made: tuple[Change, ...]
    awaiting_validation: tuple[str, ...] = ()


async def apply_plan(client: EventsClient, plan: Plan) -> Applied:
    """Make `plan`'s changes in order; the first failure raises, leaving the account as
    far as it got (a new plan converges it). A new sink Twilio leaves `initialized` is
    sent Test, and reported as awaiting validation."""
    made: list[Change] = []
    waiting: list[str] = []
    await apply_changes(client, plan.changes, made, waiting)
    return Applied(tuple(made), tuple(waiting))


async def apply_changes(
    client: EventsClient, changes: Iterable[Change], made: list[Change], waiting: list[str]
) -> None:
    """`apply_plan`'s loop, appending to `made` and `waiting` as it goes: what a caller
    still has when a change fails or the apply is cancelled part way. A new sink Twilio
    leaves awaiting validation takes no subscription: those on it are not created, and
    what they and the sink replace is not deleted, so it goes on delivering until an
    apply after validation."""
    created: dict[str, str] = {}  # sink description -> the sid this apply created for it
    unvalidated: set[str] = set()  # descriptions of created sinks awaiting validation
    kept: set[str | None] = set()  # sids whose delete waits for a validation
    for change in changes:
        action = change.action
        on_unvalidated = change.sink_sid is None and change.sink_description in unvalidated
        if action is Action.CREATE_SUBSCRIPTION and on_unvalidated:
            kept.add(change.replaces)
            continue
        if action in (Action.DELETE_SUBSCRIPTION, Action.DELETE_SINK) and change.sid in kept:
            kept.add(change.sink_sid)  # the sink a kept subscription is on is kept with it
            continue
        before = len(waiting)
        await _make(client, change, created, waiting)
        if len(waiting) > before:
            unvalidated.add(change.description)
            kept.add(change.replaces)
        made.append(change)


async def _make(
    client: EventsClient, change: Change, created: dict[str, str], waiting: list[str]
) -> None:
    action = change.action
    if action is Action.CREATE_SINK:
        assert change.sink is not None
        sink = await client.sinks.create(
            description=change.sink.description,
            sink_type=change.sink.sink_type,
            sink_configuration=dict(change.sink.configuration),
        )
        created[change.description] = sink.sid
        if sink.status == SinkStatus.INITIALIZED:
            await client.sinks.test(sink.sid)
            waiting.append(sink.sid)
    elif action is Action.CREATE_SUBSCRIPTION:
        sink_sid = change.sink_sid or created[change.sink_description or ""]
        await client.subscriptions.create(
            description=change.description,
            sink_sid=sink_sid,
            types=[SubscribedType(name, version) for name, version in change.types],
        )
    elif action in (Action.CREATE_TYPE, Action.UPDATE_TYPE, Action.DELETE_TYPE):
        assert change.sid is not None
        assert change.type is not None
        events = client.subscriptions.subscribed_events(change.sid)
        if action is Action.CREATE_TYPE:
            await events.create(type=change.type, schema_version=change.schema_version)
        elif action is Action.UPDATE_TYPE:
            await events.update(change.type, schema_version=change.schema_version)
        else:
            await events.delete(change.type)
    elif action is Action.DELETE_SUBSCRIPTION:
        assert change.sid is not None
        await client.subscriptions.delete(change.sid)
    else:
        assert change.sid is not None
        await client.sinks.delete(change.sid)
