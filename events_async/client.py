"""`EventsClient`: configuration, the session's lifecycle, and the resource managers."""

from __future__ import annotations

import base64
import os
import platform
from types import TracebackType

import aiohttp
from yarl import URL

from ._transport import DEFAULT_TIMEOUT, Transport
from ._validate import check_positive_int, check_sid
from ._version import __version__
from .errors import InvalidRequestError
from .resources import EventTypes, Schemas, Sinks, Subscriptions

__all__ = ["DEFAULT_BASE_URL", "EventsClient"]

DEFAULT_BASE_URL = "https://events.twilio.com"
DEFAULT_REGION = "us1"


USER_AGENT = (
    f"events-async/{__version__} aiohttp/{aiohttp.__version__} Python/{platform.python_version()}"
)


def _setting(value: str | None, env_name: str) -> str | None:
    if value is None:
        value = os.environ.get(env_name) or None
    return value


def _basic_authorization(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _base_url(base_url: str | None, region: str | None, edge: str | None) -> URL:
    if base_url is None:
        if region is None and edge is None:
            base_url = DEFAULT_BASE_URL
        else:
            parts = [p for p in (edge, region or DEFAULT_REGION) if p]
            base_url = f"https://events.{'.'.join(parts)}.twilio.com"
    url = URL(base_url.rstrip("/"))
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidRequestError(f"base_url must be an http(s) URL, got {base_url!r}")
    if url.user or url.password or url.query_string or url.fragment:
        raise InvalidRequestError("base_url must not carry credentials, a query or a fragment")
    return url


def _timeout(timeout: aiohttp.ClientTimeout | float | None) -> aiohttp.ClientTimeout:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, aiohttp.ClientTimeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise InvalidRequestError(
            f"timeout must be positive seconds or a ClientTimeout, got {timeout!r}"
        )
    seconds = float(timeout)
    return aiohttp.ClientTimeout(total=None, connect=None, sock_connect=seconds, sock_read=seconds)


class EventsClient:
    """An asyncio client for the Twilio Events API v1.

    Credentials are an Account SID and Auth Token, or an API key and secret; those not
    given are read from `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_API_KEY` and
    `TWILIO_API_SECRET`. `region`/`edge` (or `TWILIO_REGION`/`TWILIO_EDGE`) pick a regional
    host; `base_url` overrides the host outright.

    An injected `session` is used as is and never closed here. Otherwise the client creates
    its session on first use, inside the running loop, and closes it in `close()` or on
    leaving `async with`.

    `timeout` is an `aiohttp.ClientTimeout` or seconds for connecting and for each read
    (None: 10 s to connect, 30 s per read). `max_retries` counts retries, not attempts
    (0 disables them). `max_concurrency` caps requests in flight (None: the connection
    pool's size).
    """

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        base_url: str | None = None,
        region: str | None = None,
        edge: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: aiohttp.ClientTimeout | float | None = None,
        max_retries: int = 2,
        max_concurrency: int | None = None,
    ) -> None:
        self.account_sid = _setting(account_sid, "TWILIO_ACCOUNT_SID")
        api_key = _setting(api_key, "TWILIO_API_KEY")
        if api_key is not None:
            api_secret = _setting(api_secret, "TWILIO_API_SECRET")
            check_sid(api_key, "SK", "api_key")
            if not api_secret:
                raise InvalidRequestError("api_key needs api_secret (or TWILIO_API_SECRET)")
            authorization = _basic_authorization(api_key, api_secret)
        else:
            auth_token = _setting(auth_token, "TWILIO_AUTH_TOKEN")
            if self.account_sid is None or not auth_token:
                raise InvalidRequestError(
                    "no credentials: pass account_sid and auth_token (or api_key and "
                    "api_secret), or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
                )
            authorization = _basic_authorization(self.account_sid, auth_token)
        if self.account_sid is not None:
            check_sid(self.account_sid, "AC", "account_sid")
        self.api_key = api_key
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidRequestError(f"max_retries must be 0 or more, got {max_retries!r}")
        if max_concurrency is not None:
            check_positive_int(max_concurrency, "max_concurrency")
        region = _setting(region, "TWILIO_REGION")
        edge = _setting(edge, "TWILIO_EDGE")
        self.base_url = str(_base_url(base_url, region, edge))
        self._transport = Transport(
            base_url=URL(self.base_url),
            authorization=authorization,
            user_agent=USER_AGENT,
            timeout=_timeout(timeout),
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            session=session,
        )
        self.event_types = EventTypes(self._transport)
        """Event types (`/v1/Types`)."""
        self.schemas = Schemas(self._transport)
        """Schemas and their versions (`/v1/Schemas`)."""
        self.sinks = Sinks(self._transport)
        """Sinks, with test and validate (`/v1/Sinks`)."""
        self.subscriptions = Subscriptions(self._transport)
        """Subscriptions and their subscribed events (`/v1/Subscriptions`)."""

    def __repr__(self) -> str:
        who = self.api_key if self.api_key is not None else self.account_sid
        return f"<EventsClient {who} at {self.base_url}>"

    @property
    def closed(self) -> bool:
        """True once the client has been closed."""
        return self._transport.closed

    async def close(self) -> None:
        """Close the session the client created (an injected one is left open).

        Safe to call more than once; the client cannot be used afterwards.
        """
        await self._transport.close()

    async def __aenter__(self) -> EventsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
