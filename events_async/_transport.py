"""The policy over a transport: what happens around each request the client sends.

Each concern is one small piece: the origin check (`_check_origin`), the request as sent
(`_build`), the limiters (the client's own cap, the rate-limit gate, a cap shared with
other clients: `_attempt`), the answer as it came (`_received`: logged, its size checked),
what a failure means (`_failure_of`), what an error answer means (`_judge`), and whether
to go again (`_retry_delay`). The transport below only moves bytes
(`events_async.transport`); this module knows no models: it returns decoded JSON objects.

A DELETE answered 404 after an earlier attempt may have reached the server counts as
done: that attempt deleted it. `max_retries=0` means exactly one attempt on the wire.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from . import _retry
from ._responses import api_error, decode_success
from ._settings import DEFAULT_MAX_RESPONSE_BYTES
from ._slots import Slots
from .errors import (
    ClientClosedError,
    EventsError,
    EventsTimeoutError,
    InvalidRequestError,
    ResponseDecodeError,
    TransportError,
)
from .transport import AsyncTransport, Request, Response, new_session

__all__ = ["Params", "Policy", "RateLimitGate", "new_session", "path_segment"]

logger = logging.getLogger("events_async")

Params = Sequence[tuple[str, str]]
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+\Z")
_FORM = "application/x-www-form-urlencoded"
_PREFIXES_KEPT = 64  # the API's own paths, and a few with a SID: bounded either way


def path_segment(value: str) -> str:
    """`value` percent-encoded as exactly one path segment.

    `/`, `?`, `#`, spaces and Unicode are escaped; a segment of dots (`.`, `..`) is
    escaped too, so no value can climb or change the path.
    """
    if value.__class__ is str and value.isalnum() and value.isascii():
        return value  # SIDs and the API's own names, checked first: three cheap calls
    if not isinstance(value, str) or not value:
        raise InvalidRequestError("a path parameter must be a non-empty string")
    if value.strip(".") == "":
        return value.replace(".", "%2E")
    if _UNRESERVED.match(value):
        return value  # event types, schema ids: nothing to escape
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise InvalidRequestError("a path parameter is not valid Unicode") from None


class RateLimitGate:
    """After a 429 with `Retry-After`, every request of the client waits until the pause
    ends; those it held leave over a spread, each at its random share of it, so they do
    not all resume at once. The request that got the 429 leaves when the pause ends: the
    spread is for the requests behind it, not for it."""

    __slots__ = ("resume_at", "spread")

    def __init__(self) -> None:
        self.resume_at = 0.0  # loop time; 0: never paused
        self.spread = 0.0

    async def wait(self, *, spread: bool = True) -> None:
        """Hold this request until the pause ends, plus its share of the spread (none
        with `spread=False`: the retry of the request that was answered 429)."""
        loop = asyncio.get_running_loop()
        share = random.random() if spread else 0.0
        # A loop, not an Event: another 429 may push the resume time further while we wait.
        while (delay := self.resume_at + share * self.spread - loop.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def pause_all(self, seconds: float) -> None:
        """Hold every request for `seconds` from now (a later end always wins)."""
        resume_at = asyncio.get_running_loop().time() + seconds
        if resume_at > self.resume_at:
            self.resume_at = resume_at
            self.spread = _retry.gate_spread(seconds)
            logger.debug("rate limited: pausing every request for %.2fs", seconds)


class Policy:
    """Sends requests through one transport under the client's rules, in one event loop.

    `max_concurrency` caps this client's requests in flight (None: the transport's pool
    size, if it has one); `limiter` is a cap shared with other clients, held by each
    attempt while it is on the wire (never while it waits at the rate-limit gate).
    """

    def __init__(
        self,
        transport: AsyncTransport,
        *,
        base_url: URL,
        authorization: str,
        user_agent: str,
        max_retries: int,
        max_concurrency: int | None,
        limiter: asyncio.Semaphore | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.transport = transport
        self.base_url = base_url
        self.origin = base_url.origin()
        self._scheme, self._authority = base_url.scheme, base_url.raw_authority
        self.limiter = limiter
        self._base = str(base_url)
        self._prefixes: dict[tuple[str, ...], str] = {}  # ("v1", "Sinks") -> ".../v1/Sinks/"
        self._authorization = authorization
        self._headers = {
            "User-Agent": user_agent,
            "Accept": "application/json",
            "Authorization": authorization,
        }
        self._form_headers = {**self._headers, "Content-Type": _FORM}
        self._max_retries = max_retries
        self._max_concurrency = max_concurrency
        self._max_response_bytes = max_response_bytes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._slots: Slots | None = None  # made in the loop, with the gate
        self._gate = RateLimitGate()

    def __repr__(self) -> str:
        return f"<Policy {self.base_url} over {type(self.transport).__name__}>"

    @property
    def closed(self) -> bool:
        """True once `close()` has run."""
        return self._closed

    def url_for(self, *segments: str) -> URL:
        """An absolute URL under the base URL; each segment encoded as one path segment."""
        if not segments:
            return URL(f"{self._base}/", encoded=True)
        parents = segments[:-1]
        prefix = self._prefixes.get(parents)
        if prefix is None:  # the parents encoded once, kept for the next call
            prefix = "".join([f"{self._base}/", *(f"{path_segment(s)}/" for s in parents)])
            if len(self._prefixes) < _PREFIXES_KEPT:
                self._prefixes[parents] = prefix
        return URL(prefix + path_segment(segments[-1]), encoded=True)

    async def close(self) -> None:
        """Refuse every request from now on; safe to call twice (the transport is the
        owner's to close)."""
        self._closed = True

    async def request(
        self,
        method: str,
        url: URL,
        *,
        params: Params | None = None,
        form: Params | None = None,
    ) -> dict[str, Any] | None:
        """Send one request, with retries; the decoded JSON object, or None for 204."""
        self._check_origin(url)
        request = self._build(method, url, params, form)
        url = request.url
        retries = 0
        may_have_acted = False  # an earlier attempt may have reached the server
        paused = False  # the last answer was a 429 that paused the gate: no spread for us
        while True:
            status: int | None = None
            retry_after: float | None = None
            try:
                response = await self._attempt(request, paused)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                failure, error = _failure_of(exc, method, url)
                may_have_acted = may_have_acted or failure is not _retry.Failure.CONNECT
            else:
                status = self._received(request, response)
                if 200 <= status < 300:
                    return decode_success(response, method, url)
                if status == 404 and method == "DELETE" and may_have_acted:
                    logger.debug("%s %s: 404 after a lost answer: already deleted", method, url)
                    return None
                failure = _retry.Failure.STATUS
                retry_after, error = self._judge(response, method, url)
            paused = status == 429 and bool(retry_after)
            delay = self._retry_delay(method, url, failure, status, retry_after, retries, error)
            retries += 1
            await asyncio.sleep(delay)

    def _check_origin(self, url: URL) -> None:
        """Only the configured origin ever sees the credentials."""
        if url.raw_authority == self._authority and url.scheme == self._scheme:
            return  # written as the base URL writes it (every URL url_for makes)
        origin = self.origin
        if url.scheme != origin.scheme or url.host != origin.host or url.port != origin.port:
            raise InvalidRequestError(f"{url.origin()} is not the client's origin")

    def _build(self, method: str, url: URL, params: Params | None, form: Params | None) -> Request:
        """The request as it goes on the wire: query, headers, url-encoded form."""
        if params:
            url = url.extend_query(params)
        if form is None:
            return Request(method, url, self._headers)
        return Request(method, url, self._form_headers, urlencode(form).encode())

    async def _attempt(self, request: Request, paused: bool = False) -> Response:
        """One attempt: the client's cap, then the gate, then the shared cap, then the wire.

        `paused`: this request's last answer paused the gate; it leaves when the pause
        ends, without a share of the spread meant for the requests held behind it."""
        if self._loop is not asyncio.get_running_loop():
            self._enter_loop()
        slots = self._slots
        assert slots is not None
        send = self.transport.handle_async_request
        if not slots.take_now():
            await slots.take()
        try:
            if self._gate.resume_at:  # set by the first 429 with Retry-After
                await self._gate.wait(spread=not paused)
            if self._closed:  # closed while this request waited
                raise ClientClosedError(
                    f"{request.method} {request.url}: the EventsClient or its session is closed"
                )
            shared = self.limiter
            if shared is None:
                return await send(request)
            async with shared:  # taken after the gate: a paused client holds none of it
                return await send(request)
        finally:
            slots.give()

    def _received(self, request: Request, response: Response) -> int:
        """Log the answer; its status. A body over the cap (from a transport that did not
        read under it) is a `ResponseDecodeError`."""
        status = response.status
        if logger.isEnabledFor(logging.DEBUG):  # one call, not two, when it is not
            logger.debug("%s %s -> %d", request.method, request.url, status)
        if len(response.body) > self._max_response_bytes:
            raise ResponseDecodeError(
                f"{request.method} {request.url} returned a body over the "
                f"{self._max_response_bytes}-byte limit (HTTP {status}); "
                "raise max_response_bytes if this is expected",
                status=status,
            )
        return status

    def _enter_loop(self) -> None:
        """Limiters for the running loop. A move is allowed only once the old loop is
        closed (a second `asyncio.run`): the cap and the gate start over."""
        if self._closed:
            raise ClientClosedError("the EventsClient is closed; create a new one")
        loop = asyncio.get_running_loop()
        old = self._loop
        if old is not None and not old.is_closed():
            raise ClientClosedError(
                "this EventsClient's session belongs to another event loop; "
                "create one client per event loop"
            )
        self._loop = loop
        size = self._max_concurrency
        if size is None:
            size = getattr(self.transport, "pool_size", None) or sys.maxsize
        self._slots = Slots(size)
        self._gate = RateLimitGate()

    def _judge(self, response: Response, method: str, url: URL) -> tuple[float | None, EventsError]:
        """A non-2xx answer: its `Retry-After` (seconds) and its error; a 429 that names a
        pause holds every request of the client."""
        retry_after = _retry.parse_retry_after(response.retry_after)
        if response.status == 429 and retry_after:
            self._gate.pause_all(retry_after)
        return retry_after, api_error(response, method, url, retry_after)

    def _retry_delay(
        self,
        method: str,
        url: URL,
        failure: _retry.Failure,
        status: int | None,
        retry_after: float | None,
        retries: int,
        error: EventsError,
    ) -> float:
        """How long to wait before the next attempt; raises `error` when there is none."""
        if retries >= self._max_retries or not _retry.should_retry(method, failure, status):
            if retries:
                logger.debug("%s %s: giving up after %d retries: %s", method, url, retries, error)
            raise error
        delay = retry_after if retry_after is not None else _retry.backoff_delay(retries + 1)
        logger.debug(
            "%s %s: retry %d of %d in %.2fs after %s",
            method,
            url,
            retries + 1,
            self._max_retries,
            delay,
            error,
        )
        return delay


def _failure_of(exc: BaseException, method: str, url: URL) -> tuple[_retry.Failure, EventsError]:
    """What a transport's exception means for a retry, and the error it becomes."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return _retry.Failure.CONNECT, _timeout_error(method, url, exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _retry.Failure.CONNECT, _connection_error(method, url, exc)
    if isinstance(exc, asyncio.TimeoutError):
        return _retry.Failure.TIMEOUT, _timeout_error(method, url, exc)
    return _retry.Failure.DISCONNECT, _connection_error(method, url, exc)


def _connection_error(method: str, url: URL, exc: BaseException) -> TransportError:
    return TransportError(f"{method} {url} failed: {type(exc).__name__}: {exc}")


def _timeout_error(method: str, url: URL, exc: BaseException) -> EventsTimeoutError:
    detail = str(exc) or type(exc).__name__
    return EventsTimeoutError(f"{method} {url} timed out: {detail}")
