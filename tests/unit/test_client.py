"""EventsClient configuration and session lifecycle (which credentials sign a request, and
from where: tests/unit/test_credentials.py)."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from events_async import EventsClient, InvalidRequestError, __version__
from events_async.transport import AiohttpTransport

from ..support import (
    ACCOUNT_SID,
    API_KEY,
    API_SECRET,
    AUTH_TOKEN,
    SINK_SID,
    decode_basic_auth,
    loopback_client,
    serve,
)

ENV_NAMES = [
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
    "TWILIO_REGION",
    "TWILIO_EDGE",
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def _echo_app(seen: list[web.Request]) -> web.Application:
    async def fetch_sink(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({"sid": request.match_info["sid"]})

    app = web.Application()
    app.router.add_get("/v1/Sinks/{sid}", fetch_sink)
    return app


async def test_async_with_creates_and_closes_its_own_session() -> None:
    seen: list[web.Request] = []
    async with serve(_echo_app(seen)) as origin:
        async with loopback_client(origin) as client:
            assert (await client.sinks.fetch(SINK_SID)).sid == SINK_SID
        assert client.closed
        with pytest.raises(RuntimeError, match="closed"):
            await client.sinks.fetch(SINK_SID)


async def test_close_is_idempotent_even_before_first_use() -> None:
    client = EventsClient(ACCOUNT_SID, AUTH_TOKEN)
    await client.close()
    await client.close()
    assert client.closed


async def test_close_twice_after_use() -> None:
    async with serve(_echo_app([])) as origin:
        client = loopback_client(origin)
        await client.sinks.fetch(SINK_SID)
        await client.close()
        await client.close()


async def test_an_injected_session_is_used_and_left_open() -> None:
    seen: list[web.Request] = []
    async with serve(_echo_app(seen)) as origin, aiohttp.ClientSession() as session:
        async with loopback_client(origin, session=session) as client:
            await client.sinks.fetch(SINK_SID)
        assert not session.closed
        async with session.get(f"{origin}/v1/Sinks/{SINK_SID}") as response:
            assert response.status == 200
    assert len(seen) == 2


async def test_headers_name_the_library_and_authenticate() -> None:
    seen: list[web.Request] = []
    async with serve(_echo_app(seen)) as origin, loopback_client(origin) as client:
        await client.sinks.fetch(SINK_SID)
    headers = seen[0].headers
    assert headers["User-Agent"].startswith(f"events-async/{__version__} aiohttp/")
    assert headers["Accept"] == "application/json"
    assert decode_basic_auth(headers["Authorization"]) == (ACCOUNT_SID, AUTH_TOKEN)


SIGNED_IN = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
KEY_PAIR = {"api_key": API_KEY, "api_secret": API_SECRET}
BAD_CONFIGURATIONS: list[tuple[str, dict[str, Any], str, str | None]] = [
    # (what, the arguments, what the message says, the parameter it names)
    ("nothing", {}, "no credentials", None),  # no one argument is at fault
    ("a SID alone", {"account_sid": ACCOUNT_SID}, "no credentials", None),
    ("a token alone", {"auth_token": AUTH_TOKEN}, "no credentials", None),
    (
        "account sid",
        {**SIGNED_IN, "account_sid": "ACnot-a-sid"},
        "account_sid must be",
        "account_sid",
    ),
    ("token of a surrogate", {**SIGNED_IN, "auth_token": "\ud800"}, "valid Unicode", "auth_token"),
    ("api key", {**KEY_PAIR, "api_key": "SKshort"}, "api_key must be", "api_key"),
    ("api secret missing", {"api_key": API_KEY}, "needs api_secret", "api_secret"),
    ("api key missing", {"api_secret": API_SECRET}, "needs api_key", "api_key"),
    ("secret of a surrogate", {**KEY_PAIR, "api_secret": "\udc00"}, "valid Unicode", "api_secret"),
    ("timeout zero", {**SIGNED_IN, "timeout": 0}, "timeout", "timeout"),
    (
        "timeout phase",
        {**SIGNED_IN, "timeout": aiohttp.ClientTimeout(sock_read=float("inf"))},
        "timeout.sock_read must be",
        "timeout",
    ),
    ("max_retries negative", {**SIGNED_IN, "max_retries": -1}, "max_retries", "max_retries"),
    (
        "max_concurrency zero",
        {**SIGNED_IN, "max_concurrency": 0},
        "max_concurrency",
        "max_concurrency",
    ),
    (
        "max_response_bytes zero",
        {**SIGNED_IN, "max_response_bytes": 0},
        "max_response_bytes must be",
        "max_response_bytes",
    ),
    ("base_url ftp", {**SIGNED_IN, "base_url": "ftp://events.twilio.com"}, "base_url", "base_url"),
    (
        "base_url with userinfo",
        {**SIGNED_IN, "base_url": "https://u:p@events.twilio.com"},
        "base_url must not carry credentials",
        "base_url",
    ),
    (
        "base_url with a query",
        {**SIGNED_IN, "base_url": "https://e.example?x=1"},
        "a query",
        "base_url",
    ),
]


@pytest.mark.parametrize(
    ("options", "message", "param"),
    [row[1:] for row in BAD_CONFIGURATIONS],
    ids=[row[0] for row in BAD_CONFIGURATIONS],
)
def test_bad_configuration_is_refused_naming_its_parameter(
    options: dict[str, Any], message: str, param: str | None
) -> None:
    with pytest.raises(InvalidRequestError, match=re.escape(message)) as caught:
        EventsClient(**options)
    assert caught.value.param == param
    assert str(caught.value).endswith(caught.value.detail) or param in ("api_key", "api_secret")
    assert AUTH_TOKEN not in str(caught.value)
    assert API_SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "env", "expected"),
    [
        ({}, {}, "https://events.twilio.com"),
        ({"region": "ie1"}, {}, "https://events.ie1.twilio.com"),
        ({"edge": "dublin"}, {}, "https://events.dublin.us1.twilio.com"),
        ({"region": "au1", "edge": "sydney"}, {}, "https://events.sydney.au1.twilio.com"),
        ({"region": "IE1", "edge": "dublin"}, {}, "https://events.dublin.ie1.twilio.com"),
        (
            {},
            {"TWILIO_REGION": "ie1", "TWILIO_EDGE": "dublin"},
            "https://events.dublin.ie1.twilio.com",
        ),
        ({"base_url": "http://127.0.0.1:8080/", "region": "ie1"}, {}, "http://127.0.0.1:8080"),
    ],
)
def test_base_url_region_and_edge(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, str], env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert EventsClient(ACCOUNT_SID, AUTH_TOKEN, **kwargs).base_url == expected


HOSTILE_HOSTS = [
    "attacker.example/",
    "attacker.example",
    "a/b",
    "evil.com#",
    "x:1",
    "user@x",
    "-bad",
    "bad-",
    "",
    " us1",
    "us1\n",
    "ü",
    "a" * 64,
]


@pytest.mark.parametrize("value", HOSTILE_HOSTS)
@pytest.mark.parametrize("option", ["region", "edge"])
def test_region_and_edge_accept_one_dns_label_only(option: str, value: str) -> None:
    with pytest.raises(InvalidRequestError, match=f"{option} must be one DNS label") as caught:
        EventsClient(ACCOUNT_SID, AUTH_TOKEN, **{option: value})
    assert caught.value.param == option


@pytest.mark.parametrize("value", HOSTILE_HOSTS[:4])
@pytest.mark.parametrize("variable", ["TWILIO_REGION", "TWILIO_EDGE"])
def test_the_environment_cannot_move_the_origin_either(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidRequestError):
        EventsClient(ACCOUNT_SID, AUTH_TOKEN)


def test_repr_shows_no_secret() -> None:
    token_client = EventsClient(ACCOUNT_SID, AUTH_TOKEN)
    key_client = EventsClient(api_key=API_KEY, api_secret=API_SECRET)

    for client in (token_client, key_client):
        text = repr(client) + repr(client.sinks) + repr(client.transport)
        assert AUTH_TOKEN not in text
        assert API_SECRET not in text
        assert "Basic" not in text
    assert ACCOUNT_SID in repr(token_client)
    assert API_KEY in repr(key_client)


async def test_timeout_in_seconds_bounds_connect_read_and_the_whole_attempt() -> None:
    client = EventsClient(ACCOUNT_SID, AUTH_TOKEN, timeout=2.5)
    assert isinstance(client.transport, AiohttpTransport)
    timeout = client.transport.timeout
    assert (timeout.sock_connect, timeout.sock_read, timeout.total) == (2.5, 2.5, 2.5)
    await client.close()


def test_the_default_timeout_is_never_unbounded() -> None:
    transport = EventsClient(ACCOUNT_SID, AUTH_TOKEN).transport
    assert isinstance(transport, AiohttpTransport)
    timeout = transport.timeout
    assert timeout.sock_connect
    assert timeout.sock_read
    assert timeout.total
