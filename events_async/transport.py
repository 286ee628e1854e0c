"""The transport: how one request reaches an Events API and its answer comes back.

One async method, `handle_async_request(request) -> response`, as in httpx. The client
keeps the policy above it (the origin check, the rate-limit gate, the limiters, retries,
the Authorization header, logging); a transport only moves bytes.

- `AiohttpTransport` — the default: one aiohttp session, owned (made lazily in the running
  loop, remade in a new loop once the old one is closed) or injected (used as is, never
  closed), each body read under a running cap.
- `MockTransport(handler)` — for users' tests: `handler(request)` returns a `Response`,
  directly or awaited.
- `events_async.testing.FakeEventsServer(...).transport()` — the stateful fake, in process,
  without a socket.

```python
def handler(request: Request) -> Response:
    return Response(200, json={"sinks": [], "meta": {"key": "sinks"}})

async with EventsClient("AC…", "token", transport=MockTransport(handler)) as client:
    assert await client.sinks.list().collect() == []
```

A transport signals a failure by raising: `asyncio.TimeoutError` (the attempt timed out;
it may have reached the server), `aiohttp.ClientConnectorError` (it never did) or any other
`aiohttp.ClientError` (the connection dropped). The client retries those as its policy says;
anything else propagates untouched.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._deadline import Deadlines
from ._responses import Answer, read_capped
from ._settings import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_POOL_SIZE, timeout_for, wire_timeout
from ._validate import check_positive_int
from .errors import ClientClosedError

__all__ = [
    "AiohttpTransport",
    "AsyncTransport",
    "MockHandler",
    "MockTransport",
    "Request",
    "Response",
    "new_session",
]

logger = logging.getLogger("events_async")


class Request:
    """One request as the client sends it: method, absolute URL (query included), headers
    (`Authorization` among them) and the url-encoded form body, or None."""

    __slots__ = ("body", "headers", "method", "url")

    def __init__(
        self, method: str, url: URL, headers: Mapping[str, str], body: bytes | None = None
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"

    def form(self) -> list[tuple[str, str]]:
        """The form body as (name, value) pairs, in order; empty without a body."""
        if not self.body:
            return []
        return parse_qsl(self.body.decode(), keep_blank_values=True)


class Response(Answer):
    """One answer: status, headers (case-insensitive) and the whole body.

    `Response(200, json={...})` encodes a JSON body; `body=` gives the bytes as they are.
    """

    __slots__ = ("headers",)

    def __init__(
        self,
        status: int,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | bytearray = b"",
        json: Any = None,
    ) -> None:
        if json is not None:
            body = orjson.dumps(json)
        if headers is None:
            headers = _NO_HEADERS
        elif not isinstance(headers, (CIMultiDictProxy, CIMultiDict)):
            headers = CIMultiDict(headers)
        # The slots are Answer's, set here directly: this runs once per request.
        self.status = status
        self.retry_after = None if status < 300 else headers.get("Retry-After")
        self.body = body
        self.headers: Mapping[str, str] = headers

    def __repr__(self) -> str:
        return f"<Response {self.status}, {len(self.body)} bytes>"


_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


def _answer(status: int, headers: CIMultiDictProxy[str], body: bytes | bytearray) -> Response:
    """A `Response` from aiohttp's own parts, without `__init__`'s checks: once a request."""
    answer = Response.__new__(Response)
    answer.status = status
    answer.retry_after = None if status < 300 else headers.get("Retry-After")
    answer.body = body
    answer.headers = headers
    return answer


class AsyncTransport(Protocol):
    """What the client sends requests through: one async method."""

    async def handle_async_request(self, request: Request) -> Response:
        """Send `request` once (no retries: the client owns every resend) and return the
        whole answer, whatever its status."""
        ...  # pragma: no cover


MockHandler = Callable[[Request], Response | Awaitable[Response]]
"""A `MockTransport`'s handler: a request in, a response out (or an awaitable of one)."""


class MockTransport:
    """A transport that answers with `handler(request)`, for unit tests without a server.

    The handler may be a plain function or a coroutine function; it may raise what a
    transport raises (see the module's docstring) to play a failure.
    """

    def __init__(self, handler: MockHandler) -> None:
        self.handler = handler

    def __repr__(self) -> str:
        return f"<MockTransport {getattr(self.handler, '__name__', self.handler)!r}>"

    async def handle_async_request(self, request: Request) -> Response:
        """The handler's answer to `request`."""
        answer = self.handler(request)
        if answer.__class__ is Response:  # the common case, checked first
            return answer
        if inspect.isawaitable(answer):
            answer = await answer
        if not isinstance(answer, Response):
            raise TypeError(
                f"a MockTransport handler must return a Response, not {type(answer).__name__}"
            )
        return answer


class _OneSend:
    """Per-attempt aiohttp middleware: our credentials on the wire, no cookies, no resend."""

    __slots__ = ("_authorization", "_sent")

    def __init__(self, authorization: str | None) -> None:
        self._authorization = authorization
        self._sent = False

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        if self._sent:  # aiohttp resending on a stale keep-alive connection: ours to decide
            raise aiohttp.ServerDisconnectedError("connection dropped; resend left to retries")
        self._sent = True
        headers = request.headers
        if self._authorization is not None:
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


class AiohttpTransport:
    """The default transport: requests on one aiohttp session, in one event loop.

    Without `session`, one is made on first use inside the running loop (a pool of
    `pool_size` connections, no cookie jar) and closed by `aclose()`; used again in a new
    event loop once its own has closed (a second `asyncio.run`), it starts a new session.
    An injected `session` is used as is, never closed here, and only in its own loop.

    Each request sets its own headers and turns off the session's `raise_for_status`,
    redirects, default auth and cookies; aiohttp's silent resend of a request on a dropped
    keep-alive connection is refused. `timeout` is as for `EventsClient`: aiohttp keeps
    its connect phases, the transport itself its total and read deadlines (see
    `events_async._deadline`: the head within the read timeout of the attempt's start,
    then no read timeout without a chunk of the body). Each body is read under a running
    cap of `max_response_bytes`, counted after decompression.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: aiohttp.ClientTimeout | float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout_for(timeout)
        self._wire_timeout = wire_timeout(self._timeout)  # connecting only: aiohttp's
        self._deadlines: Deadlines | None = None  # the attempts' own, made in the loop
        self._max_response_bytes = check_positive_int(max_response_bytes, "max_response_bytes")
        self._pool_size = check_positive_int(pool_size, "pool_size")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._clean = False  # a session new_session made: no per-attempt middleware
        self._strip_authorization = False  # the session has a default auth of its own

    def __repr__(self) -> str:
        whose = "own" if self._owns_session else "injected"
        return f"<AiohttpTransport ({whose} session)>"

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session in use (None until the first request made one)."""
        return self._session

    @property
    def owns_session(self) -> bool:
        """True when this transport made its session (and closes it)."""
        return self._owns_session

    @property
    def timeout(self) -> aiohttp.ClientTimeout:
        """Each attempt's timeouts."""
        return self._timeout

    @property
    def pool_size(self) -> int | None:
        """How many connections the pool opens at once (None: no limit)."""
        if self._owns_session:
            return self._pool_size
        connector = self._session.connector if self._session is not None else None
        return (connector.limit or None) if connector is not None else None

    async def aclose(self) -> None:
        """Close the session if this transport made it; safe to call twice."""
        self._closed = True
        if self._deadlines is not None:
            self._deadlines.close()
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            if self._loop is asyncio.get_running_loop():
                await session.close()
            else:
                _abandon(session)

    async def handle_async_request(self, request: Request) -> Response:
        """Send `request` once on the session; the answer with its body read under the cap."""
        session = self._session
        if self._loop is not asyncio.get_running_loop() or session is None:
            session = self._open()
        if self._closed:  # a session closed under us is aiohttp's RuntimeError, below
            raise ClientClosedError(
                f"{request.method} {request.url}: the EventsClient or its session is closed"
            )
        headers = request.headers
        middlewares: tuple[_OneSend, ...] = ()
        if not self._clean:
            authorization = headers.get("Authorization")
            if self._strip_authorization:  # aiohttp refuses a header beside a default auth
                headers = {k: v for k, v in headers.items() if k != "Authorization"}
            middlewares = (_OneSend(authorization),)
        method, url = request.method, request.url
        deadlines = self._deadlines
        assert deadlines is not None
        task = asyncio.current_task()
        assert task is not None
        watch = deadlines.watch(task)
        try:
            async with session.request(
                method,
                url,
                data=request.body,
                headers=headers,
                timeout=self._wire_timeout,
                allow_redirects=False,
                raise_for_status=False,
                middlewares=middlewares,
            ) as response:
                watch.response = response
                watch.moved()
                raw = await read_capped(response, self._max_response_bytes, method, url, watch)
                return _answer(response.status, response.headers, raw)
        except asyncio.CancelledError:
            error = watch.failure()  # past a deadline: the timeout; else a cancel
            if error is None:
                raise
            raise error from None
        except RuntimeError as exc:
            if session.closed:  # closed under us, between our check and aiohttp's
                raise ClientClosedError(f"{method} {url}: the session was closed") from exc
            raise
        finally:
            deadlines.done(watch)

    def _open(self) -> aiohttp.ClientSession:
        """The session for the running loop, made (or remade after a loop move) as needed."""
        if self._closed:
            raise ClientClosedError("the EventsClient is closed; create a new one")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                self._move_to_new_loop()
            self._loop = loop
            timeout = self._timeout
            self._deadlines = Deadlines(loop, total=timeout.total, read=timeout.sock_read)
        session = self._session
        if session is None:
            session = self._session = new_session(self._pool_size)
        self._clean = session in _OWN_SESSIONS
        self._strip_authorization = session.auth is not None
        return session

    def _move_to_new_loop(self) -> None:
        """Start over once the old loop is closed: its sockets are closed here, a new
        session made next. An injected session cannot move."""
        old_loop, session = self._loop, self._session
        if not self._owns_session or (old_loop is not None and not old_loop.is_closed()):
            raise ClientClosedError(
                "this EventsClient's session belongs to another event loop; "
                "create one client per event loop"
            )
        if session is not None:
            _abandon(session)
        logger.debug("event loop changed: starting a new session")
        self._session = None


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
