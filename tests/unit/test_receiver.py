"""The receiver over real sockets, fed by the fake's signed deliveries and by forgers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from events_async.testing import FakeEventsServer
from events_async.testing.delivery import Deliverer
from events_async.webhooks import (
    SIGNATURE_HEADER,
    CloudEvent,
    EventReceiver,
    signature_for,
    signed_url,
)

from ..support import serve

DELIVERED = "com.twilio.messaging.message.delivered"
FAILED = "com.twilio.messaging.message.failed"


class Handled:
    """A handler that records what it got; `fail` of its first calls raise."""

    def __init__(self, fail: int = 0, delay: float = 0.0) -> None:
        self.events: list[CloudEvent] = []
        self.calls = 0
        self.fail = fail
        self.delay = delay

    async def __call__(self, event: CloudEvent) -> None:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.calls <= self.fail:
            raise RuntimeError("the handler's database is down")
        self.events.append(event)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.events]


@contextlib.asynccontextmanager
async def receiving(
    receiver: EventReceiver | None = None,
    *,
    handler: Any = None,
    batch_events: bool = True,
    deliverer: Deliverer | None = None,
    tokens: Any = None,
    **options: Any,
) -> AsyncIterator[tuple[FakeEventsServer, EventReceiver, str]]:
    """A fake whose account delivers DELIVERED events to a receiver on a loopback port;
    `tokens(account token)` gives the receiver's tokens (default: the account's)."""
    async with FakeEventsServer(webhooks_start_active=True, deliverer=deliverer) as fake:
        if receiver is None:
            known = tokens(fake.account.auth_token) if tokens else fake.account.auth_token
            receiver = EventReceiver(handler, auth_tokens=known, **options)
        async with serve(receiver.app("/events")) as origin:
            url = origin + "/events"
            async with fake.client() as client:
                sink = await client.sinks.create(
                    description="receiver",
                    sink_type="webhook",
                    sink_configuration={"destination": url, "batch_events": batch_events},
                )
                await client.subscriptions.create(
                    description="d", sink_sid=sink.sid, types=[DELIVERED]
                )
            yield fake, receiver, url


async def post(
    url: str, body: bytes, *, token: str | None, signed_for: bytes | None = None, **headers: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST as Twilio would: `bodySHA256` of `signed_for` (default: the body) appended and
    signed with `token` (None: no signature)."""
    target = signed_url(url, body if signed_for is None else signed_for)
    if token is not None:
        headers[SIGNATURE_HEADER] = signature_for(token, target)
    async with (
        aiohttp.ClientSession() as session,
        session.post(target, data=body, headers=headers) as response,
    ):
        return response.status, await response.json(), dict(response.headers)


def events_body(*ids: str, type: str = DELIVERED) -> bytes:
    return json.dumps(
        [{"specversion": "1.0", "type": type, "source": "/x", "id": i, "data": {}} for i in ids]
    ).encode()


# the fake's deliveries ---------------------------------------------------------------------


@pytest.mark.parametrize("batch_events", [True, False])
async def test_the_fakes_signed_deliveries_are_verified_and_each_event_handled_once(
    batch_events: bool,
) -> None:
    handled = Handled()
    async with receiving(handler=handled, batch_events=batch_events) as (fake, receiver, _):
        deliveries = fake.emit(DELIVERED, {"messageSid": "SM1"}, count=3)
        fake.emit(FAILED)  # not subscribed: never delivered
        await fake.deliveries_settled()
    assert len(deliveries) == (1 if batch_events else 3)
    assert sorted(handled.ids) == sorted(i for d in deliveries for i in d.event_ids)
    assert all(e.data == {"messageSid": "SM1"} and e.type == DELIVERED for e in handled.events)
    assert receiver.counts == {200: len(deliveries)}
    assert all(d.outcome == "delivered" and len(d.attempts) == 1 for d in deliveries)


async def test_a_receiver_with_the_wrong_token_refuses_and_twilio_drops_it() -> None:
    handled = Handled()
    receiver = EventReceiver(handled, auth_tokens="not the account's token")
    async with receiving(receiver) as (fake, _, _):
        (delivery,) = fake.emit(DELIVERED)
        await fake.deliveries_settled()
    assert handled.calls == 0
    assert receiver.counts == {403: 1}
    assert delivery.outcome == "dropped"  # a 4xx is never retried
    assert [a.status for a in delivery.attempts] == [403]


async def test_rotation_accepts_either_token() -> None:
    handled = Handled()
    rotation = lambda token: ["the new token", token]  # noqa: E731
    async with receiving(handler=handled, tokens=rotation) as (fake, _receiver, _):
        fake.emit(DELIVERED)
        await fake.deliveries_settled()
    assert len(handled.events) == 1


async def test_a_failing_handler_answers_500_and_the_retry_is_handled_exactly_once() -> None:
    handled = Handled(fail=2)
    async with receiving(handler=handled) as (fake, receiver, _):
        (delivery,) = fake.emit(DELIVERED, count=2)
        await fake.deliveries_settled()
    assert [a.status for a in delivery.attempts] == [500, 500, 200]
    assert sorted(handled.ids) == sorted(delivery.event_ids)  # each once, though retried
    assert receiver.counts == {500: 2, 200: 1}


async def test_a_handler_past_its_budget_answers_500_and_is_retried() -> None:
    slow_first = Handled(delay=0.0)
    calls = 0

    async def handler(event: CloudEvent) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(5)  # cancelled at the budget
        await slow_first(event)

    async with receiving(handler=handler, handler_timeout=0.2) as (fake, _receiver, _):
        (delivery,) = fake.emit(DELIVERED)
        await fake.deliveries_settled()
    assert [a.status for a in delivery.attempts] == [500, 200]
    assert slow_first.ids == delivery.event_ids


async def test_duplicates_and_reordering_are_each_handled_once() -> None:
    handled = Handled()
    deliverer = Deliverer(duplicate_rate=1.0, reorder=True, seed=7)
    async with receiving(handler=handled, batch_events=False, deliverer=deliverer) as (
        fake,
        receiver,
        _,
    ):
        deliveries = fake.emit(DELIVERED, count=5)
        await fake.deliveries_settled()
    emitted = {i for d in deliveries for i in d.event_ids}
    assert len(deliveries) == 10  # every delivery sent twice
    assert sorted(handled.ids) == sorted(emitted)  # yet each event handled once
    assert all(d.outcome == "delivered" for d in deliveries)
    # a copy that arrived while its twin was being handled was told 503, and came back
    assert receiver.counts[200] == 10
    assert set(receiver.counts) <= {200, 503}


# forgers and limits ------------------------------------------------------------------------


async def test_forgeries_are_403_and_the_handler_never_runs() -> None:
    handled = Handled()
    async with receiving(handler=handled) as (fake, _, url):
        token = fake.account.auth_token
        genuine = events_body("a")
        forged = events_body("forged")
        cases = {
            "unsigned": await post(url, genuine, token=None),
            "wrong token": await post(url, genuine, token="guess"),
            "replayed signature, another body": await post(
                url, forged, token=token, signed_for=genuine
            ),
        }
        async with aiohttp.ClientSession() as session:  # signed, but no bodySHA256 at all
            headers = {SIGNATURE_HEADER: signature_for(token, url)}
            async with session.post(url, data=genuine, headers=headers) as response:
                cases["no bodySHA256"] = (response.status, await response.json(), {})
    assert {name: status for name, (status, _, _) in cases.items()} == dict.fromkeys(cases, 403)
    assert all("not signed by Twilio" in body["message"] for _, body, _ in cases.values())
    assert handled.calls == 0


async def test_a_body_over_the_cap_is_413_declared_or_streamed() -> None:
    handled = Handled()
    async with receiving(handler=handled, max_body_bytes=2048) as (fake, _receiver, url):
        (delivery,) = fake.emit(DELIVERED, {"padding": "x" * 4096})
        await fake.deliveries_settled()
        token = fake.account.auth_token
        big = events_body(*[str(n) for n in range(200)])

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 512):
                yield big[start : start + 512]

        target = signed_url(url, big)
        headers = {SIGNATURE_HEADER: signature_for(token, target)}
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, data=chunks(), headers=headers) as response,
        ):
            streamed = response.status
    assert delivery.outcome == "dropped"
    assert [a.status for a in delivery.attempts] == [413]
    assert streamed == 413
    assert handled.calls == 0


async def test_backpressure_answers_503_with_retry_after() -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def blocking(event: CloudEvent) -> None:
        started.set()
        await release.wait()

    async with receiving(handler=blocking, max_concurrent=1) as (fake, _, url):
        token = fake.account.auth_token
        first = asyncio.create_task(post(url, events_body("a"), token=token))
        await started.wait()  # the first delivery is being handled
        status, _, headers = await post(url, events_body("b"), token=token)
        release.set()
        assert (await first)[0] == 200
    assert status == 503
    assert headers["Retry-After"] == "1"


async def test_a_duplicate_arriving_while_the_first_is_in_flight_is_not_handled_twice() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    handled = Handled()

    async def slow(event: CloudEvent) -> None:
        started.set()
        await release.wait()
        await handled(event)

    async with receiving(handler=slow) as (fake, _, url):
        token = fake.account.auth_token
        first = asyncio.create_task(post(url, events_body("same"), token=token))
        await started.wait()
        status, _, _ = await post(url, events_body("same"), token=token)
        release.set()
        assert (await first)[0] == 200
        again, body, _ = await post(url, events_body("same"), token=token)
    assert status == 503  # "being handled: retry later"
    assert (again, body["duplicates"], body["handled"]) == (200, 1, 0)
    assert handled.ids == ["same"]


async def test_other_methods_are_405() -> None:
    async with (
        receiving(handler=Handled()) as (_, _, url),
        aiohttp.ClientSession() as session,
        session.put(url, data=b"[]") as response,
    ):
        assert response.status == 405


# where the receiver lives --------------------------------------------------------------------


async def test_behind_a_proxy_the_public_url_is_what_is_verified() -> None:
    handled = Handled()
    public = "https://hooks.example.com/twilio/events"
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.example.com"}
    statuses: list[int] = []
    async with FakeEventsServer() as fake:
        token = fake.account.auth_token
        for receiver, headers in [
            (EventReceiver(handled, auth_tokens=token), {}),  # sees its own origin
            (EventReceiver(handled, auth_tokens=token, public_url=public), {}),
            (EventReceiver(handled, auth_tokens=token), forwarded),  # not trusted
            (EventReceiver(handled, auth_tokens=token, trust_forwarded=True), forwarded),
        ]:
            app = receiver.app("/twilio/events")
            async with serve(app) as origin, aiohttp.ClientSession() as s:
                body = events_body(str(len(statuses)))
                signed = signed_url(public, body)  # what Twilio signed
                seen = origin + "/twilio/events" + signed[len(public) :]
                headers = {SIGNATURE_HEADER: signature_for(token, signed), **headers}
                async with s.post(seen, data=body, headers=headers) as response:
                    statuses.append(response.status)
    assert statuses == [403, 200, 403, 200]
    assert handled.ids == ["1", "3"]


async def test_mounted_on_a_users_application_beside_other_routes() -> None:
    handled = Handled()
    async with FakeEventsServer(webhooks_start_active=True) as fake:
        receiver = EventReceiver(handled, auth_tokens=fake.account.auth_token)
        app = web.Application()
        app.router.add_get("/health", _ok)
        app.router.add_post("/twilio/events", receiver.handle)
        app.add_subapp("/sub", receiver.app("/events"))
        async with serve(app) as origin:
            for path in ("/twilio/events", "/sub/events"):
                status, _, _ = await post(
                    origin + path, events_body(path), token=fake.account.auth_token
                )
                assert status == 200
    assert handled.ids == ["/twilio/events", "/sub/events"]


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def test_routes_by_type_and_a_batch_handler() -> None:
    batches: list[list[str]] = []
    failed: list[str] = []

    async def batch(events: list[CloudEvent]) -> None:
        batches.append([e.id for e in events])

    async with FakeEventsServer() as fake:
        receiver = EventReceiver(batch_handler=batch, auth_tokens=fake.account.auth_token)

        @receiver.on(FAILED)
        async def on_failed(event: CloudEvent) -> None:
            failed.append(event.id)

        async with serve(receiver.app("/")) as origin:
            body = json.dumps(
                [
                    {"specversion": "1.0", "type": t, "source": "/x", "id": i}
                    for t, i in [(DELIVERED, "1"), (FAILED, "2"), (DELIVERED, "3")]
                ]
            ).encode()
            status, answer, _ = await post(origin + "/", body, token=fake.account.auth_token)
    assert (status, answer["handled"]) == (200, 3)
    assert batches == [["1", "3"]]
    assert failed == ["2"]


def test_receiver_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="auth_tokens"):
        EventReceiver(auth_tokens=[])
    with pytest.raises(ValueError, match="not both"):
        EventReceiver(Handled(), batch_handler=Handled(), auth_tokens="t")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="public_url"):
        EventReceiver(auth_tokens="t", public_url="https://a.example/x?q=1")
    with pytest.raises(ValueError, match="handler_timeout"):
        EventReceiver(auth_tokens="t", handler_timeout=float("nan"))
    assert "s3cr3t-value" not in repr(EventReceiver(auth_tokens="s3cr3t-value"))


async def test_a_trickled_body_is_408_and_frees_its_slot() -> None:
    handled = Handled()
    async with receiving(handler=handled, max_concurrent=1, read_timeout=0.3) as (fake, rx, url):
        host, port = url.split("//")[1].split("/")[0].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n["
        )

        async def trickle() -> None:  # a byte now and then, never the whole body
            for _ in range(100):
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.05)

        sender = asyncio.create_task(trickle())
        head = await asyncio.wait_for(reader.read(200), 5)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        writer.close()
        status, _, _ = await post(url, events_body("after"), token=fake.account.auth_token)
    assert head.startswith(b"HTTP/1.1 408")
    assert status == 200  # the slot the trickle held is free again
    assert handled.ids == ["after"]
    assert rx.in_progress == 0
