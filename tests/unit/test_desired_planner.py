"""The planner, table by table: desired + current state -> ordered changes. Pure, no I/O."""

from __future__ import annotations

import attrs
import pytest

from events_async.desired import (
    Action,
    CurrentSink,
    CurrentState,
    CurrentSubscription,
    DesiredSink,
    DesiredState,
    DesiredSubscription,
    DesiredType,
    plan,
)

DELIVERED = "com.twilio.messaging.message.delivered"
FAILED = "com.twilio.messaging.message.failed"
URL = "https://hooks.example.com/a"
HOOK = {"destination": URL, "method": "POST", "batch_events": True}
LATEST = {DELIVERED: 5, FAILED: 3}


def desired(*subscriptions: DesiredSubscription, url: str = URL) -> DesiredState:
    sink = DesiredSink("hook", "webhook", {**HOOK, "destination": url})
    return DesiredState((sink,), subscriptions)


def wanted(*types: DesiredType, description: str = "receipts") -> DesiredSubscription:
    return DesiredSubscription(description, "hook", types)


def sink(sid: str = "DG1", url: str = URL, description: str | None = "hook") -> CurrentSink:
    return CurrentSink(sid, description, "webhook", {**HOOK, "destination": url})


def sub(
    sid: str = "DF1", sink_sid: str = "DG1", description: str | None = "receipts"
) -> CurrentSubscription:
    """A subscription to DELIVERED at its latest version."""
    return CurrentSubscription(sid, description, sink_sid, {DELIVERED: 5})


def steps(result: object) -> list[tuple[str, str, str | None]]:
    """Each change as (symbol + action, description or type, the SID acted on)."""
    return [
        (f"{c.action.symbol} {c.action.value}", c.type or c.description, c.sid or c.replaces)
        for c in result.changes  # type: ignore[attr-defined]
    ]


def test_an_empty_account_gets_the_sink_then_the_subscription() -> None:
    result = plan(desired(wanted(DesiredType(DELIVERED))), CurrentState(), latest=LATEST)
    assert steps(result) == [
        ("+ create sink", "hook", None),
        ("+ create subscription", "receipts", None),
    ]
    create = result.changes[1]
    assert create.sink_sid is None  # the sink this plan creates
    assert create.sink_description == "hook"
    assert create.types == ((DELIVERED, None),)


def test_an_account_as_the_file_says_needs_nothing() -> None:
    current = CurrentState((sink(),), (sub(),))
    result = plan(desired(wanted(DesiredType(DELIVERED))), current, latest=LATEST)
    assert result.empty
    assert result.unmanaged == ()


@pytest.mark.parametrize(
    ("types", "have", "expected"),
    [
        ((DesiredType(DELIVERED, 4),), {DELIVERED: 5}, [("~ update type", DELIVERED, "DF1")]),
        ((DesiredType(DELIVERED),), {DELIVERED: 2}, [("~ update type", DELIVERED, "DF1")]),
        (
            (DesiredType(DELIVERED), DesiredType(FAILED, 2)),
            {DELIVERED: 5},
            [("+ create type", FAILED, "DF1")],
        ),
        (
            (DesiredType(FAILED),),
            {DELIVERED: 5, FAILED: 3},
            [("- delete type", DELIVERED, "DF1")],
        ),
        (
            (DesiredType(FAILED),),
            {DELIVERED: 5},
            [("+ create type", FAILED, "DF1"), ("- delete type", DELIVERED, "DF1")],
        ),
    ],
)
def test_a_subscriptions_types_change_in_place_never_by_replacing_it(
    types: tuple[DesiredType, ...], have: dict[str, int], expected: list[object]
) -> None:
    current = CurrentState((sink(),), (CurrentSubscription("DF1", "receipts", "DG1", have),))
    result = plan(desired(wanted(*types)), current, latest=LATEST)
    assert steps(result) == expected


def test_without_a_known_latest_version_any_version_is_kept() -> None:
    current = CurrentState((sink(),), (CurrentSubscription("DF1", "receipts", "DG1", {"x": 1}),))
    assert plan(desired(wanted(DesiredType("x"))), current).empty


def test_a_changed_sink_is_replaced_make_before_break() -> None:
    current = CurrentState(
        (sink(),), (sub(), CurrentSubscription("DF9", "someone else's", "DG1", {FAILED: 3}))
    )
    result = plan(desired(wanted(DesiredType(DELIVERED)), url=URL + "/v2"), current, latest=LATEST)
    assert steps(result) == [
        ("+ create sink", "hook", "DG1"),
        ("+ create subscription", "receipts", "DF1"),
        ("+ create subscription", "someone else's", "DF9"),  # carried over, as it is
        ("- delete subscription", "receipts", "DF1"),
        ("- delete subscription", "someone else's", "DF9"),
        ("- delete sink", "hook", "DG1"),
    ]
    carried = result.changes[2]
    assert carried.types == ((FAILED, 3),)
    assert carried.sink_sid is None


def test_a_replace_interrupted_after_the_new_sink_goes_on_from_there() -> None:
    new = sink("DG2", URL + "/v2")
    current = CurrentState((sink(), new), (sub(),))
    result = plan(desired(wanted(DesiredType(DELIVERED)), url=URL + "/v2"), current, latest=LATEST)
    assert steps(result) == [
        ("+ create subscription", "receipts", "DF1"),
        ("- delete subscription", "receipts", "DF1"),
        ("- delete sink", "hook", "DG1"),
    ]
    assert result.changes[0].sink_sid == "DG2"


def test_a_replace_interrupted_after_the_subscriptions_moved_deletes_the_old() -> None:
    current = CurrentState((sink(), sink("DG2", URL + "/v2")), (sub(), sub("DF2", "DG2")))
    result = plan(desired(wanted(DesiredType(DELIVERED)), url=URL + "/v2"), current, latest=LATEST)
    assert steps(result) == [
        ("- delete subscription", "receipts", "DF1"),
        ("- delete sink", "hook", "DG1"),
    ]


def test_a_subscription_moved_to_another_sink_is_recreated_then_deleted() -> None:
    other = DesiredSink("other", "webhook", {**HOOK, "destination": URL + "/o"})
    state = DesiredState(
        (DesiredSink("hook", "webhook", HOOK), other),
        (DesiredSubscription("receipts", "other", (DesiredType(DELIVERED),)),),
    )
    current = CurrentState((sink(), sink("DG2", URL + "/o", "other")), (sub(),))
    assert steps(plan(state, current, latest=LATEST)) == [
        ("+ create subscription", "receipts", "DF1"),
        ("- delete subscription", "receipts", "DF1"),
    ]


@pytest.mark.parametrize(
    "current",
    [
        CurrentState((sink(), sink("DG2")), ()),  # two alike: which is it?
        CurrentState((sink(), sink("DG2", URL + "/x"), sink("DG3", URL + "/y")), ()),
        CurrentState((sink(),), (sub(), sub("DF2"))),
    ],
)
def test_a_description_used_twice_is_reported_and_the_account_untouched(
    current: CurrentState,
) -> None:
    result = plan(desired(wanted(DesiredType(FAILED))), current, latest=LATEST)
    assert result.changes == ()
    assert result.ambiguous
    assert not result.empty


def test_what_the_file_does_not_name_is_unmanaged_and_left_alone_unless_pruned() -> None:
    current = CurrentState(
        (sink(), sink("DG7", URL + "/old", "legacy")),
        (sub(), sub("DF7", "DG7", "legacy receipts")),
    )
    state = desired(wanted(DesiredType(DELIVERED)))
    kept = plan(state, current, latest=LATEST)
    assert kept.changes == ()
    assert kept.unmanaged == ("sink DG7 (legacy)", "subscription DF7 (legacy receipts)")
    pruned = plan(state, current, latest=LATEST, prune=True)
    assert steps(pruned) == [
        ("- delete subscription", "legacy receipts", "DF7"),
        ("- delete sink", "legacy", "DG7"),
    ]
    assert pruned.unmanaged == ()  # deleted, so not also "left alone"


def test_secrets_are_never_compared() -> None:
    state = DesiredState(
        (DesiredSink("k", "segment", {"write_key": "new"}, frozenset({"write_key"})),), ()
    )
    current = CurrentState((CurrentSink("DG1", "k", "segment", {"write_key": "****"}),), ())
    assert plan(state, current).empty


def test_booleans_match_whether_twilio_returns_them_as_booleans_or_strings() -> None:
    current = CurrentState(
        (CurrentSink("DG1", "hook", "webhook", {**HOOK, "batch_events": "true"}),)
    )
    assert plan(desired(), current).empty


def test_every_action_has_its_terraform_symbol() -> None:
    assert {a.symbol for a in Action} == {"+", "~", "-"}
    assert Action.UPDATE_TYPE.symbol == "~"


@pytest.mark.parametrize("status", ["initialized", "validating", "failed"])
def test_a_replacement_not_yet_active_waits_and_the_old_sink_keeps_delivering(
    status: str,
) -> None:
    new = CurrentSink("DG2", "hook", "webhook", {**HOOK, "destination": URL + "/v2"}, status)
    carried = CurrentSubscription("DF9", "someone else's", "DG1", {FAILED: 3})
    current = CurrentState((sink(), new), (sub(), carried))
    to_v2 = desired(wanted(DesiredType(DELIVERED)), url=URL + "/v2")
    result = plan(to_v2, current, latest=LATEST)
    assert steps(result) == []
    assert result.waiting == (
        f"sink DG2 (hook) is {status}: it delivers nothing until it is validated",
        "sink DG1 is kept until its replacement DG2 is validated",
        "subscription 'receipts' waits for sink DG2's validation",
        "subscription \"someone else's\" waits for sink DG2's validation",
    )
    assert not result.empty
    validated = CurrentState((sink(), attrs.evolve(new, status="active")), current.subscriptions)
    assert steps(plan(to_v2, validated, latest=LATEST)) == [
        ("+ create subscription", "receipts", "DF1"),
        ("+ create subscription", "someone else's", "DF9"),
        ("- delete subscription", "receipts", "DF1"),
        ("- delete subscription", "someone else's", "DF9"),
        ("- delete sink", "hook", "DG1"),
    ]


def test_a_sink_not_yet_active_waits_even_with_nothing_on_it() -> None:
    pending = CurrentSink("DG1", "hook", "webhook", HOOK, "validating")
    result = plan(desired(), CurrentState((pending,)), latest=LATEST)
    assert steps(result) == []
    assert result.waiting == (
        "sink DG1 (hook) is validating: it delivers nothing until it is validated",
    )
    assert not result.empty  # not what the file says until it delivers


def test_a_subscription_on_a_sink_not_yet_active_waits_for_it() -> None:
    pending = CurrentSink("DG1", "hook", "webhook", HOOK, "initialized")
    result = plan(desired(wanted(DesiredType(DELIVERED))), CurrentState((pending,)), latest=LATEST)
    assert steps(result) == []
    assert result.waiting == (
        "sink DG1 (hook) is initialized: it delivers nothing until it is validated",
        "subscription 'receipts' waits for sink DG1's validation",
    )
