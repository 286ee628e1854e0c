"""Every exception events_async raises.

```
EventsError
├── ApiError                 the API answered with a non-2xx status
│   ├── BadRequestError          400
│   ├── AuthenticationError      401
│   ├── PermissionDeniedError    403
│   ├── NotFoundError            404
│   ├── RateLimitError           429 (retry_after)
│   └── ServerError              5xx
├── TransportError           the request did not complete (connection, protocol)
│   ├── EventsTimeoutError       connect, a read or the whole attempt timed out
│   └── ClientClosedError        the client was closed, or is used in another event loop
├── ResponseDecodeError      a body that is not the JSON promised
├── PaginationError          a next_page_url on another origin, or a loop
├── InvalidRequestError      bad input caught before sending (param; also a ValueError)
└── WebhookError             a delivery to a receiver that cannot be trusted or read
    ├── SignatureError           no, or a wrong, X-Twilio-Signature or bodySHA256
    ├── PayloadError             a body that is not CloudEvents JSON, or over a cap
    ├── SinkProofError           a step of prove_sink that did not happen (step)
    ├── ProbeTimeoutError        no test event came in time (also an asyncio.TimeoutError)
    └── StoreError               the shared dedupe store or stream (Redis) failed: a 503
```

An error response whose body is not JSON (a proxy's HTML 502 page, say) raises a class
that is both the `ApiError` subclass for its status and a `ResponseDecodeError`.

No message or repr carries credentials: URLs hold none, and headers are never quoted.
Text the server sent is shown with control characters escaped (`str()` of an `ApiError`),
so it cannot forge lines or escape sequences on a terminal; the attributes keep it raw.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from ._text import printable

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "EventsError",
    "EventsTimeoutError",
    "InvalidRequestError",
    "NotFoundError",
    "PaginationError",
    "PayloadError",
    "PermissionDeniedError",
    "ProbeTimeoutError",
    "RateLimitError",
    "ResponseDecodeError",
    "ServerError",
    "SignatureError",
    "SinkProofError",
    "StoreError",
    "TransportError",
    "WebhookError",
]


class EventsError(Exception):
    """Base class of every error raised by events_async."""


class ApiError(EventsError):
    """The Events API answered with a non-2xx status.

    `code`, `message`, `more_info` and `details` are Twilio's error fields (None when the
    body did not carry them); `method` and `url` name the request that failed.
    """

    def __init__(
        self,
        *,
        status: int,
        code: int | None = None,
        message: str = "",
        more_info: str | None = None,
        details: Any = None,
        method: str = "",
        url: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.more_info = more_info
        self.details = details
        self.method = method
        self.url = url
        # Not super(): in the undecodable classes the next in line is ResponseDecodeError.
        Exception.__init__(self, str(self))

    def __str__(self) -> str:
        code = f" (code {self.code})" if self.code is not None else ""
        text = f"HTTP {self.status}{code} on {self.method} {self.url}"
        if self.message:
            text += f": {printable(self.message)}"
        if self.more_info:
            text += f" [{printable(self.more_info)}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, method={self.method!r}, url={self.url!r})"
        )


class BadRequestError(ApiError):
    """HTTP 400: the API rejected the request's parameters."""


class AuthenticationError(ApiError):
    """HTTP 401: missing or wrong credentials."""


class PermissionDeniedError(ApiError):
    """HTTP 403: the credentials may not do this."""


class NotFoundError(ApiError):
    """HTTP 404: no such resource."""


class RateLimitError(ApiError):
    """HTTP 429: too many requests; the API did not process this one.

    `retry_after` is the wait the API asked for, in seconds, or None.
    """

    def __init__(self, *, retry_after: float | None = None, **fields: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**fields)


class ServerError(ApiError):
    """HTTP 5xx: the API failed."""


class TransportError(EventsError):
    """The request did not complete: connection refused or dropped, protocol error."""


class EventsTimeoutError(TransportError):
    """Connecting, a read, or the whole attempt (its total deadline) timed out."""


class ClientClosedError(TransportError, RuntimeError):
    """The client is closed, or is used in an event loop other than its session's.

    Also a `RuntimeError`, which is what using a closed aiohttp session raises.
    """


class ResponseDecodeError(EventsError):
    """The response body is not the JSON the API promises.

    `status` is the HTTP status and `snippet` the start of the body, for diagnosis.
    """

    def __init__(self, message: str, *, status: int | None = None, snippet: str = "") -> None:
        self.status = status
        self.snippet = snippet
        super().__init__(message)


class PaginationError(EventsError):
    """A list's next_page_url points at another origin or back at a page already read."""


class InvalidRequestError(EventsError, ValueError):
    """Input that cannot be sent: caught before any request is made.

    `param` names the argument at fault as the call spells it (`region`, `sink_sid`,
    `types`), or is None when no one argument is (two that conflict, say). `detail` says
    what is wrong with it without naming it ("must be one DNS label …"), so a caller can
    name it in its own terms: the command line puts its flag there (`--region must be …`).
    Without a `detail` of its own, the message is its detail.
    """

    def __init__(
        self, message: str, *, param: str | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.param = param
        self.detail = message if detail is None else detail

    @classmethod
    def for_param(
        cls, param: str | None, detail: str, *, subject: str | None = None
    ) -> InvalidRequestError:
        """The error for argument `param`: "`subject` `detail`", the subject being `param`
        unless another is given ("each of types' type")."""
        subject = param if subject is None else subject
        return cls(f"{subject} {detail}" if subject else detail, param=param, detail=detail)


_STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[ApiError]:
    """The `ApiError` subclass that stands for an HTTP status."""
    if status >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status, ApiError)


@functools.cache
def undecodable_error_class_for(status: int) -> Callable[..., ApiError]:
    """The status's `ApiError` subclass that is also a `ResponseDecodeError`."""
    base = error_class_for(status)

    class UndecodableError(base, ResponseDecodeError):  # type: ignore[valid-type,misc]
        def __init__(self, *, snippet: str = "", **fields: Any) -> None:
            self.snippet = snippet
            base.__init__(self, **fields)

    UndecodableError.__name__ = UndecodableError.__qualname__ = base.__name__
    return UndecodableError


class WebhookError(EventsError):
    """A delivery to a receiver (Event Streams webhook) that cannot be trusted or read."""


class SignatureError(WebhookError):
    """The delivery is not signed by Twilio with a known token: refuse it (403)."""


class PayloadError(WebhookError):
    """The delivery's body is not CloudEvents JSON, or is over a cap."""


class SinkProofError(WebhookError):
    """A step of `prove_sink` did not happen; `step` names it."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


class ProbeTimeoutError(WebhookError, asyncio.TimeoutError):
    """No test event reached the receiver in time; the message says what did arrive.

    Also an `asyncio.TimeoutError`, which is what the wait raised before.
    """


class StoreError(WebhookError):
    """The shared dedupe store or stream (Redis) could not be reached or answered wrong.

    A receiver answers such a delivery 503, so Twilio retries it: nothing is dropped and
    nothing is counted as handled without its mark. The message never names credentials.
    """
