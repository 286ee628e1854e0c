"""Rule: every attempt has a total deadline, and every number given is finite and checked.

The elapsed-time bounds here are correctness bounds (a request that should die at 0.5 s
must not live for 30), set loose enough for a loaded machine; no speed is asserted.
"""

from __future__ import annotations

import math
import time
from typing import Any

import aiohttp
import pytest

from events_async import EventsClient, EventsTimeoutError, InvalidRequestError
from events_async.audit import audit_account, audit_accounts
from events_async.transport import AiohttpTransport

from ..hostile import head, raw_server, trickle
from ..support import ACCOUNT_SID, AUTH_TOKEN, SINK_SID, loopback_client

HEADERS_TRICKLE = trickle(b"HTTP/1.1 200 OK\r\n", b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaa", interval=0.1)
BODY_TRICKLE = trickle(
    head(Content_Type="application/json", Content_Length=1_000_000), b" ", interval=0.1
)


@pytest.mark.parametrize("conversation", [HEADERS_TRICKLE, BODY_TRICKLE], ids=["headers", "body"])
async def test_a_trickling_server_cannot_outlive_the_total_deadline(conversation: Any) -> None:
    # Each byte arrives well within the read timeout; only a total deadline stops this.
    async with raw_server(conversation) as url, loopback_client(url, timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(EventsTimeoutError):
            await client.sinks.fetch(SINK_SID)
        assert time.monotonic() - started < 5


async def test_retries_are_bounded_by_deadline_times_attempts_plus_backoff() -> None:
    async with (
        raw_server(BODY_TRICKLE) as url,
        loopback_client(url, timeout=0.3, max_retries=2) as client,
    ):
        started = time.monotonic()
        with pytest.raises(EventsTimeoutError):
            await client.sinks.fetch(SINK_SID)
        # 3 attempts x 0.3 s + backoff (at most 0.5 + 1.0 s), plus slack for a busy machine.
        assert time.monotonic() - started < 3 * 0.3 + 1.5 + 3


async def test_a_client_timeout_without_total_gets_one() -> None:
    timeout = aiohttp.ClientTimeout(sock_connect=1, sock_read=2)
    async with EventsClient(ACCOUNT_SID, AUTH_TOKEN, timeout=timeout) as client:
        assert isinstance(client.transport, AiohttpTransport)
        assert client.transport.timeout.total == 60
        assert client.transport.timeout.sock_read == 2


BAD_NUMBERS = [math.nan, math.inf, -math.inf, -1, 0, True, "5"]


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_timeout_refuses_numbers_that_are_not_finite_positive_seconds(value: Any) -> None:
    with pytest.raises(InvalidRequestError, match="timeout"):
        EventsClient(ACCOUNT_SID, AUTH_TOKEN, timeout=value)


@pytest.mark.parametrize("phase", ["total", "connect", "sock_connect", "sock_read"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0])
def test_a_client_timeout_with_a_bad_phase_is_refused(phase: str, value: float) -> None:
    with pytest.raises(InvalidRequestError, match=f"timeout.{phase}"):
        EventsClient(ACCOUNT_SID, AUTH_TOKEN, timeout=aiohttp.ClientTimeout(**{phase: value}))


@pytest.mark.parametrize("option", ["max_retries", "max_concurrency", "max_response_bytes"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -1, True, 1.5])
def test_counts_refuse_what_is_not_a_whole_number(option: str, value: Any) -> None:
    with pytest.raises(InvalidRequestError, match=option):
        EventsClient(ACCOUNT_SID, AUTH_TOKEN, **{option: value})


@pytest.mark.parametrize("value", [0, -1, math.nan, True])
async def test_audit_numbers_are_checked_before_anything_runs(value: Any) -> None:
    with pytest.raises(InvalidRequestError, match="accounts_at_once"):
        await audit_accounts([(ACCOUNT_SID, AUTH_TOKEN)], accounts_at_once=value)
    with pytest.raises(InvalidRequestError, match="concurrency"):
        await audit_accounts([(ACCOUNT_SID, AUTH_TOKEN)], concurrency=value)
    async with EventsClient(ACCOUNT_SID, AUTH_TOKEN) as client:
        with pytest.raises(InvalidRequestError, match="concurrency"):
            await audit_account(client, concurrency=value)
