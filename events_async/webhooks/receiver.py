"""`EventReceiver`: Event Streams deliveries on aiohttp, verified, parsed, deduplicated.

A thin adapter over the pure core (`signature`, `events`, `dedupe`). The status it
answers follows Twilio's retry rules — 2xx is success, 4xx is dropped for good, 5xx and
timeouts are retried for up to 4 hours:

| delivery | status | Twilio then |
|---|---|---|
| verified, every event handled (or a duplicate) | 200 | done |
| no signature, a wrong one, no or a wrong `bodySHA256` | 403 | drops it (right for a forgery) |
| verified but not CloudEvents JSON | 400 | drops it (a retry cannot help) |
| body over the cap | 413 | drops it |
| body not all there within `read_timeout` (a trickle) | 408 | drops it (Twilio gave up at 5 s) |
| a handler raised or ran past its time budget | 500 | retries; handled events are skipped |
| an event of it is being handled by another delivery | 503 + Retry-After | retries later |
| too many deliveries in progress | 503 + Retry-After | retries later (backpressure) |
| a method other than POST or GET | 405 | drops it |

Handlers never see a forged, unsigned or malformed delivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from .._validate import check_positive_int, check_seconds
from ..errors import InvalidRequestError, PayloadError, SignatureError
from ..models import CloudEvent
from .dedupe import Claim, DedupeStore, MemoryDedupe
from .events import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_EVENTS, TEST_EVENT_TYPE, parse_events
from .signature import SIGNATURE_HEADER, verify_delivery

__all__ = ["PROBE_PARAMETER", "BatchHandler", "EventHandler", "EventReceiver"]

logger = logging.getLogger("events_async.webhooks")

EventHandler = Callable[[CloudEvent], Awaitable[None]]
BatchHandler = Callable[[list[CloudEvent]], Awaitable[None]]

PROBE_PARAMETER = "events_async_probe"
"""A query parameter of a sink's destination that tells its test events from another
sink's (a test event's `source` is only "Sink"): `prove_sink` sets it."""

DEFAULT_HANDLER_TIMEOUT = 4.0  # Twilio waits 5 s for an answer
DEFAULT_READ_TIMEOUT = 10.0  # a body that trickles in longer holds a slot for nothing
DEFAULT_MAX_CONCURRENT = 64
RETRY_AFTER_SECONDS = "1"
_timeout: Any = getattr(asyncio, "timeout", None)
T = TypeVar("T")


def _answer(status: int, message: str, **extra: Any) -> web.Response:
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    return web.json_response(
        {"status": status, "message": message, **extra}, status=status, headers=headers
    )


class EventReceiver:
    """Receives Event Streams deliveries: mount `handle` on a route, or serve `app()`.

    `auth_tokens` are the account's Auth Tokens that may have signed (one, or primary and
    secondary during a rotation). Twilio signs the URL it delivered to; behind a proxy
    the server sees another, so give `public_url` (the receiver's URL as the sink's
    destination names it, without query), or `trust_forwarded=True` to read the scheme
    and host from `X-Forwarded-Proto` / `X-Forwarded-Host` (only behind a proxy that sets
    them). `handler` gets each new event, in order (`on(type)` routes by type; a
    `batch_handler` gets each delivery's new events at once instead); all of one
    delivery must finish within `handler_timeout` seconds, below Twilio's 5; a body must
    arrive within `read_timeout`, so a sender that trickles bytes cannot hold a slot
    (`max_concurrent` deliveries at once; more get 503). `dedupe`
    defaults to a `MemoryDedupe` (this process only).
    """

    def __init__(
        self,
        handler: EventHandler | None = None,
        *,
        auth_tokens: str | Sequence[str],
        public_url: str | None = None,
        trust_forwarded: bool = False,
        batch_handler: BatchHandler | None = None,
        handler_timeout: float = DEFAULT_HANDLER_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        dedupe: DedupeStore | None = None,
    ) -> None:
        tokens = [auth_tokens] if isinstance(auth_tokens, str) else list(auth_tokens)
        if not tokens or not all(isinstance(t, str) and t for t in tokens):
            raise InvalidRequestError("auth_tokens must be one or more non-empty strings")
        if handler is not None and batch_handler is not None:
            raise InvalidRequestError("give a handler or a batch_handler, not both")
        self._tokens = tokens
        self._public = _public_base(public_url) if public_url is not None else None
        self.trust_forwarded = trust_forwarded
        self._default = handler
        self._batch = batch_handler
        self._routes: dict[str, EventHandler] = {}
        self.handler_timeout = check_seconds(handler_timeout, "handler_timeout")
        self.read_timeout = check_seconds(read_timeout, "read_timeout")
        self.max_body_bytes = check_positive_int(max_body_bytes, "max_body_bytes")
        self.max_events = check_positive_int(max_events, "max_events")
        self.max_concurrent = check_positive_int(max_concurrent, "max_concurrent")
        self.dedupe: DedupeStore = dedupe if dedupe is not None else MemoryDedupe()
        self.in_progress = 0
        self.counts: dict[int, int] = {}
        self._test_events: dict[str | None, list[CloudEvent]] = {}
        self._test_waiters: dict[str | None, list[asyncio.Future[None]]] = {}

    def __repr__(self) -> str:
        return f"<EventReceiver {len(self._tokens)} token(s), {self.in_progress} in progress>"

    # set-up ------------------------------------------------------------------------------

    def on(self, event_type: str) -> Callable[[EventHandler], EventHandler]:
        """Decorator: `@receiver.on("com.twilio.messaging.message.delivered")`."""

        def register(handler: EventHandler) -> EventHandler:
            self._routes[event_type] = handler
            return handler

        return register

    def app(self, path: str = "/") -> web.Application:
        """An application serving the receiver at `path`: run it, or `add_subapp` it."""
        app = web.Application()
        app.router.add_route("*", path, self.handle)
        return app

    # test events -------------------------------------------------------------------------

    def test_events(self, probe: str | None = None) -> list[CloudEvent]:
        """The verified test events delivered with `?events_async_probe=<probe>` so far
        (without one, for None), oldest first."""
        return list(self._test_events.get(probe, ()))

    async def wait_for_test_event(
        self, probe: str | None = None, timeout: float = 30.0, *, skip: int = 0
    ) -> CloudEvent:
        """The first verified test event for `probe` after the first `skip` of them;
        waits up to `timeout` seconds (`asyncio.TimeoutError`)."""
        check_seconds(timeout, "timeout")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(seen := self._test_events.get(probe, [])) <= skip:
            waiter: asyncio.Future[None] = loop.create_future()
            self._test_waiters.setdefault(probe, []).append(waiter)
            try:
                await asyncio.wait_for(waiter, max(deadline - loop.time(), 0))
            finally:
                waiters = self._test_waiters.get(probe, [])
                if waiter in waiters:
                    waiters.remove(waiter)
        return seen[skip]

    def _record_test_event(self, probe: str | None, event: CloudEvent) -> None:
        self._test_events.setdefault(probe, []).append(event)
        for waiter in self._test_waiters.pop(probe, []):
            if not waiter.done():
                waiter.set_result(None)

    # the handler -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler: verify, parse, deduplicate, dispatch, answer."""
        response = await self._handle(request)
        self.counts[response.status] = self.counts.get(response.status, 0) + 1
        return response

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method not in ("POST", "GET"):
            return _answer(405, "Event Streams delivers by POST or GET")
        if self.in_progress >= self.max_concurrent:
            return _answer(503, "too many deliveries in progress; retry later")
        self.in_progress += 1
        try:
            return await self._deliver(request)
        finally:
            self.in_progress -= 1

    async def _deliver(self, request: web.Request) -> web.Response:
        try:
            body = await _within(self.read_timeout, self._read_body(request))
        except asyncio.TimeoutError:
            return _answer(408, f"the body did not arrive within {self.read_timeout:g}s")
        if body is None:
            return _answer(413, f"the body is over {self.max_body_bytes} bytes")
        try:
            verify_delivery(
                url=self.delivered_url(request),
                body=body if request.method == "POST" else None,
                signature=request.headers.get(SIGNATURE_HEADER),
                tokens=self._tokens,
            )
        except SignatureError as error:
            logger.info("refused a delivery: %s", error)
            return _answer(403, "the delivery is not signed by Twilio")
        if request.method == "GET" and not body:
            return _answer(200, "verified", handled=0, duplicates=0)
        try:
            events = parse_events(body, max_bytes=self.max_body_bytes, max_events=self.max_events)
        except PayloadError as error:
            return _answer(400, str(error))
        for event in events:
            if event.type == TEST_EVENT_TYPE:
                self._record_test_event(request.query.get(PROBE_PARAMETER), event)
        return await self._dispatch(events)

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The raw body, or None when it is over the cap (nothing more is read)."""
        declared = request.content_length
        if declared is not None:
            if declared > self.max_body_bytes:
                return None
            return await request.content.read()  # aiohttp stops at the declared length
        body = bytearray()
        async for chunk in request.content.iter_any():
            body += chunk
            if len(body) > self.max_body_bytes:
                return None
        return bytes(body)

    def delivered_url(self, request: web.Request) -> str:
        """The URL Twilio delivered to (and signed), as far as this server can tell."""
        path, _, query = request.raw_path.partition("?")
        suffix = f"?{query}" if query else ""
        if self._public is not None:
            return self._public + suffix
        scheme, host = request.scheme, request.host
        if self.trust_forwarded:
            scheme = _first(request.headers.get("X-Forwarded-Proto")) or scheme
            host = _first(request.headers.get("X-Forwarded-Host")) or host
        return f"{scheme}://{host}{path}{suffix}"

    # dispatch ----------------------------------------------------------------------------

    async def _dispatch(self, events: list[CloudEvent]) -> web.Response:
        first: dict[str, CloudEvent] = {}
        for event in events:  # an id twice in one delivery is handled once
            first.setdefault(event.id, event)
        unique = list(first.values())
        claims = await self.dedupe.claim([event.id for event in unique])
        claimed = [e for e, claim in zip(unique, claims, strict=True) if claim is Claim.NEW]
        busy = sum(claim is Claim.BUSY for claim in claims)
        duplicates = len(events) - len(claimed) - busy
        finished: list[CloudEvent] = []
        try:
            await _within(self.handler_timeout, self._run_handlers(claimed, finished))
        except Exception as error:  # a handler failed or ran out of time: Twilio retries
            handled = {event.id for event in finished}
            await self.dedupe.done(list(handled))
            await self.dedupe.release([e.id for e in claimed if e.id not in handled])
            reason = "timed out" if isinstance(error, asyncio.TimeoutError) else "failed"
            logger.warning("a handler %s; answering 500 so Twilio retries", reason, exc_info=True)
            return _answer(500, f"the handler {reason}; retry later")
        await self.dedupe.done([event.id for event in claimed])
        if busy:
            return _answer(503, "an event of this delivery is being handled; retry later")
        return _answer(200, "handled", handled=len(claimed), duplicates=duplicates)

    async def _run_handlers(self, claimed: list[CloudEvent], finished: list[CloudEvent]) -> None:
        """Each claimed event to its handler, in order; `finished` grows as each succeeds
        (the batch handler's events last, all at once)."""
        default, routes, batch = self._default, self._routes, self._batch
        batched: list[CloudEvent] = []
        for event in claimed:
            handler = routes.get(event.type)
            if handler is None and event.type != TEST_EVENT_TYPE:
                if batch is not None:
                    batched.append(event)
                    continue
                handler = default
            if handler is not None:
                await handler(event)
            finished.append(event)
        if batched:
            assert batch is not None
            await batch(batched)
            finished.extend(batched)


async def _within(seconds: float, work: Coroutine[Any, Any, T]) -> T:
    """`await work`, cancelled after `seconds` (`asyncio.TimeoutError`); on Python 3.11+
    without the task per call that `asyncio.wait_for` costs."""
    if _timeout is None:
        return await asyncio.wait_for(work, seconds)
    async with _timeout(seconds):
        return await work


def _first(value: str | None) -> str | None:
    return value.split(",")[0].strip() or None if value else None


def _public_base(url: str) -> str:
    """`public_url` checked: an http(s) URL without query or fragment."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidRequestError("public_url must be an http(s) URL without a query or fragment")
    return url
