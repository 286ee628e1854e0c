"""The client's settings, read and checked: origin, timeouts, limits. Pure, no I/O.

Every number a user gives is finite and positive before it is used, and only an explicit
`base_url` can move the origin: `region` and `edge` are single DNS labels.
"""

from __future__ import annotations

import aiohttp
from yarl import URL

from ._validate import check_dns_label, check_seconds
from .errors import InvalidRequestError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TIMEOUT",
    "base_url_for",
    "timeout_for",
]

DEFAULT_BASE_URL = "https://events.twilio.com"
DEFAULT_REGION = "us1"
DEFAULT_POOL_SIZE = 100
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
DEFAULT_TOTAL_SECONDS = 60.0
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(
    total=DEFAULT_TOTAL_SECONDS, connect=None, sock_connect=10.0, sock_read=30.0
)


def base_url_for(base_url: str | None, region: str | None, edge: str | None) -> URL:
    """The API's base URL: `base_url` as given, or Twilio's host for `region`/`edge`."""
    if base_url is None:
        if region is None and edge is None:
            base_url = DEFAULT_BASE_URL
        else:
            labels = [check_dns_label(edge, "edge")] if edge is not None else []
            labels.append(DEFAULT_REGION if region is None else check_dns_label(region, "region"))
            base_url = f"https://events.{'.'.join(labels)}.twilio.com"
    if not isinstance(base_url, str):
        raise InvalidRequestError(f"base_url must be a string, got {type(base_url).__name__}")
    try:
        url = URL(base_url.rstrip("/"))
        port = url.port
    except (ValueError, UnicodeError):
        raise InvalidRequestError(f"base_url is not a valid URL: {base_url!r}") from None
    if url.scheme not in ("http", "https") or not url.host or port is None:
        raise InvalidRequestError(f"base_url must be an http(s) URL, got {base_url!r}")
    if url.user or url.password or url.query_string or url.fragment:
        raise InvalidRequestError("base_url must not carry credentials, a query or a fragment")
    return url


def timeout_for(timeout: aiohttp.ClientTimeout | float | None) -> aiohttp.ClientTimeout:
    """A `ClientTimeout` that bounds every attempt in total as well as per phase.

    Seconds bound connecting, each read and the whole attempt alike. A `ClientTimeout`
    is taken as given, except that a missing `total` becomes the default's 60 s.
    """
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, aiohttp.ClientTimeout):
        for phase in ("total", "connect", "sock_connect", "sock_read"):
            value = getattr(timeout, phase)
            if value is not None:
                check_seconds(value, f"timeout.{phase}")
        if timeout.total is None:
            return aiohttp.ClientTimeout(
                total=DEFAULT_TOTAL_SECONDS,
                connect=timeout.connect,
                sock_connect=timeout.sock_connect,
                sock_read=timeout.sock_read,
                ceil_threshold=timeout.ceil_threshold,
            )
        return timeout
    seconds = check_seconds(timeout, "timeout")
    return aiohttp.ClientTimeout(
        total=seconds, connect=None, sock_connect=seconds, sock_read=seconds
    )
