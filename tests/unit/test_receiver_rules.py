"""The receiver's rules learned from outside: a POST's signature is no GET's, one bad
event never costs the others, Twilio's other escapings verify, nothing is replaced
silently, and a store that fails is a 503 — over real sockets. (A hostile sender's bodies,
a replayed GET probe among them: test_receiver_bodies.py.)"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from events_async.errors import InvalidRequestError
from events_async.webhooks import (
    SIGNATURE_HEADER,
    Claim,
    EventReceiver,
    Malformed,
    MemoryDedupe,
    signature_for,
    signed_url,
)

from ..support import serve
from .test_receiver import DELIVERED, Handled, events_body

TOKEN = "the account's auth token"


@asynccontextmanager
async def serving(receiver: EventReceiver, path: str = "/events") -> AsyncIterator[str]:
    async with serve(receiver.app(path)) as origin:
        yield origin + path


async def send(
    method: str, url: str, body: bytes | None, signature: str | None
) -> tuple[int, dict[str, Any]]:
    headers = {SIGNATURE_HEADER: signature} if signature else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=body, headers=headers) as response,
    ):
        return response.status, await response.json()


# every byte a handler sees is covered by the signature -------------------------------------


async def test_a_posts_signature_replayed_as_a_get_with_another_body_is_refused() -> None:
    handled = Handled()
    receiver = EventReceiver(handled, auth_tokens=TOKEN)
    async with serving(receiver) as url:
        target = signed_url(url, events_body("genuine"))
        status, _ = await send("GET", target, events_body("forged"), signature_for(TOKEN, target))
    assert status == 403
    assert handled.calls == 0


# one bad event never costs the others ------------------------------------------------------


async def test_malformed_events_are_skipped_logged_counted_and_hooked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled = Handled()
    hooked: list[Malformed] = []

    async def on_malformed(item: Malformed) -> None:
        hooked.append(item)

    receiver = EventReceiver(handled, auth_tokens=TOKEN, on_malformed=on_malformed)
    good = json.loads(events_body("a", "d"))
    body = json.dumps([good[0], {**good[0], "id": ""}, 7, good[1]]).encode()
    caplog.set_level(logging.WARNING, "events_async.webhooks")
    async with serving(receiver) as url:
        target = signed_url(url, body)
        status, answer = await send("POST", target, body, signature_for(TOKEN, target))
    assert (status, answer["handled"], answer["malformed"]) == (200, 2, 2)
    assert handled.ids == ["a", "d"]
    assert [(m.index, m.reason) for m in hooked] == [
        (1, "its id is not a non-empty string"),
        (2, "it is not a JSON object"),
    ]
    assert receiver.stats.malformed == 2
    assert "skipped event 1 of a delivery (2 well-formed): its id is not" in caplog.text


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"not json", "the body is not JSON"),
        (b"[]", "the body holds no event"),
        (b'[{"id": ""}]', "event 0 is not a CloudEvent"),
        (b'{"hello": "world"}', "not a CloudEvent"),  # signed JSON, but no event
    ],
)
async def test_only_a_delivery_with_nothing_to_handle_is_a_400(body: bytes, said: str) -> None:
    handled = Handled()
    receiver = EventReceiver(handled, auth_tokens=TOKEN)
    async with serving(receiver) as url:
        target = signed_url(url, body)
        status, answer = await send("POST", target, body, signature_for(TOKEN, target))
    assert status == 400
    assert said in answer["message"]
    assert handled.calls == 0


# escaping ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_query", "requested_query"),
    [
        ("name=O'hara", "name=O%27hara"),  # twilio-node issues 1059 and 1183
        ("name=O%27hara", "name=O'hara"),
        ("caller=sip:1234@example.com", "caller=sip%3A1234%40example.com"),  # twilio-node 621
        ("caller=sip%3A1234%40example.com", "caller=sip:1234@example.com"),
    ],
)
async def test_the_other_escapings_twilio_signs_are_accepted(
    signed_query: str, requested_query: str
) -> None:
    handled = Handled()
    receiver = EventReceiver(handled, auth_tokens=TOKEN)
    body = events_body("a")
    async with serving(receiver) as url:
        signature = signature_for(TOKEN, signed_url(f"{url}?{signed_query}", body))
        status, _ = await send(
            "POST", signed_url(f"{url}?{requested_query}", body), body, signature
        )
    assert status == 200
    assert handled.ids == ["a"]


async def test_escaping_never_makes_another_path_or_port_equivalent() -> None:
    receiver = EventReceiver(Handled(), auth_tokens=TOKEN)
    body = events_body("a")
    async with serving(receiver, "/it's") as url:
        origin, _, _ = url.rpartition("/")
        forged_path = signature_for(TOKEN, signed_url(f"{origin}/it%27s", body))
        status, _ = await send("POST", signed_url(url, body), body, forged_path)
        assert status == 403
        host, _, port = origin.rpartition(":")
        other_port = signature_for(TOKEN, signed_url(f"{host}:{int(port) + 1}/it's", body))
        status, _ = await send("POST", signed_url(url, body), body, other_port)
    assert status == 403


# registration and logs ---------------------------------------------------------------------


def test_a_second_handler_for_one_type_is_an_error_not_a_replacement() -> None:
    receiver = EventReceiver(auth_tokens=TOKEN)
    first = Handled()
    receiver.on(DELIVERED)(first)
    with pytest.raises(InvalidRequestError, match="already registered"):
        receiver.on(DELIVERED)(Handled())
    assert receiver.router.routes[DELIVERED] is first


async def test_a_handler_failure_is_logged_with_the_events_id_and_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = EventReceiver(Handled(fail=1), auth_tokens=TOKEN)
    body = events_body("EZ1")
    async with serving(receiver) as url:
        target = signed_url(url, body)
        status, _ = await send("POST", target, body, signature_for(TOKEN, target))
    assert status == 500
    assert f"a handler failed on event EZ1 ({DELIVERED})" in caplog.text


# a store that fails is a 503, and nothing is counted handled without its mark -------------


class FailingStore(MemoryDedupe):
    """A working store whose `fail_on` step raises, as a store on a lost network does."""

    def __init__(self, fail_on: str) -> None:
        super().__init__()
        self.fail_on = fail_on

    async def claim(self, event_ids: Sequence[str]) -> list[Claim]:
        if self.fail_on == "claim":
            raise ConnectionError("the store is gone")
        return await super().claim(event_ids)

    async def done(self, event_ids: Sequence[str]) -> None:
        if self.fail_on == "done":
            raise ConnectionError("the store is gone")
        await super().done(event_ids)


@pytest.mark.parametrize("step", ["claim", "done"])
async def test_a_store_that_fails_is_a_503_and_nothing_counts_as_handled(step: str) -> None:
    handled = Handled()
    receiver = EventReceiver(handled, auth_tokens=TOKEN, dedupe=FailingStore(step))
    body = events_body("a")
    async with serving(receiver) as url:
        target = signed_url(url, body)
        status, answer = await send("POST", target, body, signature_for(TOKEN, target))
    assert status == 503
    assert "unavailable" in answer["message"]
    assert receiver.stats.events_handled == 0
    assert handled.calls == (1 if step == "done" else 0)


def test_a_store_lease_shorter_than_the_handler_budget_is_refused() -> None:
    class ShortLease(MemoryDedupe):
        lease = 3.0

    with pytest.raises(InvalidRequestError, match="must outlast handler_timeout"):
        EventReceiver(auth_tokens=TOKEN, dedupe=ShortLease(), handler_timeout=4.0)
