"""Credentials: explicit arguments win; the environment fills only what none gave."""

from __future__ import annotations

from typing import Any

import pytest

from events_async import EventsClient, InvalidRequestError
from events_async.transport import MockTransport, Request, Response

from ..support import ACCOUNT_SID, API_KEY, API_SECRET, AUTH_TOKEN, decode_basic_auth

ENV_SID = "AC" + "e" * 32
ENV_KEY = "SK" + "e" * 32
ENV = {
    "TWILIO_ACCOUNT_SID": ENV_SID,
    "TWILIO_AUTH_TOKEN": "env-token",
    "TWILIO_API_KEY": ENV_KEY,
    "TWILIO_API_SECRET": "env-secret",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*ENV, "EVENTS_ASYNC_BASE_URL", "TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


async def _signed_in(**arguments: Any) -> tuple[str, str]:
    """(login, secret) of the Authorization header a client made with `arguments` sends."""
    sent: list[str] = []

    def handler(request: Request) -> Response:
        sent.append(request.headers["Authorization"])
        return Response(200, json={"sinks": [], "meta": {"key": "sinks"}})

    async with EventsClient(**arguments, transport=MockTransport(handler)) as client:
        await client.sinks.list().collect()
    (authorization,) = sent
    return decode_basic_auth(authorization)


@pytest.mark.parametrize(
    ("arguments", "variables", "expected"),
    [
        # an explicit SID + token is never replaced by the environment's API key
        ({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}, ENV, (ACCOUNT_SID, AUTH_TOKEN)),
        # an explicit key pair is never replaced by the environment's token
        ({"api_key": API_KEY, "api_secret": API_SECRET}, ENV, (API_KEY, API_SECRET)),
        # one half given: the other half comes from its own variable, same pair only
        ({"account_sid": ACCOUNT_SID}, ENV, (ACCOUNT_SID, "env-token")),
        ({"auth_token": AUTH_TOKEN}, ENV, (ENV_SID, AUTH_TOKEN)),
        ({"api_key": API_KEY}, ENV, (API_KEY, "env-secret")),
        ({"api_secret": API_SECRET}, ENV, (ENV_KEY, API_SECRET)),
        # nothing given: the key pair if its key is set, else SID + token
        ({}, ENV, (ENV_KEY, "env-secret")),
        ({}, {k: v for k, v in ENV.items() if "API" not in k}, (ENV_SID, "env-token")),
    ],
)
async def test_arguments_win_and_the_environment_fills_only_what_is_missing(
    environment: pytest.MonkeyPatch,
    arguments: dict[str, str],
    variables: dict[str, str],
    expected: tuple[str, str],
) -> None:
    for name, value in variables.items():
        environment.setenv(name, value)
    assert await _signed_in(**arguments) == expected


def test_the_account_sid_alone_with_only_a_key_pair_in_the_environment_is_refused(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("TWILIO_API_KEY", ENV_KEY)
    environment.setenv("TWILIO_API_SECRET", "env-secret")
    with pytest.raises(InvalidRequestError, match="no credentials"):
        EventsClient(ACCOUNT_SID)


def test_a_key_without_its_secret_is_refused(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("TWILIO_AUTH_TOKEN", "env-token")
    with pytest.raises(InvalidRequestError, match="api_key needs api_secret"):
        EventsClient(api_key=API_KEY)
    with pytest.raises(InvalidRequestError, match="api_secret needs api_key"):
        EventsClient(api_secret=API_SECRET)


@pytest.mark.parametrize(
    ("arguments", "variables", "expected"),
    [
        ({}, {"EVENTS_ASYNC_BASE_URL": "http://127.0.0.1:8080"}, "http://127.0.0.1:8080"),
        (
            {"region": "ie1"},
            {"EVENTS_ASYNC_BASE_URL": "http://x:1"},
            "https://events.ie1.twilio.com",
        ),
        ({"base_url": "http://y:2"}, {"EVENTS_ASYNC_BASE_URL": "http://x:1"}, "http://y:2"),
        ({}, {"EVENTS_ASYNC_BASE_URL": "http://x:1", "TWILIO_REGION": "au1"}, "http://x:1"),
        ({}, {"TWILIO_REGION": "au1"}, "https://events.au1.twilio.com"),
    ],
)
def test_the_base_url_variable_sits_between_arguments_and_regions(
    environment: pytest.MonkeyPatch,
    arguments: dict[str, Any],
    variables: dict[str, str],
    expected: str,
) -> None:
    for name, value in variables.items():
        environment.setenv(name, value)
    assert EventsClient(ACCOUNT_SID, AUTH_TOKEN, **arguments).base_url == expected
