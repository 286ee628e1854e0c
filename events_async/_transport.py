"""One HTTP request to the Events API, end to end.

URL, auth header, form body, timeout, concurrency cap, retries, the shared rate-limit
gate, status → error, JSON decode. It knows no models: it returns decoded JSON objects.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import orjson
from yarl import URL

from . import _retry
from .errors import (
    ApiError,
    EventsError,
    EventsTimeoutError,
    InvalidRequestError,
    ResponseDecodeError,
    TransportError,
    error_class_for,
    undecodable_error_class_for,
)

__all__ = ["DEFAULT_POOL_SIZE", "DEFAULT_TIMEOUT", "Params", "Transport", "path_segment"]

logger = logging.getLogger("events_async")

DEFAULT_POOL_SIZE = 100
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=None, sock_connect=10.0, sock_read=30.0)
SNIPPET_LENGTH = 200

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
    return quote(value, safe="")


def _snippet(raw: bytes) -> str:
    return raw[:SNIPPET_LENGTH].decode("utf-8", errors="replace")


class _Answer:
    """What came back for one attempt: status, the header we care about, the body."""

    __slots__ = ("body", "retry_after", "status")

    def __init__(self, status: int, retry_after: str | None, body: bytes) -> None:
        self.status = status
        self.retry_after = retry_after
        self.body = body


class Transport:
    """Sends requests on one aiohttp session, owned or injected."""

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
    ) -> None:
        self.base_url = base_url
        self.origin = base_url.origin()
        self._base = str(base_url)
        self._headers = {
            "Authorization": authorization,
            "User-Agent": user_agent,
            "Accept": "application/json",
        }
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_concurrency = max_concurrency
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._slots: asyncio.Semaphore | None = None  # made with the session
        self._resume_at = 0.0

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
        if session is not None and self._owns_session:
            await session.close()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the EventsClient is closed; create a new one")
        session = self._session
        if session is None:
            connector = aiohttp.TCPConnector(limit=DEFAULT_POOL_SIZE)
            session = self._session = aiohttp.ClientSession(connector=connector)
        if self._slots is None:
            size = self._max_concurrency
            if size is None:
                limit = session.connector.limit if session.connector is not None else 0
                size = limit or sys.maxsize  # a pool without limit: no cap either
            self._slots = asyncio.Semaphore(size)
        return session

    async def _wait_for_gate(self) -> None:
        loop = asyncio.get_running_loop()
        # A loop, not an Event: another 429 may push the resume time further while we wait.
        while (delay := self._resume_at - loop.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def _pause_all(self, seconds: float) -> None:
        resume_at = asyncio.get_running_loop().time() + seconds
        if resume_at > self._resume_at:
            self._resume_at = resume_at
            logger.debug("rate limited: pausing every request for %.2fs", seconds)

    async def request(
        self,
        method: str,
        url: URL,
        *,
        params: Params | None = None,
        form: Params | None = None,
    ) -> dict[str, Any] | None:
        """Send one request, with retries; the decoded JSON object, or None for 204."""
        session = self._open_session()
        slots = self._slots
        assert slots is not None
        if params:
            url = url.extend_query(params)
        headers = self._headers
        body: bytes | None = None
        if form is not None:
            body = urlencode(form).encode()
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        retries = 0
        while True:
            if self._resume_at:  # set by the first 429 with Retry-After
                await self._wait_for_gate()
            status: int | None = None
            retry_after: float | None = None
            failure: _retry.Failure
            error: EventsError
            try:
                async with slots:
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
                    return _decode_success(answer, method, url)
                retry_after = _retry.parse_retry_after(answer.retry_after)
                failure, error = _retry.Failure.STATUS, _api_error(answer, method, url, retry_after)
                if status == 429 and retry_after:
                    self._pause_all(retry_after)
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
    ) -> _Answer:
        async with session.request(
            method,
            url,
            data=body,
            headers=headers,
            timeout=self._timeout,
            allow_redirects=False,
        ) as response:
            raw = await response.read()
            status = response.status
            logger.debug("%s %s -> %d", method, url, status)
            retry_after = None if status < 300 else response.headers.get("Retry-After")
            return _Answer(status, retry_after, raw)


def _connection_error(method: str, url: URL, exc: BaseException) -> TransportError:
    return TransportError(f"{method} {url} failed: {type(exc).__name__}: {exc}")


def _timeout_error(method: str, url: URL, exc: BaseException) -> EventsTimeoutError:
    detail = str(exc) or type(exc).__name__
    return EventsTimeoutError(f"{method} {url} timed out: {detail}")


def _decode_success(answer: _Answer, method: str, url: URL) -> dict[str, Any] | None:
    if answer.status == 204:
        return None
    try:
        data = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        what = "an empty body" if not answer.body else "a body that is not JSON"
        raise ResponseDecodeError(
            f"{method} {url} returned {what} (HTTP {answer.status})",
            status=answer.status,
            snippet=_snippet(answer.body),
        ) from None
    if not isinstance(data, dict):
        raise ResponseDecodeError(
            f"{method} {url} returned JSON {type(data).__name__}, not an object "
            f"(HTTP {answer.status})",
            status=answer.status,
            snippet=_snippet(answer.body),
        )
    return data


def _api_error(answer: _Answer, method: str, url: URL, retry_after: float | None) -> ApiError:
    fields: dict[str, Any] = {"status": answer.status, "method": method, "url": str(url)}
    if answer.status == 429:
        fields["retry_after"] = retry_after
    try:
        data = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        snippet = _snippet(answer.body)
        return undecodable_error_class_for(answer.status)(
            snippet=snippet, message=f"error body is not JSON: {snippet!r}", **fields
        )
    code = data.get("code")
    more_info = data.get("more_info")
    return error_class_for(answer.status)(
        code=code if isinstance(code, int) else None,
        message=str(data.get("message") or ""),
        more_info=more_info if isinstance(more_info, str) else None,
        details=data.get("details"),
        **fields,
    )
