"""Every non-2xx answer becomes the ApiError subclass for its status, carrying Twilio's fields."""

from __future__ import annotations

import pickle

import pytest
from aioresponses import aioresponses

from events_async import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    EventsClient,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
)

from ..support import BASE, SINK_SID

SINK_URL = f"{BASE}/v1/Sinks/{SINK_SID}"


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (400, 20001, BadRequestError),
        (401, 20003, AuthenticationError),
        (403, 20403, PermissionDeniedError),
        (404, 20404, NotFoundError),
        (429, 20429, RateLimitError),
        (500, 20500, ServerError),
        (503, 20503, ServerError),
        (409, 20409, ApiError),
    ],
)
async def test_status_maps_to_error_class_with_twilio_fields(
    client: EventsClient, mocked: aioresponses, status: int, code: int, error_class: type
) -> None:
    body = {
        "code": code,
        "message": "The requested resource was not found",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
        "details": {"field": "Sid"},
    }
    mocked.get(SINK_URL, status=status, payload=body)

    with pytest.raises(error_class) as caught:
        await client.sinks.fetch(SINK_SID)

    error = caught.value
    assert type(error) is error_class
    assert (error.status, error.code, error.message) == (status, code, body["message"])
    assert error.more_info == body["more_info"]
    assert error.details == {"field": "Sid"}
    assert (error.method, error.url) == ("GET", SINK_URL)
    assert f"HTTP {status} (code {code}) on GET {SINK_URL}" in str(error)
    assert error_class.__name__ in repr(error)


async def test_rate_limit_error_carries_retry_after(
    client: EventsClient, mocked: aioresponses
) -> None:
    mocked.get(
        SINK_URL,
        status=429,
        payload={"code": 20429, "message": "Too Many Requests"},
        headers={"Retry-After": "3"},
    )

    with pytest.raises(RateLimitError) as caught:
        await client.sinks.fetch(SINK_SID)
    assert caught.value.retry_after == 3.0


async def test_list_calls_raise_the_same_errors(client: EventsClient, mocked: aioresponses) -> None:
    mocked.get(f"{BASE}/v1/Sinks", status=401, payload={"code": 20003, "message": "Authenticate"})

    with pytest.raises(AuthenticationError, match="Authenticate"):
        await client.sinks.list().collect()


async def test_a_non_json_error_page_is_both_server_error_and_decode_error(
    client: EventsClient, mocked: aioresponses
) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    mocked.get(SINK_URL, status=502, body=page, content_type="text/html")

    with pytest.raises(ServerError) as caught:
        await client.sinks.fetch(SINK_SID)

    error = caught.value
    assert isinstance(error, ResponseDecodeError)
    assert type(error).__name__ == "ServerError"
    assert error.status == 502
    assert error.code is None
    assert error.snippet == page
    assert "502 Bad Gateway" in str(error)


async def test_an_error_body_that_is_json_but_not_an_object(
    client: EventsClient, mocked: aioresponses
) -> None:
    mocked.get(SINK_URL, status=404, body="[]")

    with pytest.raises(NotFoundError) as caught:
        await client.sinks.fetch(SINK_SID)
    assert isinstance(caught.value, ResponseDecodeError)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "empty body"),
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON list, not an object"),
        ('{"sid": 5}', "cannot read Sink"),
        ('{"date_created": "yesterday"}', "cannot read Sink"),
    ],
)
async def test_a_success_body_that_is_not_the_promised_json(
    client: EventsClient, mocked: aioresponses, body: str, message: str
) -> None:
    mocked.get(SINK_URL, status=200, body=body)

    with pytest.raises(ResponseDecodeError, match=message):
        await client.sinks.fetch(SINK_SID)


async def test_a_fetch_answered_with_204_is_a_decode_error(
    client: EventsClient, mocked: aioresponses
) -> None:
    mocked.get(SINK_URL, status=204, body="")

    with pytest.raises(ResponseDecodeError, match="no body"):
        await client.sinks.fetch(SINK_SID)


async def test_decode_error_keeps_status_and_snippet(
    client: EventsClient, mocked: aioresponses
) -> None:
    mocked.get(SINK_URL, status=200, body="x" * 1000)

    with pytest.raises(ResponseDecodeError) as caught:
        await client.sinks.fetch(SINK_SID)
    assert caught.value.status == 200
    assert caught.value.snippet == "x" * 200


def test_an_invalid_request_names_its_parameter_and_stays_a_value_error() -> None:
    error = InvalidRequestError.for_param("region", "must be one DNS label, got 'a.b'")
    assert isinstance(error, ValueError)
    assert str(error) == "region must be one DNS label, got 'a.b'"
    assert (error.param, error.detail) == ("region", "must be one DNS label, got 'a.b'")
    named = InvalidRequestError.for_param("types", "must be 1 or more", subject="a version")
    assert (str(named), named.param) == ("a version must be 1 or more", "types")

    plain = InvalidRequestError("give a handler or a batch_handler, not both")
    assert (plain.param, plain.detail) == (None, str(plain))  # as before: a message alone

    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.param, copy.detail) == (str(error), error.param, error.detail)
