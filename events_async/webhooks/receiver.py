"""`EventReceiver`: Event Streams deliveries on aiohttp, verified, parsed, deduplicated.

A thin adapter over the pure core (`signature`, `cloudevents`, `events`, `router`). The
status it answers follows Twilio's retry rules — 2xx is success, 4xx is dropped for
good, 5xx and timeouts are retried for up to 4 hours — so nothing a retry could fix is
ever a 4xx:

| delivery | status | Twilio then |
|---|---|---|
| verified, every well-formed event handled (or a duplicate, or enqueued) | 200 | done |
| a verified GET without a body (a probe) | 200 | done |
| no signature, a wrong one, no or a wrong `bodySHA256` (a GET with a body too) | 403 | drops it |
| verified but not JSON, no event at all, or no well-formed event | 400 | drops it |
| body over the cap | 413 | drops it |
| body not all there within `read_timeout` (a trickle) | 408 | drops it (Twilio gave up at 5 s) |
| a handler raised or ran past its time budget | 500 | retries; handled events are skipped |
| an event of it is being handled by another delivery | 503 + Retry-After | retries later |
| the dedupe store or the stream (Redis) failed or was slow | 503 + Retry-After | retries later |
| too many deliveries in progress | 503 + Retry-After | retries later (backpressure) |
| a method other than POST or GET | 405 | drops it |

Malformed events inside a verified delivery are skipped one by one: each is logged with
its index and reason, counted, and given to `on_malformed`; the others are handled.
Handlers never see a forged, unsigned or malformed event.

In queue mode (`stream=`), the receiver hands each new event to a Redis Stream and
answers 200 once Redis has it; workers (`StreamConsumer`) handle them out of band.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from .._validate import check_positive_int, check_seconds
from ..errors import InvalidRequestError, PayloadError, SignatureError
from ..models import CloudEvent
from .dedupe import DedupeStore, MemoryDedupe
from .events import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_EVENTS,
    TEST_EVENT_TYPE,
    Malformed,
    parse_delivery,
)
from .handoff import HandleNow, HandToStream, within
from .observations import Observations
from .router import BatchHandler, EventHandler, Router
from .signature import SIGNATURE_HEADER, verify_delivery
from .stats import ReceiverStats

if TYPE_CHECKING:
    from .stream import RedisStream

__all__ = [
    "PROBE_PARAMETER",
    "BatchHandler",
    "EventHandler",
    "EventReceiver",
    "MalformedHandler",
]

logger = logging.getLogger("events_async.webhooks")

MalformedHandler = Callable[[Malformed], Awaitable[None]]

PROBE_PARAMETER = "events_async_probe"
"""A query parameter of a sink's destination that tells its test events from another
sink's (a test event's `source` is only "Sink"): `prove_sink` sets it."""

DEFAULT_HANDLER_TIMEOUT = 4.0  # Twilio waits 5 s for an answer
DEFAULT_READ_TIMEOUT = 10.0  # a body that trickles in longer holds a slot for nothing
DEFAULT_STORE_TIMEOUT = 1.0  # a Redis round trip is well under a millisecond on a LAN
DEFAULT_MAX_CONCURRENT = 64
RETRY_AFTER_SECONDS = "1"


def _answer(status: int, message: str, extra: dict[str, int] | None = None) -> web.Response:
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    answer: dict[str, Any] = {"status": status, "message": message}
    if extra:
        answer.update(extra)
    try:
        # orjson, not web.json_response's json.dumps: ~4 µs less a delivery
        body = orjson.dumps(answer)
    except TypeError:  # a lone surrogate in a message: the standard library escapes it
        body = json.dumps(answer).encode("ascii")
    return web.Response(
        body=body, status=status, headers=headers, content_type="application/json", charset="utf-8"
    )


class EventReceiver:
    """Receives Event Streams deliveries: mount `handle` on a route, or serve `app()`.

    `auth_tokens` are the account's Auth Tokens that may have signed (one, or primary and
    secondary during a rotation). Twilio signs the URL it delivered to; behind a proxy
    the server sees another, so give `public_url` (the receiver's URL as the sink's
    destination names it, without query), or `trust_forwarded=True` to read the scheme
    and host from `X-Forwarded-Proto` / `X-Forwarded-Host` (only behind a proxy that sets
    them).

    `handler` gets each new event, in order; `on(type)` routes by type; a `batch_handler`
    gets each delivery's unrouted new events at once instead (see `router` for test
    events). All of one delivery must finish within `handler_timeout` seconds, below
    Twilio's 5. `dedupe` defaults to a `MemoryDedupe` (this process only); give a
    `RedisDedupe` to share it between replicas; each store call must answer within
    `store_timeout`, else 503. Or give `stream` (a `RedisStream`) instead of handlers:
    each new event is appended to it and the delivery acknowledged once Redis has it.

    A body must arrive within `read_timeout`, so a sender that trickles bytes cannot hold
    a slot (`max_concurrent` deliveries at once; more get 503). `on_malformed` is awaited
    for each malformed event of a verified delivery.
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
        store_timeout: float = DEFAULT_STORE_TIMEOUT,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        dedupe: DedupeStore | None = None,
        stream: RedisStream | None = None,
        on_malformed: MalformedHandler | None = None,
    ) -> None:
        tokens = [auth_tokens] if isinstance(auth_tokens, str) else list(auth_tokens)
        if not tokens or not all(isinstance(t, str) and t for t in tokens):
            raise InvalidRequestError.for_param(
                "auth_tokens", "must be one or more non-empty strings"
            )
        self._tokens = tokens
        self._public = _public_base(public_url) if public_url is not None else None
        self.trust_forwarded = trust_forwarded
        self.router = Router(handler, batch_handler)
        self.handler_timeout = check_seconds(handler_timeout, "handler_timeout")
        self.read_timeout = check_seconds(read_timeout, "read_timeout")
        self.store_timeout = check_seconds(store_timeout, "store_timeout")
        self.max_body_bytes = check_positive_int(max_body_bytes, "max_body_bytes")
        self.max_events = check_positive_int(max_events, "max_events")
        self.max_concurrent = check_positive_int(max_concurrent, "max_concurrent")
        if stream is not None and (dedupe is not None or not self.router.empty):
            raise InvalidRequestError(
                "give a stream, or handlers and a dedupe store: a stream's workers handle "
                "its events, and the stream deduplicates them itself"
            )
        self.dedupe: DedupeStore = dedupe if dedupe is not None else MemoryDedupe()
        lease = getattr(self.dedupe, "lease", None)
        if isinstance(lease, (int, float)) and lease <= self.handler_timeout:
            raise InvalidRequestError(
                f"the dedupe store's lease ({lease:g}s) must outlast handler_timeout "
                f"({self.handler_timeout:g}s), or a slow delivery's events are claimed twice"
            )
        self.stream = stream
        self.on_malformed = on_malformed
        self.stats = ReceiverStats()
        self.observations = Observations()
        self._hand_off: HandleNow | HandToStream = (
            HandToStream(stream, self.stats, self.store_timeout)
            if stream is not None
            else HandleNow(
                self.router, self.dedupe, self.stats, self.handler_timeout, self.store_timeout
            )
        )

    def __repr__(self) -> str:
        return f"<EventReceiver {len(self._tokens)} token(s), {self.in_progress} in progress>"

    @property
    def in_progress(self) -> int:
        """Deliveries being handled now."""
        return self.stats.in_progress

    @property
    def counts(self) -> dict[int, int]:
        """Deliveries answered so far, by HTTP status."""
        return self.stats.deliveries

    # set-up ------------------------------------------------------------------------------

    def on(self, event_type: str) -> Callable[[EventHandler], EventHandler]:
        """Decorator: `@receiver.on("com.twilio.messaging.message.delivered")`; a second
        handler for one type is an `InvalidRequestError`."""
        if self.stream is not None:
            raise InvalidRequestError("a receiver with a stream hands events to its workers")
        return self.router.on(event_type)

    def app(self, path: str = "/") -> web.Application:
        """An application serving the receiver at `path`, with and without a trailing
        slash, so it can be run or mounted with `add_subapp` either way. Requests to any
        other path are 404 and noted (see `observations`)."""
        if not path.startswith("/"):
            raise InvalidRequestError("the receiver's path must start with /")
        app = web.Application()
        bare = path.rstrip("/")
        for form in dict.fromkeys((bare, bare + "/")):
            app.router.add_route("*", form, self.handle)
        app.router.add_route("*", "/{stray:.*}", self._stray)
        return app

    async def _stray(self, request: web.Request) -> web.Response:
        self.observations.stray(request.path)
        return _answer(404, "no receiver at this path")

    # test events -------------------------------------------------------------------------

    def test_events(self, probe: str | None = None) -> list[CloudEvent]:
        """The verified test events delivered with `?events_async_probe=<probe>` so far
        (without one, for None), oldest first."""
        return self.observations.test_events(probe)

    async def wait_for_test_event(
        self, probe: str | None = None, timeout: float = 30.0, *, skip: int = 0
    ) -> CloudEvent:
        """The first verified test event for `probe` after the first `skip` of them;
        waits up to `timeout` seconds (`ProbeTimeoutError`, an `asyncio.TimeoutError`,
        saying what arrived instead)."""
        return await self.observations.wait_for_test_event(probe, timeout, skip=skip)

    # the handler -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler: verify, parse, deduplicate, dispatch, answer."""
        stats = self.stats
        if request.method not in ("POST", "GET"):
            response = _answer(405, "Event Streams delivers by POST or GET")
        elif stats.in_progress >= self.max_concurrent:
            response = _answer(503, "too many deliveries in progress; retry later")
        else:
            stats.in_progress += 1
            try:
                response = await self._deliver(request)
            finally:
                stats.in_progress -= 1
        stats.answered(response.status)
        return response

    async def _deliver(self, request: web.Request) -> web.Response:
        if self._arrived(request):  # all there: nothing to wait for, no deadline to arm
            body: bytes | None = request.content.read_nowait()
        else:
            try:
                body = await within(self.read_timeout, self._read_body(request))
            except asyncio.TimeoutError:
                return _answer(408, f"the body did not arrive within {self.read_timeout:g}s")
        if body is None:
            return _answer(413, f"the body is over {self.max_body_bytes} bytes")
        has_body = request.method == "POST" or bool(body)  # a GET's body must be signed too
        try:
            verify_delivery(
                url=self.delivered_url(request),
                body=body if has_body else None,
                signature=request.headers.get(SIGNATURE_HEADER),
                tokens=self._tokens,
            )
        except SignatureError as error:
            logger.info("refused a delivery: %s", error)
            self.stats.signature_refusals += 1
            self.observations.refused(str(error))
            return _answer(403, "the delivery is not signed by Twilio")
        self.observations.verified()
        if not has_body:
            return _answer(200, "verified", {"handled": 0, "duplicates": 0})
        try:
            parsed = parse_delivery(body, max_bytes=self.max_body_bytes, max_events=self.max_events)
        except PayloadError as error:
            return _answer(400, str(error))
        if parsed.malformed:
            await self._skip_malformed(parsed.malformed, len(parsed.events))
            if not parsed.events:
                first = parsed.malformed[0]
                return _answer(400, f"event {first.index} is not a CloudEvent: {first.reason}")
        events = parsed.events
        for event in events:
            if event.type == TEST_EVENT_TYPE:
                self.observations.record_test_event(request.query.get(PROBE_PARAMETER), event)
        outcome = await self._hand_off(events, len(parsed.malformed))
        return _answer(outcome.status, outcome.message, outcome.counts)

    async def _skip_malformed(self, malformed: list[Malformed], good: int) -> None:
        self.stats.malformed += len(malformed)
        for item in malformed:
            logger.warning(
                "skipped event %d of a delivery (%d well-formed): %s", item.index, good, item.reason
            )
            if self.on_malformed is not None:
                try:
                    await self.on_malformed(item)
                except Exception:
                    logger.warning("the on_malformed hook failed", exc_info=True)

    def _arrived(self, request: web.Request) -> bool:
        """All of the body is here already, within the cap and not compressed (a small
        delivery's body comes in the packets of its head): aiohttp has stopped at the
        declared length, so `read_nowait` takes it all without waiting."""
        declared = request.content_length
        return (
            declared is not None
            and declared <= self.max_body_bytes
            and "Content-Encoding" not in request.headers
            and request.content.is_eof()
        )

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The raw body, or None when it is over the cap (nothing more is read)."""
        declared = request.content_length
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        if declared is not None and encoding in ("", "identity"):
            # (compressed, the declared length is not what aiohttp inflates: count instead)
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


def _first(value: str | None) -> str | None:
    return value.split(",")[0].strip() or None if value else None


def _public_base(url: str) -> str:
    """`public_url` checked: an http(s) URL without query or fragment."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidRequestError("public_url must be an http(s) URL without a query or fragment")
    return url
