"""The client's settings, read and checked: origin, timeouts, limits. Pure, no I/O.

Every number a user gives is finite and positive before it is used, and only an explicit
`base_url` can move the origin: `region` and `edge` are single DNS labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import aiohttp
from yarl import URL

from ._validate import check_dns_label, check_seconds, check_sid
from .errors import InvalidRequestError

__all__ = [
    "BASE_URL_VARIABLE",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TIMEOUT",
    "Credentials",
    "base_url_for",
    "credentials_for",
    "timeout_for",
    "wire_timeout",
]

DEFAULT_BASE_URL = "https://events.twilio.com"
BASE_URL_VARIABLE = "EVENTS_ASYNC_BASE_URL"
DEFAULT_REGION = "us1"
DEFAULT_POOL_SIZE = 100
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
DEFAULT_TOTAL_SECONDS = 60.0
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(
    total=DEFAULT_TOTAL_SECONDS, connect=None, sock_connect=10.0, sock_read=30.0
)


class Credentials(NamedTuple):
    """Who signs in: `login` (an Account SID or API key SID) and its secret."""

    login: str
    secret: str
    account_sid: str | None
    api_key: str | None


def _from(value: str | None, environ: Mapping[str, str], name: str) -> str | None:
    return value if value is not None else (environ.get(name) or None)


def credentials_for(
    account_sid: str | None,
    auth_token: str | None,
    api_key: str | None,
    api_secret: str | None,
    environ: Mapping[str, str],
) -> Credentials:
    """Credentials from arguments first, the environment only for what no argument gave;
    an explicit pair is never mixed with the environment's other pair. The precedence
    table is `EventsClient`'s docstring (and the README's)."""
    explicit_key = api_key is not None or api_secret is not None
    explicit_token = account_sid is not None or auth_token is not None
    use_key = explicit_key or (not explicit_token and bool(environ.get("TWILIO_API_KEY")))
    account_sid = _from(account_sid, environ, "TWILIO_ACCOUNT_SID")
    if account_sid is not None:
        check_sid(account_sid, "AC", "account_sid", secret=True)
    if use_key:
        api_key = _from(api_key, environ, "TWILIO_API_KEY")
        api_secret = _from(api_secret, environ, "TWILIO_API_SECRET")
        if api_key is None:
            raise InvalidRequestError(
                "api_secret needs api_key (or TWILIO_API_KEY)",
                param="api_key",
                detail="is missing: an API secret needs its key (or set TWILIO_API_KEY)",
            )
        check_sid(api_key, "SK", "api_key", secret=True)
        if not api_secret:
            raise InvalidRequestError(
                "api_key needs api_secret (or TWILIO_API_SECRET)",
                param="api_secret",
                detail="is missing: an API key needs its secret (or set TWILIO_API_SECRET)",
            )
        return Credentials(api_key, api_secret, account_sid, api_key)
    auth_token = _from(auth_token, environ, "TWILIO_AUTH_TOKEN")
    if account_sid is None or not auth_token:
        raise InvalidRequestError(
            "no credentials: give an Account SID and Auth Token (or an API key and its "
            "secret), or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        )
    return Credentials(account_sid, auth_token, account_sid, None)


def _bad_base_url(detail: str) -> InvalidRequestError:
    return InvalidRequestError.for_param("base_url", detail)


def base_url_for(
    base_url: str | None,
    region: str | None,
    edge: str | None,
    environ: Mapping[str, str] | None = None,
) -> URL:
    """The API's base URL, from the first of: `base_url`; `region`/`edge`; the variables
    `EVENTS_ASYNC_BASE_URL`, then `TWILIO_REGION`/`TWILIO_EDGE`; Twilio's default host."""
    if base_url is None and region is None and edge is None and environ is not None:
        base_url = environ.get(BASE_URL_VARIABLE) or None
        if base_url is None:
            region = environ.get("TWILIO_REGION") or None
            edge = environ.get("TWILIO_EDGE") or None
    if base_url is None:
        if region is None and edge is None:
            base_url = DEFAULT_BASE_URL
        else:
            labels = [check_dns_label(edge, "edge")] if edge is not None else []
            labels.append(DEFAULT_REGION if region is None else check_dns_label(region, "region"))
            base_url = f"https://events.{'.'.join(labels)}.twilio.com"
    if not isinstance(base_url, str):
        raise _bad_base_url(f"must be a string, got {type(base_url).__name__}")
    try:
        url = URL(base_url.rstrip("/"))
        port = url.port
    except (ValueError, UnicodeError):
        raise _bad_base_url(f"is not a valid URL: {base_url!r}") from None
    if url.scheme not in ("http", "https") or not url.host or port is None:
        raise _bad_base_url(f"must be an http(s) URL, got {base_url!r}")
    if url.user or url.password or url.query_string or url.fragment:
        raise _bad_base_url("must not carry credentials, a query or a fragment")
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
                check_seconds(value, f"timeout.{phase}", param="timeout")
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


def wire_timeout(timeout: aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    """What aiohttp keeps of `timeout`: its connect phases. The total and the read
    deadline are the transport's own (`events_async._deadline`): aiohttp's arm a timer
    per request and re-arm one on every chunk received."""
    return aiohttp.ClientTimeout(
        total=None,
        connect=timeout.connect,
        sock_connect=timeout.sock_connect,
        sock_read=None,
        ceil_threshold=timeout.ceil_threshold,
    )
