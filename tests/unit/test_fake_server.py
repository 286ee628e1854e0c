"""The fake Events API behaves as Twilio's: auth, errors, checks, pages, lifecycle, faults."""

from __future__ import annotations

import asyncio
import base64
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from events_async import (
    AuthenticationError,
    BadRequestError,
    EventsClient,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    SinkStatus,
    TransportError,
    WebhookSinkConfiguration,
)
from events_async.testing import FakeEventsServer, Fault

from ..support import basic_auth, serve

KINESIS = {"arn": "arn:aws:kinesis:us-east-1:1:stream/s", "role_arn": "r", "external_id": "e"}
DELIVERED = "com.twilio.messaging.message.delivered"


@pytest.fixture
async def fake() -> AsyncIterator[FakeEventsServer]:
    async with FakeEventsServer() as server:
        yield server


@pytest.fixture
async def client(fake: FakeEventsServer) -> AsyncIterator[EventsClient]:
    async with fake.client(max_retries=0) as events:
        yield events


async def raw(
    fake: FakeEventsServer,
    method: str,
    path: str,
    *,
    data: Any = None,
    params: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> tuple[int, Any]:
    """A request that skips the client's own checks; its status and JSON body."""
    login, password = auth or (fake.account.sid, fake.account.auth_token)
    headers = {"Authorization": basic_auth(login, password)}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"{fake.url}{path}", data=data, params=params, headers=headers
        ) as response,
    ):
        body = await response.json() if response.status != 204 else None
        return response.status, body


async def active_sink(fake: FakeEventsServer, client: EventsClient) -> str:
    """A kinesis sink taken through test and validate."""
    sink = await client.sinks.create(
        description="stream", sink_type="kinesis", sink_configuration=KINESIS
    )
    assert sink.sid is not None
    await client.sinks.test(sink.sid)
    test_id = fake.test_id(sink.sid)
    assert test_id is not None
    await client.sinks.validate(sink.sid, test_id=test_id)
    return sink.sid


# --- start-up, accounts, auth -----------------------------------------------------------


async def test_a_fresh_fake_has_the_catalog_but_no_sinks_or_subscriptions(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", fake.url)
    types = await client.event_types.list().collect()
    assert len(types) >= 20
    assert {t.schema_id for t in types} >= {"Messaging.MessageStatus", "Voice.StatusCallback"}
    assert await client.sinks.list().collect() == []
    assert await client.subscriptions.list().collect() == []


async def test_missing_or_wrong_credentials_get_401_with_code_20003(
    fake: FakeEventsServer,
) -> None:
    status, body = await raw(fake, "GET", "/v1/Sinks", auth=(fake.account.sid, "wrong"))
    assert (status, body["code"], body["status"]) == (401, 20003, 401)
    async with aiohttp.ClientSession() as session, session.get(f"{fake.url}/v1/Types") as response:
        assert response.status == 401
        assert (await response.json())["code"] == 20003

    async with EventsClient(fake.account.sid, "not-the-token", base_url=fake.url) as stranger:
        with pytest.raises(AuthenticationError) as caught:
            await stranger.event_types.fetch(DELIVERED)
    assert caught.value.code == 20003


@pytest.mark.parametrize(
    "header",
    ["Bearer abc", "Basic !!!not-base64!!!", "Basic " + base64.b64encode(b"no-colon").decode()],
)
async def test_malformed_authorization_headers_get_401(fake: FakeEventsServer, header: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.url}/v1/Types", headers={"Authorization": header}) as response,
    ):
        assert response.status == 401
        assert (await response.json())["code"] == 20003


async def test_api_keys_authenticate_as_their_account(fake: FakeEventsServer) -> None:
    key, secret = fake.add_api_key()
    async with EventsClient(api_key=key, api_secret=secret, base_url=fake.url) as client:
        sink = await client.sinks.create(
            description="by key", sink_type="kinesis", sink_configuration=KINESIS
        )
    assert sink.sid in fake.account.sinks


async def test_resources_belong_to_one_account(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    sid = await active_sink(fake, client)
    other = fake.add_account()
    async with fake.client(other) as other_client:
        assert await other_client.sinks.list().collect() == []
        with pytest.raises(NotFoundError):
            await other_client.sinks.fetch(sid)


async def test_sids_dates_urls_and_links_look_like_twilio(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    sid = await active_sink(fake, client)
    subscription = await client.subscriptions.create(
        description="s", sink_sid=sid, types=[DELIVERED]
    )
    sink = await client.sinks.fetch(sid)

    assert re.fullmatch(r"DG[0-9a-f]{32}", sid)
    assert subscription.sid is not None
    assert re.fullmatch(r"DF[0-9a-f]{32}", subscription.sid)
    assert subscription.account_sid == fake.account.sid
    assert sink.url == f"{fake.url}/v1/Sinks/{sid}"
    assert sink.links == {"sink_test": f"{sink.url}/Test", "sink_validate": f"{sink.url}/Validate"}
    assert subscription.links == {
        "subscribed_events": f"{fake.url}/v1/Subscriptions/{subscription.sid}/SubscribedEvents"
    }
    assert sink.date_created is not None
    assert sink.date_created.tzinfo is not None


# --- errors and checks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data", "params", "status", "code"),
    [
        ("POST", "/v1/Sinks", {"SinkType": "kinesis", "SinkConfiguration": "{}"}, None, 400, 20001),
        (
            "POST",
            "/v1/Sinks",
            {"Description": "d", "SinkType": "ftp", "SinkConfiguration": "{}"},
            None,
            400,
            20001,
        ),
        (
            "POST",
            "/v1/Sinks",
            {"Description": "d", "SinkType": "kinesis", "SinkConfiguration": "[1]"},
            None,
            400,
            20001,
        ),
        (
            "POST",
            "/v1/Sinks",
            {"Description": "d", "SinkType": "webhook", "SinkConfiguration": "{}"},
            None,
            400,
            20001,
        ),
        (
            "POST",
            "/v1/Sinks",
            {"Description": "d", "SinkType": "kinesis", "SinkConfiguration": "{"},
            None,
            400,
            20001,
        ),
        ("GET", "/v1/Sinks/DG123", None, None, 400, 20001),
        (
            "POST",
            "/v1/Subscriptions",
            {"Description": "d", "SinkSid": "DG" + "0" * 32, "Types": "not json"},
            None,
            400,
            20001,
        ),
        (
            "POST",
            "/v1/Subscriptions",
            {"Description": "d", "SinkSid": "DG" + "0" * 32, "Types": "[1]"},
            None,
            400,
            20001,
        ),
        (
            "POST",
            "/v1/Subscriptions",
            {
                "Description": "d",
                "SinkSid": "DG" + "0" * 32,
                "Types": '{"type": "x", "schema_version": "2"}',
            },
            None,
            400,
            20001,
        ),
        (
            "POST",
            "/v1/Subscriptions",
            {
                "Description": "d",
                "SinkSid": "DG" + "0" * 32,
                "Types": '{"type": "com.twilio.messaging.message.sent"}',
            },
            None,
            400,
            20001,
        ),
        (
            "POST",
            "/v1/Subscriptions/DF" + "0" * 32 + "/SubscribedEvents",
            {"Type": "t", "SchemaVersion": "two"},
            None,
            400,
            20001,
        ),
        (
            "POST",
            "/v1/Subscriptions/DF" + "0" * 32 + "/SubscribedEvents",
            {"Type": "t"},
            None,
            404,
            20404,
        ),
        ("GET", "/v1/Subscriptions/DF" + "0" * 32, None, None, 404, 20404),
        ("GET", "/v1/Sinks/DG" + "0" * 32, None, None, 404, 20404),
        ("GET", "/v1/Sinks", None, {"PageSize": "0"}, 400, 20001),
        ("GET", "/v1/Sinks", None, {"PageSize": "1001"}, 400, 20001),
        ("GET", "/v1/Sinks", None, {"PageSize": "ten"}, 400, 20001),
        ("GET", "/v1/Sinks", None, {"Status": "paused"}, 400, 20001),
        ("GET", "/v1/Sinks", None, {"InUse": "maybe"}, 400, 20001),
        ("GET", "/v1/Subscriptions", None, {"SinkSid": "nope"}, 400, 20001),
        ("GET", "/v1/Types/com.example.unknown", None, None, 404, 20404),
        ("GET", "/v1/Schemas/Unknown.Schema", None, None, 404, 20404),
        ("GET", "/v1/Schemas/Messaging.MessageStatus/Versions/99", None, None, 404, 20404),
        ("GET", "/v1/Nowhere", None, None, 404, 20404),
        (
            "POST",
            "/v1/Subscriptions",
            {"Description": "d", "SinkSid": "DG" + "0" * 32},
            None,
            400,
            20001,
        ),
        ("DELETE", "/v1/Types", None, None, 405, 20004),
    ],
)
async def test_spec_checks_answer_with_twilio_errors(
    fake: FakeEventsServer,
    method: str,
    path: str,
    data: dict[str, str] | None,
    params: dict[str, str] | None,
    status: int,
    code: int,
) -> None:
    got_status, body = await raw(fake, method, path, data=data, params=params)
    assert got_status == status
    assert body["code"] == code
    assert body["status"] == status
    assert body["message"]
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


async def test_a_subscription_needs_an_active_sink(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    sink = await client.sinks.create(
        description="new", sink_type="kinesis", sink_configuration=KINESIS
    )
    assert sink.sid is not None
    with pytest.raises(BadRequestError, match="active sink"):
        await client.subscriptions.create(description="s", sink_sid=sink.sid, types=[DELIVERED])


async def test_unknown_event_types_and_versions_are_refused(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    sid = await active_sink(fake, client)
    with pytest.raises(BadRequestError, match="does not exist"):
        await client.subscriptions.create(description="s", sink_sid=sid, types=["com.nope"])
    with pytest.raises(BadRequestError, match="schema versions 1 to 5"):
        await client.subscriptions.create(
            description="s", sink_sid=sid, types=[{"type": DELIVERED, "schema_version": 9}]
        )


async def test_a_sink_in_use_cannot_be_deleted(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    sid = await active_sink(fake, client)
    subscription = await client.subscriptions.create(
        description="s", sink_sid=sid, types=[DELIVERED]
    )
    with pytest.raises(BadRequestError, match="used by a subscription"):
        await client.sinks.delete(sid)
    assert subscription.sid is not None
    await client.subscriptions.delete(subscription.sid)
    await client.sinks.delete(sid)
    assert await client.sinks.list().collect() == []


async def test_limits_are_per_account_and_configurable() -> None:
    async with FakeEventsServer(max_sinks=2) as fake, fake.client() as client:
        for n in range(2):
            await client.sinks.create(
                description=f"s{n}", sink_type="kinesis", sink_configuration=KINESIS
            )
        with pytest.raises(BadRequestError, match="at most 2 sinks"):
            await client.sinks.create(
                description="one too many", sink_type="kinesis", sink_configuration=KINESIS
            )


# --- pagination ------------------------------------------------------------------------


async def _make_sinks(client: EventsClient, count: int) -> None:
    await asyncio.gather(
        *(
            client.sinks.create(
                description=f"sink {n:03d}", sink_type="kinesis", sink_configuration=KINESIS
            )
            for n in range(count)
        )
    )


async def test_pages_follow_tokens_forward_and_back(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    await _make_sinks(client, 25)
    pages = [page async for page in client.sinks.list(page_size=10).pages()]

    assert [len(p.items) for p in pages] == [10, 10, 5]
    assert [p.meta.page for p in pages] == [0, 1, 2]
    assert pages[0].meta.previous_page_url is None
    assert pages[-1].meta.next_page_url is None
    assert all(p.meta.key == "sinks" and p.meta.page_size == 10 for p in pages)
    assert pages[0].meta.first_page_url == f"{fake.url}/v1/Sinks?PageSize=10&Page=0"
    next_url = pages[0].meta.next_page_url
    assert next_url is not None
    assert next_url.startswith(f"{fake.url}/v1/Sinks?PageSize=10&Page=1&PageToken=PT")

    previous = pages[2].meta.previous_page_url
    assert previous is not None
    status, body = await raw(fake, "GET", previous.removeprefix(fake.url))
    assert status == 200
    assert [s["sid"] for s in body["sinks"]] == [s.sid for s in pages[1].items]


async def test_page_without_token_is_an_offset(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    await _make_sinks(client, 7)
    status, body = await raw(fake, "GET", "/v1/Sinks", params={"PageSize": "3", "Page": "2"})
    assert status == 200
    assert len(body["sinks"]) == 1
    assert body["meta"]["page"] == 2


@pytest.mark.parametrize(
    "token",
    ["garbage", "PTeyJ4IjoxfQ.0000", "PT" + "A" * 40 + ".abc"],
)
async def test_forged_page_tokens_are_refused(
    fake: FakeEventsServer, client: EventsClient, token: str
) -> None:
    status, body = await raw(fake, "GET", "/v1/Sinks", params={"PageToken": token})
    assert (status, body["code"]) == (400, 20001)


async def test_a_token_from_another_list_or_page_size_is_stale(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    await _make_sinks(client, 5)
    first = await anext(aiter(client.sinks.list(page_size=2).pages()))
    assert first.meta.next_page_url is not None
    token = first.meta.next_page_url.split("PageToken=")[1]

    for params in (
        {"PageSize": "3", "PageToken": token},
        {"PageSize": "2", "Status": "active", "PageToken": token},
        {"PageSize": "2", "Page": "7", "PageToken": token},
    ):
        status, _ = await raw(fake, "GET", "/v1/Sinks", params=params)
        assert status == 400, params
    status, _ = await raw(
        fake, "GET", "/v1/Subscriptions", params={"PageSize": "2", "PageToken": token}
    )
    assert status == 400


async def test_list_filters(fake: FakeEventsServer, client: EventsClient) -> None:
    used = await active_sink(fake, client)
    await client.sinks.create(description="idle", sink_type="kinesis", sink_configuration=KINESIS)
    await client.subscriptions.create(description="s", sink_sid=used, types=[DELIVERED])

    assert [s.sid for s in await client.sinks.list(in_use=True).collect()] == [used]
    assert [s.description for s in await client.sinks.list(in_use=False).collect()] == ["idle"]
    assert [s.sid for s in await client.sinks.list(status="active").collect()] == [used]
    assert len(await client.subscriptions.list(sink_sid=used).collect()) == 1
    types = await client.event_types.list(schema_id="Voice.StatusCallback").collect()
    assert types
    assert {t.schema_id for t in types} == {"Voice.StatusCallback"}


# --- the sink lifecycle ----------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, asyncio.Queue[Any]]]:
    """A local webhook endpoint; what it receives goes into the queue."""
    received: asyncio.Queue[Any] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        await received.put((request.headers["Content-Type"], await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/events", receive)
    async with serve(app) as origin:
        yield f"{origin}/events", received


@pytest.fixture
async def older_client() -> AsyncIterator[EventsClient]:
    """A client of a fake with the older lifecycle: webhook sinks start `initialized`."""
    older = FakeEventsServer(webhooks_start_active=False)
    async with older, older.client(max_retries=0) as events:
        yield events


async def test_webhook_sink_test_event_then_validate(
    older_client: EventsClient, receiver: tuple[str, asyncio.Queue[Any]]
) -> None:
    client = older_client
    destination, received = receiver
    sink = await client.sinks.create(
        description="hook",
        sink_type="webhook",
        sink_configuration=WebhookSinkConfiguration(destination),
    )
    assert sink.sid is not None
    assert sink.status is SinkStatus.INITIALIZED

    assert (await client.sinks.test(sink.sid)).result == "submitted"
    assert (await client.sinks.fetch(sink.sid)).status is SinkStatus.VALIDATING

    content_type, batch = await received.get()
    assert content_type == "application/json"  # a JSON array, as Twilio sends
    (event,) = batch
    assert event["type"] == "com.twilio.eventstreams.test-event"
    assert event["specversion"] == "1.0"
    test_id = event["data"]["test_id"]

    with pytest.raises(BadRequestError, match="TestId"):
        await client.sinks.validate(sink.sid, test_id="wrong")
    assert (await client.sinks.fetch(sink.sid)).status is SinkStatus.VALIDATING

    assert (await client.sinks.validate(sink.sid, test_id=test_id)).result == "valid"
    assert (await client.sinks.fetch(sink.sid)).status is SinkStatus.ACTIVE


async def test_unbatched_webhook_gets_one_event(
    fake: FakeEventsServer, client: EventsClient, receiver: tuple[str, asyncio.Queue[Any]]
) -> None:
    destination, received = receiver
    sink = await client.sinks.create(
        description="hook",
        sink_type="webhook",
        sink_configuration={"destination": destination, "method": "POST", "batch_events": False},
    )
    assert sink.sid is not None
    await client.sinks.test(sink.sid)
    content_type, events = await received.get()
    assert content_type == "application/json"
    (event,) = events  # unbatched: still an array, of one
    assert event["data"]["test_id"] == fake.test_id(sink.sid)


async def test_validating_an_untested_sink_is_refused(client: EventsClient) -> None:
    sink = await client.sinks.create(
        description="k", sink_type="kinesis", sink_configuration=KINESIS
    )
    assert sink.sid is not None
    with pytest.raises(BadRequestError, match="not been tested"):
        await client.sinks.validate(sink.sid, test_id="anything")


async def test_non_loopback_destinations_are_never_contacted() -> None:
    async with FakeEventsServer(webhooks_start_active=False) as fake, fake.client() as client:
        await _test_a_remote_sink(fake, client)


async def _test_a_remote_sink(fake: FakeEventsServer, client: EventsClient) -> None:
    sink = await client.sinks.create(
        description="remote",
        sink_type="webhook",
        sink_configuration=WebhookSinkConfiguration("https://example.com/events"),
    )
    assert sink.sid is not None
    await client.sinks.test(sink.sid)
    await fake.deliveries_settled()
    assert [d.outcome for d in fake.deliverer.log] == ["refused"]
    assert fake.deliverer.log[0].attempts == []
    assert (await client.sinks.fetch(sink.sid)).status is SinkStatus.VALIDATING


async def test_webhooks_start_active_as_on_twilio_today() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        sink = await client.sinks.create(
            description="hook",
            sink_type="webhook",
            sink_configuration=WebhookSinkConfiguration("https://example.com/events"),
        )
    assert sink.status is SinkStatus.ACTIVE


# --- faults ----------------------------------------------------------------------------


async def test_fail_next_answers_with_the_status_then_recovers(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    fault = fake.fail_next("GET /v1/Types/{Type}", status=429, times=2, retry_after=0.05)

    for _ in range(2):
        with pytest.raises(RateLimitError) as caught:
            await client.event_types.fetch(DELIVERED)
        assert caught.value.retry_after == 0.05
        assert caught.value.code == 20429
    assert (await client.event_types.fetch(DELIVERED)).type == DELIVERED
    assert fault.fired == 2
    assert fake.request_count("GET /v1/Types/{Type}") == 3


async def test_faults_aim_at_routes_and_methods(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    fake.fail_next("POST *", status=500)
    assert await client.sinks.list().collect() == []
    with pytest.raises(ServerError):
        await client.sinks.create(description="d", sink_type="kinesis", sink_configuration=KINESIS)
    assert fake.account.sinks == {}


async def test_a_dropped_connection_and_a_malformed_body(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    fake.inject(Fault("POST /v1/Sinks", drop=True))
    with pytest.raises(TransportError):
        await client.sinks.create(description="d", sink_type="kinesis", sink_configuration=KINESIS)
    assert fake.account.sinks == {}
    fake.inject(Fault("GET /v1/Types/{Type}", malformed=True))
    with pytest.raises(ResponseDecodeError):
        await client.event_types.fetch(DELIVERED)


async def test_an_after_fault_acts_and_then_fails(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    fake.inject(Fault("POST /v1/Sinks", status=503, after=True))
    with pytest.raises(ServerError):
        await client.sinks.create(description="d", sink_type="kinesis", sink_configuration=KINESIS)
    assert len(fake.account.sinks) == 1


async def test_latency_adds_up_and_a_probability_of_zero_never_fires(
    fake: FakeEventsServer, client: EventsClient
) -> None:
    slow = fake.inject(Fault(delay=0.05, times=None))
    never = fake.inject(Fault(status=500, probability=0.0, times=None))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.event_types.fetch(DELIVERED)
    assert loop.time() - started >= 0.05
    assert (slow.fired, never.fired) == (1, 0)
    fake.faults.clear()
    assert fake.faults.faults == []


def test_a_fault_must_do_something() -> None:
    with pytest.raises(ValueError, match="needs a status"):
        FakeEventsServer().inject(Fault("GET *"))


# --- fixture and standalone ------------------------------------------------------------


async def test_the_pytest_fixture_serves_a_fresh_fake(fake_events: FakeEventsServer) -> None:
    async with fake_events.client() as client:
        assert await client.sinks.list().collect() == []


def test_a_fake_that_is_not_started_has_no_client() -> None:
    with pytest.raises(RuntimeError, match="start the FakeEventsServer"):
        FakeEventsServer().client()


def test_the_fake_runs_standalone() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "events_async.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        sid_line = process.stdout.readline()
        token_line = process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert re.match(r"# Fake Events API at http://127\.0\.0\.1:\d+", first)
    assert sid_line.startswith("export TWILIO_ACCOUNT_SID=AC")
    assert token_line.startswith("export TWILIO_AUTH_TOKEN=")


async def test_test_id_says_clearly_when_no_test_was_sent(fake: FakeEventsServer) -> None:
    async with fake.client() as client:
        sink = await client.sinks.create(
            description="untested", sink_type="segment", sink_configuration={"write_key": "k"}
        )
        with pytest.raises(LookupError, match=r"no test event was sent to DG\w+; call client"):
            fake.test_id(sink.sid)
        with pytest.raises(LookupError, match="no sink"):
            fake.test_id("DG" + "f" * 32)
        await client.sinks.test(sink.sid)
        assert len(fake.test_id(sink.sid)) == 36


def test_the_pytest_plugin_imports_nothing_heavy_until_its_fixture_is_used() -> None:
    probe = (
        "import sys, events_async.testing.plugin\n"
        "heavy = [m for m in ('aiohttp', 'cattrs', 'orjson', 'events_async.client') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
