"""prove_sink end to end on both sink lifecycles. (The fake's delivery rules:
test_fake_hostile.py.)"""

from __future__ import annotations

import pytest
from aiohttp import web

from events_async.models import SinkStatus
from events_async.testing import FakeEventsServer
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
