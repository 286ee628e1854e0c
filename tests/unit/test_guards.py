"""Bad input is refused before anything is sent; path parameters never change the path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import web

from events_async import (
    EventsClient,
    InvalidRequestError,
    KinesisSinkConfiguration,
    SubscribedType,
    WebhookSinkConfiguration,
)
from events_async.accounts import AccountsClient

from ..support import ACCOUNT_SID, AUTH_TOKEN, SINK_SID, SUBSCRIPTION_SID, loopback_client, serve

WEBHOOK = WebhookSinkConfiguration(destination="https://example.com/events")

BAD_CALLS: list[tuple[str, Callable[[EventsClient], Awaitable[Any]], str, str | None]] = [
    ("sink sid pattern", lambda c: c.sinks.fetch("DF" + "a" * 32), "sid must be a DG SID", "sid"),
    ("short sink sid", lambda c: c.sinks.delete("DG123"), "sid must be a DG SID", "sid"),
    ("sink sid with newline", lambda c: c.sinks.fetch(SINK_SID + "\n"), "DG SID", "sid"),
    ("subscription sid", lambda c: c.subscriptions.fetch(SINK_SID), "DF SID", "sid"),
    ("sink sid not str", lambda c: c.sinks.fetch(None), "DG SID", "sid"),
    (
        "empty description",
        lambda c: c.sinks.create(description=" ", sink_type="webhook", sink_configuration=WEBHOOK),
        "description",
        "description",
    ),
    (
        "unknown sink type",
        lambda c: c.sinks.create(description="d", sink_type="ftp", sink_configuration={"a": 1}),
        "sink_type must be one of kinesis, webhook, segment, email, got 'ftp'",
        "sink_type",
    ),
    (
        "config of another type",
        lambda c: c.sinks.create(description="d", sink_type="kinesis", sink_configuration=WEBHOOK),
        "does not configure a kinesis sink",
        "sink_configuration",
    ),
    (
        "empty config",
        lambda c: c.sinks.create(description="d", sink_type="webhook", sink_configuration={}),
        "must not be empty",
        "sink_configuration",
    ),
    (
        "config not a mapping",
        lambda c: c.sinks.create(description="d", sink_type="webhook", sink_configuration="{}"),
        "mapping or a typed",
        "sink_configuration",
    ),
    (
        "config not serialisable",
        lambda c: c.sinks.create(
            description="d", sink_type="webhook", sink_configuration={"x": object()}
        ),
        "not JSON-serialisable",
        "sink_configuration",
    ),
    ("empty test id", lambda c: c.sinks.validate(SINK_SID, test_id=""), "test_id", "test_id"),
    (
        "unknown status",
        lambda c: c.sinks.list(status="broken").collect(),
        "status must be one of",
        "status",
    ),
    ("in_use not bool", lambda c: c.sinks.list(in_use="yes").collect(), "in_use", "in_use"),
    (
        "no types",
        lambda c: c.subscriptions.create(description="d", sink_sid=SINK_SID, types=[]),
        "at least one",
        "types",
    ),
    (
        "types as one string",
        lambda c: c.subscriptions.create(description="d", sink_sid=SINK_SID, types="com.x"),
        "list of event types",
        "types",
    ),
    (
        "types item without type",
        lambda c: c.subscriptions.create(
            description="d", sink_sid=SINK_SID, types=[{"schema_version": 2}]
        ),
        "type",
        "types",
    ),
    (
        "types item of a wrong kind",
        lambda c: c.subscriptions.create(description="d", sink_sid=SINK_SID, types=[42]),
        "SubscribedType, a mapping or a type name",
        "types",
    ),
    (
        "schema version zero",
        lambda c: c.subscriptions.create(
            description="d", sink_sid=SINK_SID, types=[SubscribedType("com.x", 0)]
        ),
        "schema_version",
        "types",
    ),
    (
        "subscription update with nothing",
        lambda c: c.subscriptions.update(SUBSCRIPTION_SID),
        "needs description or sink_sid",
        None,
    ),
    (
        "subscription update bad sink",
        lambda c: c.subscriptions.update(SUBSCRIPTION_SID, sink_sid="nope"),
        "sink_sid",
        "sink_sid",
    ),
    (
        "list by bad sink",
        lambda c: c.subscriptions.list(sink_sid="DG1").collect(),
        "sink_sid",
        "sink_sid",
    ),
    ("empty event type", lambda c: c.event_types.fetch(""), "type", "type"),
    ("empty schema id", lambda c: c.schemas.fetch(""), "id", "id"),
    (
        "schema version str",
        lambda c: c.schemas.versions("S").fetch("1"),
        "schema_version",
        "schema_version",
    ),
    (
        "schema id filter",
        lambda c: c.event_types.list(schema_id="").collect(),
        "schema_id",
        "schema_id",
    ),
    (
        "subscribed events sid",
        lambda c: c.subscriptions.subscribed_events("DF1").list().collect(),
        "subscription_sid",
        "subscription_sid",
    ),
    (
        "subscribed event version",
        lambda c: c.subscriptions.subscribed_events(SUBSCRIPTION_SID).create(
            type="com.x", schema_version=-1
        ),
        "schema_version",
        "schema_version",
    ),
    (
        "NaN in a sink configuration",
        lambda c: c.sinks.create(
            description="d", sink_type="segment", sink_configuration={"write_key": float("nan")}
        ),
        "NaN or an infinity",
        "sink_configuration",
    ),
    (
        "infinity deep in a sink configuration",
        lambda c: c.sinks.create(
            description="d",
            sink_type="webhook",
            sink_configuration={"destination": "https://x", "extra": [{"n": float("inf")}]},
        ),
        "NaN or an infinity",
        "sink_configuration",
    ),
    (
        "NaN in a types mapping",
        lambda c: c.subscriptions.create(
            description="d", sink_sid=SINK_SID, types=[{"type": "t", "x": float("nan")}]
        ),
        "NaN or an infinity",
        "types",
    ),
    (
        "lone surrogate in a schema id filter",
        lambda c: c.event_types.list(schema_id="Messaging\ud800").collect(),
        "schema_id is not valid Unicode",
        "schema_id",
    ),
    (
        "lone surrogate in a description",
        lambda c: c.sinks.update(SINK_SID, description="\udfff"),
        "description is not valid Unicode",
        "description",
    ),
    (
        "lone surrogate in a sink configuration",
        lambda c: c.sinks.create(
            description="d", sink_type="segment", sink_configuration={"write_key": "\ud800"}
        ),
        "sink_configuration is not JSON-serialisable",
        "sink_configuration",
    ),
]


@pytest.mark.parametrize(
    ("name", "call", "message", "param"), BAD_CALLS, ids=[b[0] for b in BAD_CALLS]
)
async def test_bad_input_is_refused_before_sending(
    name: str, call: Callable[[EventsClient], Awaitable[Any]], message: str, param: str | None
) -> None:
    hits: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    async with serve(app) as origin, loopback_client(origin) as client:
        with pytest.raises(InvalidRequestError, match=message) as caught:
            await call(client)
    assert isinstance(caught.value, ValueError)
    assert hits == []
    assert caught.value.param == param  # the argument at fault, as the call spells it
    assert str(caught.value).endswith(caught.value.detail)


def test_typed_configurations_match_their_sink_type() -> None:
    kinesis = KinesisSinkConfiguration(arn="a", role_arn="r", external_id="e")
    assert kinesis.arn == "a"


HOSTILE_TYPES = [
    "../../Sinks",
    "..",
    ".",
    "a/b",
    "a?PageSize=1",
    "a#frag",
    "with space",
    "com.twilio.ünïcødé.事件",
    "%2F",
    "a\\b",
]


@pytest.mark.parametrize("hostile", HOSTILE_TYPES)
async def test_path_parameters_stay_one_segment(hostile: str) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.raw_path, dict(request.query)))
        hostile_type = unquote(request.raw_path.rsplit("/", 1)[1])
        return web.json_response(
            {"type": hostile_type, "schema_version": 1, "subscription_sid": SUBSCRIPTION_SID}
        )

    app = web.Application()
    app.router.add_get("/v1/Subscriptions/{sid}/SubscribedEvents/{type}", record)
    async with serve(app) as origin, loopback_client(origin) as client:
        events = client.subscriptions.subscribed_events(SUBSCRIPTION_SID)
        result = await events.fetch(hostile)

    (raw_path, query) = seen[0]
    assert raw_path.startswith(f"/v1/Subscriptions/{SUBSCRIPTION_SID}/SubscribedEvents/")
    assert raw_path.count("/") == 5
    assert query == {}
    assert unquote(raw_path.rsplit("/", 1)[1]) == hostile
    assert result.type == hostile


def test_the_accounts_client_refuses_a_status_by_name() -> None:
    client = AccountsClient(ACCOUNT_SID, AUTH_TOKEN, base_url="http://127.0.0.1:1")
    with pytest.raises(InvalidRequestError) as caught:
        client.list(status="dormant")
    assert caught.value.param == "status"
    assert str(caught.value).startswith("status must be one of active, suspended, closed")
