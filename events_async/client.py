"""`EventsClient`: configuration, the session's lifecycle, and the resource managers."""

from __future__ import annotations

import asyncio
import base64
import os
import platform
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from yarl import URL

from ._settings import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    Credentials,
    base_url_for,
    credentials_for,
)
from ._transport import Params, Policy
from ._validate import check_positive_int, check_wire_text
from ._version import __version__
from .errors import InvalidRequestError
from .pagination import AsyncPaginator, PageFormat
from .resources import EventTypesManager, SchemasManager, SinksManager, SubscriptionsManager
from .transport import AiohttpTransport, AsyncTransport

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["DEFAULT_BASE_URL", "EventsClient", "TwilioApiClient"]

T = TypeVar("T")


USER_AGENT = (
    f"events-async/{__version__} aiohttp/{aiohttp.__version__} Python/{platform.python_version()}"
)


def _basic_authorization(credentials: Credentials) -> str:
    username, password = credentials.login, credentials.secret
    param = "auth_token" if credentials.api_key is None else "api_secret"
    if not isinstance(password, str):
        raise InvalidRequestError.for_param(
            param, f"must be a string, got {type(password).__name__}", subject="a secret"
        )
    check_wire_text(password, "the auth token or API secret", param=param)
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class TwilioApiClient:
    """What every client of a Twilio API shares: credentials, the policy over one
    transport, and its lifecycle (`close()`, `async with`). See `EventsClient` for the
    options. Subclasses send their requests with `_url_for`, `_request` and `_paginate`."""

    def __init__(
        self,
        credentials: Credentials,
        base_url: URL,
        *,
        session: aiohttp.ClientSession | None,
        timeout: aiohttp.ClientTimeout | float | None,
        max_retries: int,
        max_concurrency: int | None,
        max_response_bytes: int,
        transport: AsyncTransport | None = None,
        limiter: asyncio.Semaphore | None = None,
    ) -> None:
        authorization = _basic_authorization(credentials)
        self.account_sid = credentials.account_sid
        self.api_key = credentials.api_key
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidRequestError.for_param(
                "max_retries", f"must be 0 or more, got {max_retries!r}"
            )
        if max_concurrency is not None:
            check_positive_int(max_concurrency, "max_concurrency")
        if limiter is not None and not isinstance(limiter, asyncio.Semaphore):
            raise InvalidRequestError.for_param(
                "limiter", f"must be an asyncio.Semaphore or None, got {type(limiter).__name__}"
            )
        max_response_bytes = check_positive_int(max_response_bytes, "max_response_bytes")
        self.base_url = str(base_url)
        self._owns_transport = transport is None
        if transport is None:
            transport = AiohttpTransport(
                session, timeout=timeout, max_response_bytes=max_response_bytes
            )
        else:
            _check_transport(transport, session, timeout)
        self._policy = Policy(
            transport,
            base_url=base_url,
            authorization=authorization,
            user_agent=USER_AGENT,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            limiter=limiter,
            max_response_bytes=max_response_bytes,
        )

    def __repr__(self) -> str:
        who = self.api_key if self.api_key is not None else self.account_sid
        return f"<{type(self).__name__} {who} at {self.base_url}>"

    @property
    def transport(self) -> AsyncTransport:
        """The transport requests go through: the one given as `transport=`, else the
        client's own `AiohttpTransport`."""
        return self._policy.transport

    @property
    def limiter(self) -> asyncio.Semaphore | None:
        """The cap on requests in flight shared with other clients (`limiter=`), or None."""
        return self._policy.limiter

    @property
    def closed(self) -> bool:
        """True once the client has been closed."""
        return self._policy.closed

    def _url_for(self, *segments: str) -> URL:
        """For subclasses: an absolute URL under the base URL, a path segment each."""
        return self._policy.url_for(*segments)

    async def _request(
        self, method: str, url: URL, *, params: Params | None = None, form: Params | None = None
    ) -> dict[str, Any] | None:
        """For subclasses: one request under the client's policy; its JSON object."""
        return await self._policy.request(method, url, params=params, form=form)

    def _paginate(
        self, url: URL, params: Params, page_format: PageFormat[T], *, limit: int | None = None
    ) -> AsyncPaginator[T]:
        """For subclasses: a paginator over a list at `url`, read as `page_format` says."""
        return AsyncPaginator(self._policy, url, params, page_format, limit=limit)

    async def close(self) -> None:
        """Close the session the client created (an injected session or transport is left
        open).

        Safe to call more than once; the client cannot be used afterwards.
        """
        await self._policy.close()
        transport = self._policy.transport
        if self._owns_transport and isinstance(transport, AiohttpTransport):
            await transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def _check_transport(transport: object, session: object, timeout: object) -> None:
    """A transport given with options only the default transport takes is a mistake."""
    if not callable(getattr(transport, "handle_async_request", None)):
        raise InvalidRequestError.for_param(
            "transport",
            f"must have an async handle_async_request(request), got {type(transport).__name__}",
        )
    for name, value in (("session", session), ("timeout", timeout)):
        if value is not None:
            raise InvalidRequestError.for_param(
                name, "configures the default transport; give it to the transport instead"
            )


class EventsClient(TwilioApiClient):
    """An asyncio client for the Twilio Events API v1.

    Managers (each a property below; `help()` on its class shows every method):
    `event_types` (`EventTypesManager`), `schemas` (`SchemasManager`; `schemas.versions(id)`
    is a `SchemaVersionsManager`), `sinks` (`SinksManager`), `subscriptions`
    (`SubscriptionsManager`; `subscriptions.subscribed_events(sid)` is a
    `SubscribedEventsManager`).

    Credentials are an Account SID and Auth Token, or an API key and secret. Arguments
    always win; the environment fills only what no argument gave, and an explicit pair
    is never mixed with the environment's other pair:

    | arguments given                      | signs in with                          |
    | ------------------------------------ | -------------------------------------- |
    | `api_key` and/or `api_secret`        | the key; the missing half from         |
    |                                      | `TWILIO_API_KEY` / `TWILIO_API_SECRET` |
    | `account_sid` and/or `auth_token`    | SID and token; the missing half from   |
    |                                      | `TWILIO_ACCOUNT_SID`/`TWILIO_AUTH_TOKEN`|
    | none                                 | `TWILIO_API_KEY` + `TWILIO_API_SECRET` |
    |                                      | if the key is set, else               |
    |                                      | `TWILIO_ACCOUNT_SID` + `TWILIO_AUTH_TOKEN` |

    The origin is the first of: `base_url`; `region`/`edge` (single DNS labels) as
    `https://events.{edge}.{region}.twilio.com`; `EVENTS_ASYNC_BASE_URL`;
    `TWILIO_REGION`/`TWILIO_EDGE`; `https://events.twilio.com`.

    An injected `session` is used as is and never closed here. Otherwise the client creates
    its session on first use, inside the running loop, and closes it in `close()` or on
    leaving `async with`.

    `timeout` is seconds (bounding connecting, each read and each whole attempt) or an
    `aiohttp.ClientTimeout` (one without `total` gets 60 s); None: 10 s to connect, 30 s
    per read, 60 s per attempt. `max_retries` counts retries, not attempts (0: exactly one
    attempt on the wire). `max_concurrency` caps requests in flight (None: the connection
    pool's size). `max_response_bytes` caps each response body, counted after
    decompression (default 32 MiB); a larger body raises `ResponseDecodeError`.

    `transport` replaces the default `AiohttpTransport` (see `events_async.transport`:
    `MockTransport(handler)` for tests, `FakeEventsServer.transport()` for the fake in
    process); `session` and `timeout` configure the default one, so they cannot come with
    it. An injected transport is never closed here. `limiter` is a cap on requests in
    flight shared with other clients (an `asyncio.Semaphore`): each attempt holds one of
    its slots while it is on the wire, never while it waits out a rate limit.
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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: AsyncTransport | None = None,
        limiter: asyncio.Semaphore | None = None,
    ) -> None:
        super().__init__(
            credentials_for(account_sid, auth_token, api_key, api_secret, os.environ),
            base_url_for(base_url, region, edge, os.environ),
            session=session,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            max_response_bytes=max_response_bytes,
            transport=transport,
            limiter=limiter,
        )
        policy = self._policy
        self._event_types = EventTypesManager(policy)
        self._schemas = SchemasManager(policy)
        self._sinks = SinksManager(policy)
        self._subscriptions = SubscriptionsManager(policy)

    @property
    def event_types(self) -> EventTypesManager:
        """Event types (`/v1/Types`), an `EventTypesManager`:
        `list(*, schema_id=None, page_size=None, limit=None)`, `fetch(type)`."""
        return self._event_types

    @property
    def schemas(self) -> SchemasManager:
        """Schemas and their versions (`/v1/Schemas`), a `SchemasManager`: `fetch(id)`,
        `versions(id)` → a `SchemaVersionsManager` with `list(*, page_size=None,
        limit=None)` and `fetch(schema_version)`."""
        return self._schemas

    @property
    def sinks(self) -> SinksManager:
        """Sinks (`/v1/Sinks`), a `SinksManager`: `create(*, description, sink_type,
        sink_configuration)`, `fetch(sid)`, `update(sid, *, description)`, `delete(sid)`,
        `list(*, in_use=None, status=None, page_size=None, limit=None)`, `test(sid)`,
        `validate(sid, *, test_id)`."""
        return self._sinks

    @property
    def subscriptions(self) -> SubscriptionsManager:
        """Subscriptions (`/v1/Subscriptions`), a `SubscriptionsManager`:
        `create(*, description, sink_sid, types)`, `fetch(sid)`, `update(sid, *,
        description=None, sink_sid=None)`, `delete(sid)`, `list(*, sink_sid=None,
        page_size=None, limit=None)`, `subscribed_events(subscription_sid)` → a
        `SubscribedEventsManager` with `list(*, page_size=None, limit=None)`,
        `create(*, type, schema_version=None)`, `fetch(type)`, `update(type, *,
        schema_version=None)` and `delete(type)`."""
        return self._subscriptions
