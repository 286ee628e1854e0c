"""Rule: a 429 with Retry-After holds every request not yet sent, then lets them go spread out."""

from __future__ import annotations

import asyncio
import random

import pytest
from aiohttp import web

from events_async import EventsClient, _retry
from events_async.transport import MockTransport, Request, Response

from ..support import ACCOUNT_SID, AUTH_TOKEN, SINK_SID, loopback_client, serve

PAUSE = 1.0


def _storm_app(arrivals: list[tuple[float, int]]) -> web.Application:
    """Answers 429 (Retry-After: 1) for the first second after the first request."""
    loop = asyncio.get_running_loop()
    started: list[float] = []

    async def fetch(request: web.Request) -> web.Response:
        now = loop.time()
        if not started:
            started.append(now)
        if now - started[0] < PAUSE:
            arrivals.append((now, 429))
            return web.json_response(
                {"code": 20429, "message": "Too Many Requests", "status": 429},
                status=429,
                headers={"Retry-After": "1"},
            )
        arrivals.append((now, 200))
        return web.json_response({"sid": request.match_info["sid"]})

    app = web.Application()
    app.router.add_get("/v1/Sinks/{sid}", fetch)
    return app


async def test_requests_queued_for_a_slot_wait_out_the_pause_and_leave_spread_out() -> None:
    arrivals: list[tuple[float, int]] = []
    async with (
        serve(_storm_app(arrivals)) as url,
        loopback_client(url, max_concurrency=100, max_retries=3) as client,
    ):
        sinks = await asyncio.gather(*(client.sinks.fetch(SINK_SID) for _ in range(300)))

    assert len(sinks) == 300
    refused = [t for t, status in arrivals if status == 429]
    # Only the first wave, already on the wire when the first 429 came back, was refused:
    # the 200 requests queued for a slot waited instead of being sent into the pause.
    assert len(refused) <= 100
    # When the pause lifted, the held requests left over a spread, not in one burst.
    answered = sorted(t for t, status in arrivals if status == 200)
    first_burst = [t for t in answered if t - answered[0] < 0.05]
    assert len(first_burst) < 100
    assert answered[-1] - answered[0] > 0.5 * _retry.gate_spread(PAUSE)


def test_the_spread_follows_the_pause_up_to_a_cap() -> None:
    assert _retry.gate_spread(0.5) == 0.5
    assert _retry.gate_spread(1.0) == 1.0
    assert _retry.gate_spread(30.0) == _retry.GATE_SPREAD_CAP
    assert _retry.gate_spread(-1.0) == 0.0


async def test_the_request_that_got_the_429_leaves_at_retry_after_and_only_held_ones_spread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The 429'd request does not take a share of the spread meant for those behind it."""
    monkeypatch.setattr(random, "random", lambda: 0.99)  # every share near the whole spread
    loop = asyncio.get_running_loop()
    sent: list[float] = []
    rate_limited = asyncio.Event()

    def handler(request: Request) -> Response:
        sent.append(loop.time())
        if len(sent) == 1:
            rate_limited.set()
            return Response(429, headers={"Retry-After": str(PAUSE / 2)}, json={"code": 20429})
        return Response(200, json={"sid": SINK_SID})

    async with EventsClient(
        ACCOUNT_SID, AUTH_TOKEN, transport=MockTransport(handler), max_retries=1
    ) as client:
        first = asyncio.create_task(client.sinks.fetch(SINK_SID))
        await rate_limited.wait()
        held = asyncio.create_task(client.sinks.fetch(SINK_SID))  # waits at the gate
        await asyncio.gather(first, held)

    pause = PAUSE / 2
    spread = _retry.gate_spread(pause)
    refused_at, *later = sent
    waits = sorted(at - refused_at for at in later)
    # The 429'd request went again at Retry-After (timers may fire a tick early), well
    # before the held one, which left with its share (0.99) of the spread.
    assert pause - 0.02 <= waits[0] < pause + 0.5 * spread
    assert waits[1] >= pause + 0.9 * spread
