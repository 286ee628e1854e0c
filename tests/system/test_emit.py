"""The standalone fake emits events: `POST /_fake/emit`, its client, and `events-async emit`
with `fake-server` and `listen` in processes of their own — the whole loop."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from events_async import AuthenticationError, BadRequestError, InvalidRequestError
from events_async.testing import FakeEventsServer
from events_async.testing.control import FakeControl
from events_async.webhooks import CloudEvent, EventReceiver

from ..processes import CLEAN, child, command, fake_server, run
from ..support import basic_auth, serve

DELIVERED = "com.twilio.messaging.message.delivered"


@pytest.fixture
async def subscribed() -> AsyncIterator[tuple[FakeEventsServer, list[CloudEvent]]]:
    """A fake whose account delivers DELIVERED to a receiver here; what it handled."""
    handled: list[CloudEvent] = []

    async def handle(event: CloudEvent) -> None:
        handled.append(event)

    async with FakeEventsServer() as fake:
        receiver = EventReceiver(handle, auth_tokens=[fake.account.auth_token])
        async with serve(receiver.app("/events")) as origin, fake.client() as client:
            sink = await client.sinks.create(
                description="here",
                sink_type="webhook",
                sink_configuration={"destination": origin + "/events", "batch_events": False},
            )
            await client.subscriptions.create(
                description="here", sink_sid=sink.sid, types=[DELIVERED]
            )
            yield fake, handled


def _control(fake: FakeEventsServer, **options: str) -> FakeControl:
    return FakeControl(fake.account.sid, fake.account.auth_token, base_url=fake.url, **options)


async def test_emit_delivers_to_the_subscribed_sinks_and_answers_once_they_ended(
    subscribed: tuple[FakeEventsServer, list[CloudEvent]],
) -> None:
    fake, handled = subscribed
    async with _control(fake) as control:
        result = await control.emit(DELIVERED, {"to": "+15005550006"}, count=3)
    assert [d.outcome for d in result.deliveries] == ["delivered"] * 3  # unbatched: one each
    assert [d.status for d in result.deliveries] == [200] * 3
    assert sorted(e.id for e in handled) == sorted(
        i for d in result.deliveries for i in d.event_ids
    )
    assert {e.type for e in handled} == {DELIVERED}
    assert handled[0].data == {"to": "+15005550006"}
    assert result.to_json()["deliveries"][0]["event_ids"] == list(result.deliveries[0].event_ids)


async def test_an_event_type_no_sink_subscribes_to_is_delivered_nowhere(
    subscribed: tuple[FakeEventsServer, list[CloudEvent]],
) -> None:
    fake, handled = subscribed
    async with _control(fake) as control:
        result = await control.emit("com.twilio.messaging.message.failed")
    assert result.deliveries == ()
    assert handled == []


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"Type": "com.example.nothing"}, "not in the fake's catalog"),
        ({"Type": DELIVERED, "Count": "0"}, "Count must be 1 to 1000"),
        ({"Type": DELIVERED, "Count": "1001"}, "Count must be 1 to 1000"),
        ({"Type": DELIVERED, "Count": "x"}, "Count must be an integer"),
        ({"Type": DELIVERED, "Data": "[1]"}, "Data must be a JSON object"),
        ({"Type": DELIVERED, "Data": "{"}, "Data must be valid JSON"),
        ({}, "Missing required parameter Type"),
    ],
)
async def test_the_fake_refuses_a_bad_emit_as_twilio_refuses_bad_requests(
    form: dict[str, str], says: str
) -> None:
    import aiohttp

    async with FakeEventsServer() as fake, aiohttp.ClientSession() as session:
        headers = {"Authorization": basic_auth(fake.account.sid, fake.account.auth_token)}
        async with session.post(fake.url + "/_fake/emit", data=form, headers=headers) as answer:
            body = await answer.json()
    assert (answer.status, body["code"]) == (400, 20001)
    assert says in body["message"]


async def test_emit_takes_the_accounts_own_credentials() -> None:
    async with FakeEventsServer() as fake:
        other = fake.add_account()
        async with FakeControl(fake.account.sid, other.auth_token, base_url=fake.url) as control:
            with pytest.raises(AuthenticationError):
                await control.emit(DELIVERED)


@pytest.mark.parametrize(
    ("base_url", "says"),
    [
        (None, "no fake to talk to: pass base_url or set EVENTS_ASYNC_BASE_URL"),
        ("https://events.twilio.com", "is Twilio's; emit talks to a fake"),
        ("https://events.dublin.ie1.twilio.com", "is Twilio's; emit talks to a fake"),
    ],
)
def test_the_control_client_never_talks_to_twilio(
    base_url: str | None, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVENTS_ASYNC_BASE_URL", raising=False)
    with pytest.raises(InvalidRequestError, match=says):
        FakeControl("AC" + "0" * 32, "token", base_url=base_url)


async def test_bad_request_from_the_fake_is_an_api_error() -> None:
    async with FakeEventsServer() as fake, _control(fake) as control:
        with pytest.raises(BadRequestError, match="not in the fake's catalog"):
            await control.emit("com.example.nothing")


# --- the whole loop, one process each ---------------------------------------------------


def _sid(result_stdout: str) -> str:
    return str(json.loads(result_stdout)["sid"])


def test_fake_server_listen_and_emit_show_the_whole_loop() -> None:
    with fake_server() as env, child(command("listen", "--port", "0", "--json"), env) as listen:
        said = listen.wait_for("stderr", lambda line: "listening on http://" in line)
        url = said.split("listening on ", 1)[1].split(";")[0].split()[0]
        hook = json.dumps({"destination": url, "batch_events": True})
        sink = run(command("sinks", "create", "--description", "listen", "--type", "webhook",
                           "--configuration", hook, "--json"), env)  # fmt: skip
        assert sink.returncode == 0, sink.stderr
        sink_sid = _sid(sink.stdout)
        subscribe = ["--description", "listen", "--sink-sid", sink_sid, "--type", DELIVERED]
        subscription = run(command("subscriptions", "create", *subscribe), env)
        assert subscription.returncode == 0, subscription.stderr
        data = '{"to": "+15005550006"}'
        emitted = run(
            command("emit", "--type", DELIVERED, "--count", "2", "--data", data, "--json"), env
        )
        assert emitted.returncode == 0, emitted.stderr
        (delivery,) = json.loads(emitted.stdout)["deliveries"]  # batched: one delivery
        printed = [json.loads(listen.wait_for("stdout", bool)) for _ in delivery["event_ids"]]
        people = run(command("emit", "--type", DELIVERED), env)
        listen.wait_for("stdout", bool)
        assert listen.stop() == 0
    assert delivery["outcome"] == "delivered"
    assert [e["id"] for e in printed] == delivery["event_ids"]
    assert {e["type"] for e in printed} == {DELIVERED}
    assert printed[0]["data"] == {"to": "+15005550006"}
    assert people.returncode == 0, people.stderr
    (line,) = people.stdout.splitlines()
    assert line == f"delivered (HTTP 200)  {sink_sid}  {url}  1 event"


def test_emit_says_when_no_sink_received_the_events() -> None:
    with fake_server() as env:
        result = run(command("emit", "--type", DELIVERED), env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"events-async: no active webhook sink subscribes to {DELIVERED}: nothing was "
        "delivered (see `sinks list` and `subscriptions list`)"
    )


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["--data", "[1]"], 2, "--data must be a JSON object"),
        (["--data", "{"], 2, "--data must be JSON"),
        (["--count", "0"], 2, "must be 1 or more"),
        (["--type", "com.example.nothing"], 1, "not in the fake's catalog"),
    ],
)
def test_emit_refuses_bad_input_in_one_line(args: list[str], status: int, says: str) -> None:
    with fake_server() as env:
        full = ["--type", DELIVERED, *args] if "--type" not in args else args
        result = run(command("emit", *full), env)
    assert result.returncode == status, result.stderr
    (line,) = result.stderr.splitlines()
    assert says in line


def test_emit_without_a_fake_to_talk_to_is_refused() -> None:
    signed_in = {**CLEAN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t"}
    result = run(command("emit", "--type", DELIVERED), signed_in)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert "no fake to talk to" in line
    assert "EVENTS_ASYNC_BASE_URL" in line


def test_emit_exits_1_when_a_delivery_did_not_succeed() -> None:
    with fake_server() as env:
        hook = json.dumps({"destination": "https://example.com/events"})  # not loopback
        sink = run(command("sinks", "create", "--description", "far", "--type", "webhook",
                           "--configuration", hook, "--json"), env)  # fmt: skip
        sink_sid = _sid(sink.stdout)
        subscribe = ["--description", "far", "--sink-sid", sink_sid, "--type", DELIVERED]
        assert run(command("subscriptions", "create", *subscribe), env).returncode == 0
        result = run(command("emit", "--type", DELIVERED), env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == f"refused  {sink_sid}  https://example.com/events  1 event\n"


async def test_an_answer_in_another_shape_is_a_decode_error() -> None:
    from aiohttp import web

    from events_async import ResponseDecodeError

    bodies = iter([{"deliveries": "none"}, {"type": "t", "count": 1, "deliveries": [{}]}, {}])

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(next(bodies))

    app = web.Application()
    app.router.add_post("/_fake/emit", answer)
    async with serve(app) as origin:
        control = FakeControl("AC" + "0" * 32, "token", base_url=origin)
        async with control:
            for _ in range(3):
                with pytest.raises(ResponseDecodeError, match="/_fake/emit answered"):
                    await control.emit(DELIVERED)
