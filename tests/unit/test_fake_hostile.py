"""Rule: the fake answers every malformed request with Twilio's error JSON and a 4xx,
checks sink configurations at create, delivers to loopback only, never follows a
webhook's redirect, and retries a delivery within its window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from events_async import BadRequestError
from events_async.testing import FakeEventsServer
from events_async.testing.delivery import Deliverer, is_loopback

from ..support import basic_auth, serve

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
async def fake() -> AsyncIterator[FakeEventsServer]:
    async with FakeEventsServer() as server:
        yield server


@pytest.fixture
async def http(fake: FakeEventsServer) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": basic_auth(fake.account.sid, fake.account.auth_token)}
    async with aiohttp.ClientSession(base_url=fake.url, headers=headers) as session:
        yield session


async def _twilio_error(response: aiohttp.ClientResponse) -> dict[str, Any]:
    assert 400 <= response.status < 500, (response.status, await response.text())
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    assert body["status"] == response.status
    assert isinstance(body["code"], int)
    assert body["message"]
    return body


async def test_a_right_sid_with_a_non_ascii_password_is_a_401(fake: FakeEventsServer) -> None:
    headers = {"Authorization": basic_auth(fake.account.sid, "pässwörd")}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.url}/v1/Sinks", headers=headers) as response,
    ):
        assert response.status == 401
        await _twilio_error(response)


@pytest.mark.parametrize(
    "form",
    [
        {"Description": "d", "SinkType": "kinesis", "SinkConfiguration": DEEP},
        {"Description": "d", "SinkSid": "DG" + "0" * 32, "Types": DEEP},
    ],
    ids=["SinkConfiguration", "Types"],
)
async def test_deeply_nested_json_is_a_400(
    http: aiohttp.ClientSession, form: dict[str, str]
) -> None:
    path = "/v1/Sinks" if "SinkType" in form else "/v1/Subscriptions"
    async with http.post(path, data=form) as response:
        assert response.status == 400
        await _twilio_error(response)


@pytest.mark.parametrize("version", ["\u00b2", "9" * 5000, "-1", "1.0", "0x1"])
async def test_a_strange_schema_version_in_the_path_is_a_404(
    http: aiohttp.ClientSession, version: str
) -> None:
    async with http.get(f"/v1/Schemas/Messaging.MessageStatus/Versions/{version}") as response:
        assert response.status == 404
        await _twilio_error(response)


@pytest.mark.parametrize("version", ["\u00b2", "9" * 5000, " 1", "1_0"])
async def test_a_strange_schema_version_in_a_form_is_a_400(
    fake: FakeEventsServer, http: aiohttp.ClientSession, version: str
) -> None:
    sid = "DF" + "0" * 32
    path = f"/v1/Subscriptions/{sid}/SubscribedEvents"
    form = {"Type": "com.twilio.messaging.message.delivered", "SchemaVersion": version}
    async with http.post(path, data=form) as response:
        assert response.status == 400
        await _twilio_error(response)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--"),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
        ("application/x-www-form-urlencoded", b"Description=\xff\xfe"),
        ("application/x-www-form-urlencoded", b"Description=%FF"),
    ],
    ids=["no-boundary", "broken-multipart", "not-utf8", "not-utf8-escaped"],
)
async def test_an_unreadable_body_is_a_400(
    http: aiohttp.ClientSession, content_type: str, body: bytes
) -> None:
    async with http.post(
        "/v1/Sinks", data=body, headers={"Content-Type": content_type}
    ) as response:
        assert response.status == 400
        await _twilio_error(response)


async def test_a_405_names_the_allowed_methods(http: aiohttp.ClientSession) -> None:
    async with http.put("/v1/Sinks") as response:
        assert response.status == 405
        await _twilio_error(response)
        assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


WEBHOOK = "http://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    ("sink_type", "configuration", "complaint"),
    [
        ("webhook", {"destination": "ftp://127.0.0.1/x"}, "http"),
        ("webhook", {"destination": "http://[::1"}, "http"),
        ("webhook", {"destination": 5}, "destination"),
        ("webhook", {"destination": WEBHOOK, "method": "BAD METHOD"}, "GET or POST"),
        ("webhook", {"destination": WEBHOOK, "method": "PUT"}, "GET or POST"),
        ("webhook", {"destination": WEBHOOK, "batch_events": "yes"}, "boolean"),
        ("kinesis", {"arn": "a", "role_arn": "b"}, "external_id"),
        ("kinesis", {"arn": "a", "role_arn": "b", "external_id": 1}, "external_id"),
        ("segment", {"write_key": ""}, "write_key"),
    ],
)
async def test_sink_configuration_is_checked_at_create(
    fake: FakeEventsServer, sink_type: str, configuration: dict[str, Any], complaint: str
) -> None:
    async with fake.client() as client:
        with pytest.raises(BadRequestError, match=complaint):
            await client.sinks.create(
                description="d", sink_type=sink_type, sink_configuration=configuration
            )


# its deliveries: loopback only, never a redirect followed, retried in a window ------------


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
