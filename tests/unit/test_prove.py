"""prove_sink end to end on both sink lifecycles, and the fake's delivery rules."""

from __future__ import annotations

import pytest
from aiohttp import web

from events_async.models import SinkStatus
from events_async.testing import FakeEventsServer
from events_async.testing.delivery import Deliverer, is_loopback
from events_async.webhooks import PROBE_PARAMETER, EventReceiver, prove_sink
from events_async.webhooks.prove import SinkProofError

from ..support import serve


@pytest.mark.parametrize("start_active", [True, False], ids=["active at once", "initialized"])
async def test_a_new_sink_is_proven_end_to_end(start_active: bool) -> None:
    async with FakeEventsServer(webhooks_start_active=start_active) as fake:
        receiver = EventReceiver(auth_tokens=fake.account.auth_token)
        async with serve(receiver.app("/events")) as origin, fake.client() as client:
            sink = await prove_sink(client, receiver, origin + "/events", timeout=5)
    assert sink.status == SinkStatus.ACTIVE
    destination = (sink.sink_configuration or {})["destination"]
    assert destination.startswith(origin + "/events?" + PROBE_PARAMETER + "=")
    assert len(receiver.test_events(destination.rpartition("=")[2])) == 1
    assert fake.request_count("POST /v1/Sinks/{Sid}/Validate") == 1


async def test_an_existing_sink_is_proven_with_a_new_test_event() -> None:
    async with FakeEventsServer() as fake:
        receiver = EventReceiver(auth_tokens=fake.account.auth_token)
        async with serve(receiver.app("/events")) as origin, fake.client() as client:
            first = await prove_sink(client, receiver, origin + "/events", timeout=5)
            again = await prove_sink(client, receiver, sink_sid=first.sid, timeout=5)
            plain = await client.sinks.create(
                description="no probe",
                sink_type="webhook",
                sink_configuration={"destination": origin + "/events"},
            )
            proven = await prove_sink(client, receiver, sink_sid=plain.sid, timeout=5)
    assert again.sid == first.sid
    assert proven.status == SinkStatus.ACTIVE
    assert fake.request_count("POST /v1/Sinks/{Sid}/Test") == 3


async def test_a_receiver_that_cannot_verify_says_the_test_event_never_came() -> None:
    async with FakeEventsServer() as fake:
        receiver = EventReceiver(auth_tokens="a token that is not the account's")
        async with serve(receiver.app("/events")) as origin, fake.client() as client:
            with pytest.raises(SinkProofError, match="no signed test event") as raised:
                await prove_sink(client, receiver, origin + "/events", timeout=0.5)
    assert raised.value.step == "test event"
    assert receiver.counts == {403: 1}
    assert fake.request_count("POST /v1/Sinks/{Sid}/Validate") == 0


async def test_a_sink_that_is_not_a_webhook_cannot_be_proven() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        stream = await client.sinks.create(
            description="k",
            sink_type="kinesis",
            sink_configuration={"arn": "a", "role_arn": "r", "external_id": "e"},
        )
        receiver = EventReceiver(auth_tokens=fake.account.auth_token)
        with pytest.raises(SinkProofError, match="not a webhook sink"):
            await prove_sink(client, receiver, sink_sid=stream.sid)
        with pytest.raises(ValueError, match="destination"):
            await prove_sink(client, receiver)


# the fake's delivery rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/x", True),
        ("http://localhost/x", True),
        ("http://[::1]:9/x", True),
        ("https://hooks.example.com/x", False),
        ("http://10.0.0.1/x", False),
        ("http://[::1/x", False),
    ],
)
def test_the_fake_delivers_to_loopback_only(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


async def test_a_remote_destination_is_refused_and_a_redirect_never_followed() -> None:
    reached: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        reached.append(request.path)
        raise web.HTTPFound("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        reached.append(request.path)
        return web.Response()

    app = web.Application()
    app.router.add_post("/events", redirect)
    app.router.add_post("/elsewhere", elsewhere)
    async with serve(app) as origin:
        deliverer = Deliverer(retry_window=0.2, first_backoff=0.05)
        (remote,) = deliverer.send("DG1", "https://hooks.example.com/x", "token", [[{"id": "1"}]])
        (bounced,) = deliverer.send("DG1", origin + "/events", "token", [[{"id": "2"}]])
        await deliverer.close()
    assert remote.outcome == "refused"
    assert bounced.outcome == "gave up"  # a 302 is not a success; retried, never followed
    assert set(reached) == {"/events"}
    assert all(a.status == 302 for a in bounced.attempts)


async def test_connection_failures_are_retried_until_the_window_closes() -> None:
    deliverer = Deliverer(retry_window=0.3, first_backoff=0.05)
    (delivery,) = deliverer.send("DG1", "http://127.0.0.1:1/events", "token", [[{"id": "1"}]])
    await deliverer.close()
    assert delivery.outcome == "gave up"
    assert len(delivery.attempts) >= 3
    assert all(a.status is None and a.error for a in delivery.attempts)


def test_emit_refuses_a_type_outside_the_catalog() -> None:
    fake = FakeEventsServer()
    with pytest.raises(ValueError, match="catalog"):
        fake.emit("com.example.nope")


@pytest.mark.parametrize("slash", ["", "/"])
async def test_a_receiver_mounted_with_add_subapp_is_proven_with_or_without_a_slash(
    slash: str,
) -> None:
    async with FakeEventsServer() as fake:
        receiver = EventReceiver(auth_tokens=fake.account.auth_token)
        app = web.Application()
        app.add_subapp("/events", receiver.app())
        async with serve(app) as origin, fake.client() as client:
            sink = await prove_sink(client, receiver, f"{origin}/events{slash}", timeout=5)
    assert sink.status == SinkStatus.ACTIVE


@pytest.mark.parametrize(
    ("path", "token", "said"),
    [
        ("/elsewhere", None, "1 request(s) to another path (/elsewhere)"),
        ("/events", "a token that is not the account's", "refused (the X-Twilio-Signature"),
    ],
)
async def test_when_no_test_event_comes_the_error_says_what_did(
    path: str, token: str | None, said: str
) -> None:
    async with FakeEventsServer() as fake:
        receiver = EventReceiver(auth_tokens=token or fake.account.auth_token)
        async with serve(receiver.app("/events")) as origin, fake.client() as client:
            with pytest.raises(SinkProofError, match="no signed test event") as raised:
                await prove_sink(client, receiver, origin + path, timeout=1)
    assert said in str(raised.value)


async def test_when_nothing_reaches_the_receiver_the_error_says_so() -> None:
    async with FakeEventsServer() as fake:
        receiver = EventReceiver(auth_tokens=fake.account.auth_token)
        async with serve(web.Application()) as other, fake.client() as client:
            with pytest.raises(SinkProofError) as raised:
                await prove_sink(client, receiver, other + "/events", timeout=0.5)
    assert "nothing reached the receiver" in str(raised.value)
