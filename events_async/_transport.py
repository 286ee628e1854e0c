"""One HTTP request to the Events API, end to end.

URL, auth header, form body, timeouts and the total deadline, concurrency cap, retries,
the shared rate-limit gate, the body cap, status → error, JSON decode. It knows no
models: it returns decoded JSON objects.

The library's behaviour does not depend on how an injected session was built: each
request sets its own headers, turns off the session's `raise_for_status`, redirects and
default auth, drops the session's cookies, and owns every resend (aiohttp's silent
resend of an idempotent request on a dropped keep-alive connection is refused, so
`max_retries=0` means exactly one attempt on the wire).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sys
import weakref
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from . import _retry
from ._responses import Answer, api_error, decode_success, read_capped
from ._settings import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_POOL_SIZE
from .errors import (
    ClientClosedError,
    EventsError,
    EventsTimeoutError,
    InvalidRequestError,
    TransportError,
)

__all__ = ["Params", "Transport", "new_session", "path_segment"]

logger = logging.getLogger("events_async")

Params = Sequence[tuple[str, str]]
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+\Z")


def path_segment(value: str) -> str:
    """`value` percent-encoded as exactly one path segment.

    `/`, `?`, `#`, spaces and Unicode are escaped; a segment of dots (`.`, `..`) is
    escaped too, so no value can climb or change the path.
    """
    if not isinstance(value, str) or not value:
        raise InvalidRequestError("a path parameter must be a non-empty string")
    if value.strip(".") == "":
        return value.replace(".", "%2E")
    if (value.isascii() and value.isalnum()) or _UNRESERVED.match(value):
        return value  # SIDs, event types, schema ids: nothing to escape
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise InvalidRequestError("a path parameter is not valid Unicode") from None


class _OneSend:
    """Per-attempt aiohttp middleware: our credentials on the wire, no cookies, no resend."""

    __slots__ = ("_authorization", "_sent")

    def __init__(self, authorization: str) -> None:
        self._authorization = authorization
        self._sent = False

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        if self._sent:  # aiohttp resending on a stale keep-alive connection: ours to decide
            raise aiohttp.ServerDisconnectedError("connection dropped; resend left to retries")
        self._sent = True
        headers = request.headers
        headers["Authorization"] = self._authorization
        headers.pop("Cookie", None)
        return await handler(request)


_OWN_SESSIONS: weakref.WeakSet[aiohttp.ClientSession] = weakref.WeakSet()
"""Sessions the library made: no cookie jar, no default auth, middlewares or resend."""


def new_session(pool_size: int = DEFAULT_POOL_SIZE) -> aiohttp.ClientSession:
    """A session as the library wants one, made in the running loop.

    No cookie jar (no account's cookies reach another), and aiohttp's silent resend of
    an idempotent request on a dropped keep-alive connection is off: resends are ours.
    Requests on it need no per-attempt middleware, which saves a tenth of a request's CPU.
    """
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=pool_size), cookie_jar=aiohttp.DummyCookieJar()
    )
    if hasattr(session, "_retry_connection"):  # private in aiohttp; without it, keep the guard
        session._retry_connection = False
        _OWN_SESSIONS.add(session)
    return session


class Transport:
    """Sends requests on one aiohttp session, owned or injected, in one event loop."""

    def __init__(
        self,
        *,
        base_url: URL,
        authorization: str,
        user_agent: str,
        timeout: aiohttp.ClientTimeout,
        max_retries: int,
        max_concurrency: int | None,
        session: aiohttp.ClientSession | None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = base_url
        self.origin = base_url.origin()
        self._base = str(base_url)
        self._authorization = authorization
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_concurrency = max_concurrency
        self._max_response_bytes = max_response_bytes
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._slots: asyncio.Semaphore | None = None  # made with the session
        self.shared_slots: asyncio.Semaphore | None = None  # a cap shared with other clients
        self._own_clean_session = False  # made by new_session: no per-attempt middleware
        self._resume_at = 0.0
        self._gate_spread = 0.0

    def __repr__(self) -> str:
        return f"<Transport {self.base_url}>"

    @property
    def closed(self) -> bool:
        """True once `close()` has run."""
        return self._closed

    def url_for(self, *segments: str) -> URL:
        """An absolute URL under the base URL; each segment encoded as one path segment."""
        path = "/".join([path_segment(segment) for segment in segments])
        return URL(f"{self._base}/{path}", encoded=True)

    async def close(self) -> None:
        """Close the session if this transport created it; safe to call twice."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            if self._loop is asyncio.get_running_loop():
                await session.close()
            else:
                _abandon(session)

    def _open_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("the EventsClient is closed; create a new one")
        loop = asyncio.get_running_loop()
        session = self._session
        if self._loop is not loop:
            if self._loop is not None:
                session = self._move_to(loop)
            self._loop = loop
        if session is None:
            session = self._session = new_session()
        if self._slots is None:
            # The header goes in the request's own headers (what mocks see) unless the
            # session has a default auth, which aiohttp refuses to combine with one; the
            # per-attempt middleware sets it on the wire either way.
            if session.auth is None:
                self._headers["Authorization"] = self._authorization
            self._own_clean_session = session in _OWN_SESSIONS
            size = self._max_concurrency
            if size is None:
                limit = session.connector.limit if session.connector is not None else 0
                size = limit or sys.maxsize  # a pool without limit: no cap either
            self._slots = asyncio.Semaphore(size)
        return session

    def _move_to(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession | None:
        """Start over in a new event loop once the old one is closed (a second
        `asyncio.run`): the old session's sockets are closed, a new session made later."""
        old_loop, session = self._loop, self._session
        if not self._owns_session or (old_loop is not None and not old_loop.is_closed()):
            raise ClientClosedError(
                "this EventsClient's session belongs to another event loop; "
                "create one client per event loop"
            )
        if session is not None:
            _abandon(session)
        logger.debug("event loop changed: starting a new session")
        self._session = self._slots = None
        self._resume_at = self._gate_spread = 0.0
        return None

    async def _wait_for_gate(self) -> None:
        """Hold this request until the rate-limit pause, plus its share of the spread, ends."""
        loop = asyncio.get_running_loop()
        share = random.random()
        # A loop, not an Event: another 429 may push the resume time further while we wait.
        while (delay := self._resume_at + share * self._gate_spread - loop.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def _pause_all(self, seconds: float) -> None:
        resume_at = asyncio.get_running_loop().time() + seconds
        if resume_at > self._resume_at:
            self._resume_at = resume_at
            self._gate_spread = _retry.gate_spread(seconds)
            logger.debug("rate limited: pausing every request for %.2fs", seconds)

    def _check_origin(self, url: URL) -> None:
        if (
            url.scheme != self.origin.scheme
            or url.host != self.origin.host
            or (url.port != self.origin.port)
        ):
            raise InvalidRequestError(f"{url.origin()} is not the client's origin")

    async def request(
        self,
        method: str,
        url: URL,
        *,
        params: Params | None = None,
        form: Params | None = None,
    ) -> dict[str, Any] | None:
        """Send one request, with retries; the decoded JSON object, or None for 204.

        A DELETE answered 404 after an earlier attempt may have reached the server (it
        timed out or its connection dropped) counts as done: that attempt deleted it.
        """
        session = self._open_session()
        slots = self._slots
        assert slots is not None
        self._check_origin(url)
        if params:
            url = url.extend_query(params)
        headers = self._headers
        body: bytes | None = None
        if form is not None:
            body = urlencode(form).encode()
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        retries = 0
        may_have_acted = False  # an earlier attempt may have reached the server
        while True:
            status: int | None = None
            retry_after: float | None = None
            failure: _retry.Failure
            error: EventsError
            try:
                async with slots:
                    if self._resume_at:  # set by the first 429 with Retry-After
                        await self._wait_for_gate()
                    shared = self.shared_slots
                    if shared is None:
                        answer = await self._send(session, method, url, headers, body)
                    else:  # taken after our own gate: a paused client holds none of it
                        async with shared:
                            answer = await self._send(session, method, url, headers, body)
            except aiohttp.ConnectionTimeoutError as exc:
                failure, error = _retry.Failure.CONNECT, _timeout_error(method, url, exc)
            except aiohttp.ClientConnectorError as exc:
                failure, error = _retry.Failure.CONNECT, _connection_error(method, url, exc)
            except asyncio.TimeoutError as exc:
                failure, error = _retry.Failure.TIMEOUT, _timeout_error(method, url, exc)
            except aiohttp.ClientError as exc:
                failure, error = _retry.Failure.DISCONNECT, _connection_error(method, url, exc)
            else:
                status = answer.status
                if 200 <= status < 300:
                    return decode_success(answer, method, url)
                if status == 404 and method == "DELETE" and may_have_acted:
                    logger.debug("%s %s: 404 after a lost answer: already deleted", method, url)
                    return None
                retry_after = _retry.parse_retry_after(answer.retry_after)
                failure, error = _retry.Failure.STATUS, api_error(answer, method, url, retry_after)
                if status == 429 and retry_after:
                    self._pause_all(retry_after)
            if failure is _retry.Failure.TIMEOUT or failure is _retry.Failure.DISCONNECT:
                may_have_acted = True
            if retries >= self._max_retries or not _retry.should_retry(method, failure, status):
                if retries:
                    logger.debug(
                        "%s %s: giving up after %d retries: %s", method, url, retries, error
                    )
                raise error
            retries += 1
            delay = retry_after if retry_after is not None else _retry.backoff_delay(retries)
            logger.debug(
                "%s %s: retry %d of %d in %.2fs after %s",
                method,
                url,
                retries,
                self._max_retries,
                delay,
                error,
            )
            await asyncio.sleep(delay)

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: URL,
        headers: dict[str, str],
        body: bytes | None,
    ) -> Answer:
        if self._closed or session.closed:
            raise ClientClosedError(f"{method} {url}: the EventsClient or its session is closed")
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
                raise_for_status=False,
                middlewares=() if self._own_clean_session else (_OneSend(self._authorization),),
            ) as response:
                raw = await read_capped(response, self._max_response_bytes, method, url)
                status = response.status
                logger.debug("%s %s -> %d", method, url, status)
                retry_after = None if status < 300 else response.headers.get("Retry-After")
                return Answer(status, retry_after, raw)
        except RuntimeError as exc:
            if session.closed:  # closed under us, between our check and aiohttp's
                raise ClientClosedError(f"{method} {url}: the session was closed") from exc
            raise


def _abandon(session: aiohttp.ClientSession) -> None:
    """Drop a session whose event loop is closed, without awaiting anything.

    Neither aiohttp nor asyncio can close a transport once its loop is closed (closing
    schedules a callback on that loop), so the pooled sockets are closed here directly;
    otherwise each would warn of being unclosed when collected. This reaches into private
    attributes (`_conns`, `_sock`) and does nothing where they are missing.
    """
    connector = session.connector
    pool: dict[Any, Any] = getattr(connector, "_conns", {})
    for entries in list(pool.values()):
        for protocol, _ in entries:
            transport = getattr(protocol, "transport", None)
            sock = getattr(transport, "_sock", None)
            if sock is not None:
                sock.close()
                transport._sock = None  # type: ignore[union-attr]
    pool.clear()
    session.detach()


def _connection_error(method: str, url: URL, exc: BaseException) -> TransportError:
    return TransportError(f"{method} {url} failed: {type(exc).__name__}: {exc}")


def _timeout_error(method: str, url: URL, exc: BaseException) -> EventsTimeoutError:
    detail = str(exc) or type(exc).__name__
    return EventsTimeoutError(f"{method} {url} timed out: {detail}")
