"""`FakeEventsServer`: a stateful, in-memory Events API v1 on a loopback port or in process."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from ..client import EventsClient
from ..webhooks.events import TEST_EVENT_TYPE
from .accounts_api import AccountsApi
from .answers import Exchange, error_response, exchange, http_refusal, misbehave
from .auth import basic_credentials, same_secret
from .catalog import DEFAULT_CATALOG, Catalog
from .control import ControlApi
from .delivery import Deliverer, Delivery, cloud_event
from .faults import Fault, FaultPlan
from .handlers import Handlers
from .inprocess import IN_PROCESS_URL, InProcessTransport
from .paging import Pager
from .state import SUBACCOUNT_STATUSES, FakeAccount, FakeError, FakeSink

__all__ = ["Exchange", "FakeEventsServer"]

logger = logging.getLogger("events_async.testing")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeEventsServer:
    """The Events API v1, in memory, on an ephemeral loopback port or in process.

    `async with FakeEventsServer() as fake:` starts it; `fake.url` is its origin and
    `fake.client()` an `EventsClient` for its default account (`fake.account`).
    `fake.transport()` answers in process, without a socket, started or not:
    `fake.client(transport=fake.transport())`. A fresh
    fake holds the catalog but no sinks or subscriptions. More accounts come from
    `add_account()`; faults are injected with `inject()` or `fail_next()`;
    `request_count()` tells what was asked of it, and `peak_in_flight` the most requests
    it was answering at once.

    Webhook sinks start `active`, as Twilio documents today; `webhooks_start_active=False`
    gives the older lifecycle (`initialized`, then Test and Validate before a subscription),
    which sinks of the other types always follow. `catalog` defaults to `DEFAULT_CATALOG`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        catalog: Catalog | None = None,
        max_sinks: int = 100,
        max_subscriptions: int = 100,
        webhooks_start_active: bool = True,
        seed: int | None = None,
        record: bool = False,
        deliverer: Deliverer | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.catalog = DEFAULT_CATALOG if catalog is None else catalog
        self._limits: dict[str, Any] = {
            "max_sinks": max_sinks,
            "max_subscriptions": max_subscriptions,
            "webhooks_start_active": webhooks_start_active,
        }
        self.accounts: dict[str, FakeAccount] = {}
        self._api_keys: dict[str, FakeAccount] = {}
        self.account = self.add_account()
        self.faults = FaultPlan(seed)
        self.pager = Pager(secrets.token_bytes(32))
        self.requests: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.exchanges: list[Exchange] | None = [] if record else None
        self.url = ""
        self._runner: web.AppRunner | None = None
        self.deliverer = deliverer or Deliverer(seed=seed)

    def __repr__(self) -> str:
        return f"<FakeEventsServer {self.url or 'not started'}>"

    # lifecycle ---------------------------------------------------------------------------

    def application(self) -> web.Application:
        """A new aiohttp application serving this fake: the Events API, the Accounts API
        and the control path, behind the fake's middleware (counts, faults, records)."""
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(Handlers(self).routes())
        app.add_routes(AccountsApi(self).routes())
        app.add_routes(ControlApi(self).routes())  # /_fake/emit: outside Twilio's API
        return app

    def transport(self, *, timeout: float | None = None) -> InProcessTransport:
        """A transport that answers in this process, without a socket (see
        `events_async.testing.inprocess`); `timeout` bounds each request in seconds."""
        return InProcessTransport(self, timeout=timeout)

    async def start(self) -> None:
        """Listen on the loopback port; `url` is set once this returns."""
        app = self.application()
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = self._runner.addresses
        port = sockets[0][1]
        self.url = f"http://{self.host}:{port}"

    async def stop(self) -> None:
        """Finish deliveries in flight and stop listening; safe to call twice."""
        await self.deliverer.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeEventsServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # accounts and clients ----------------------------------------------------------------

    def add_account(self) -> FakeAccount:
        """A new, empty account with its own SID and auth token."""
        account = FakeAccount.new(self.catalog, **self._limits)
        self.accounts[account.sid] = account
        return account

    def add_subaccount(
        self,
        owner: FakeAccount | None = None,
        *,
        friendly_name: str | None = None,
        status: str = "active",
    ) -> FakeAccount:
        """A new, empty subaccount of `owner` (default: the default account), listed to
        the owner by the Accounts API (`/2010-04-01/Accounts.json`) with its own token.

        `status` is "active", "suspended" or "closed"; only an active account can sign in.
        """
        if status not in SUBACCOUNT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(SUBACCOUNT_STATUSES)}")
        owner = owner or self.account
        account = self.add_account()
        account.owner_sid = owner.sid
        account.status = status
        account.friendly_name = friendly_name or f"Subaccount {len(self.accounts) - 1}"
        return account

    def add_api_key(self, account: FakeAccount | None = None) -> tuple[str, str]:
        """A new API key SID and secret for `account` (default: the default account)."""
        account = account or self.account
        key, secret = account.add_api_key()
        self._api_keys[key] = account
        return key, secret

    def client(self, account: FakeAccount | None = None, **options: Any) -> EventsClient:
        """An `EventsClient` for this fake, signed in as `account` (default: the default).

        With `transport=fake.transport()` the fake need not be started: the client's
        origin is then `fake.url` if it is, else `IN_PROCESS_URL`."""
        if not self.url and "transport" not in options:
            raise RuntimeError("start the FakeEventsServer before asking it for a client")
        base_url = self.url or IN_PROCESS_URL
        account = account or self.account
        return EventsClient(account.sid, account.auth_token, base_url=base_url, **options)

    def authenticate(self, request: web.Request) -> FakeAccount:
        """The account whose credentials the request carries, or a 401 (also for an
        account that is suspended or closed)."""
        refused = FakeError(401, 20003, "Authentication Error - invalid username")
        credentials = basic_credentials(request.headers.get("Authorization", ""))
        if credentials is None:
            raise refused
        login, password = credentials
        account = self.accounts.get(login)
        if account is None or not same_secret(password, account.auth_token):
            account = self._api_keys.get(login)
            if account is None or not same_secret(password, account.api_keys[login]):
                raise refused
        if account.status != "active":
            raise FakeError(401, 20003, f"Authentication Error - the account is {account.status}")
        return account

    def _signed_in_as(self, request: web.Request) -> str | None:
        """The account SID the request claims (unverified): whom a per-account fault hits."""
        credentials = basic_credentials(request.headers.get("Authorization", ""))
        if credentials is None:
            return None
        account = self._api_keys.get(credentials[0])
        return account.sid if account is not None else credentials[0]

    def test_id(self, sink_sid: str, account: FakeAccount | None = None) -> str:
        """The id of the last test event sent to a sink: what `validate` must quote.

        Raises `LookupError` when the sink was never tested (or does not exist).
        """
        try:
            test_id = (account or self.account).sink(sink_sid).test_id
        except FakeError:
            raise LookupError(f"the fake has no sink {sink_sid!r}") from None
        if test_id is None:
            raise LookupError(
                f"no test event was sent to {sink_sid}; call client.sinks.test() first"
            )
        return test_id

    # faults and counts -------------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        """Put a fault in force (see `events_async.testing.faults`)."""
        return self.faults.add(fault)

    def fail_next(
        self,
        route: str = "*",
        *,
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer the next `times` matching requests with `status` and Twilio's error JSON."""
        return self.inject(Fault(route, status=status, times=times, retry_after=retry_after))

    def request_count(self, route: str = "*") -> int:
        """Requests received for `route` ("GET /v1/Sinks/{Sid}", "POST *" or "*")."""
        probe = Fault(route)
        return sum(
            count for key, count in self.requests.items() if probe.matches(*key.split(" ", 1))
        )

    # the middleware ----------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        info = request.match_info
        route = info.route.resource.canonical if info.route.resource is not None else request.path
        return await self.serve(request, handler, route)

    async def serve(self, request: web.Request, handler: Handler, route: str) -> web.StreamResponse:
        """One request through the fake, as its middleware runs it on a socket or the
        in-process transport runs it without one: counted by `route` (the route's
        canonical path), faulted, answered in Twilio's shape, recorded."""
        self.requests[f"{request.method} {route}"] += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            account = self._signed_in_as(request) if self.faults.per_account else None
            delay, fault = self.faults.pick(request.method, route, account)
            if delay:
                await asyncio.sleep(delay)
            if fault is not None and not fault.after:
                return misbehave(request, fault)
            response = await self._answer(request, handler)
            if fault is not None:
                return misbehave(request, fault)
            if self.exchanges is not None:
                await self._record(request, response)
            return response
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The handler's answer; every refusal, aiohttp's own included, as Twilio's JSON."""
        try:
            return await handler(request)
        except FakeError as error:
            return error_response(error)
        except web.HTTPException as refused:
            if refused.status < 400:
                raise
            return http_refusal(request, refused)
        except Exception:  # a bug in the fake: still Twilio's JSON, and a log line
            logger.exception("the fake failed on %s %s", request.method, request.path)
            return error_response(FakeError(500, 20500, "Internal Server Error"))

    async def _record(self, request: web.Request, response: web.StreamResponse) -> None:
        assert self.exchanges is not None
        self.exchanges.append(await exchange(request, response))

    # deliveries --------------------------------------------------------------------------

    def deliver_test_event(self, sink: FakeSink, account: FakeAccount | None = None) -> None:
        """Send the CloudEvents test event to a webhook sink, signed as Twilio signs it."""
        event = cloud_event(
            TEST_EVENT_TYPE,
            {"test_id": sink.test_id},
            "https://events-schemas.twilio.com/EventStreams.TestSink/1",
            source="Sink",
        )
        self.deliverer.to_sink(sink, (account or self.account).auth_token, [event])

    def emit(
        self,
        event_type: str,
        data: dict[str, Any] | None = None,
        *,
        count: int = 1,
        account: FakeAccount | None = None,
    ) -> list[Delivery]:
        """Publish `count` events of a catalog type (default account): every active
        webhook sink with a subscription to the type receives them — in one delivery when
        the sink batches events, one delivery each otherwise. Returns the deliveries
        started; `await fake.deliveries_settled()` waits for them (retries included)."""
        entry = self.catalog.types.get(event_type)
        if entry is None:
            raise ValueError(f"{event_type!r} is not in the fake's catalog")
        account = account or self.account
        schema = f"https://events-schemas.twilio.com/{entry.schema_id}/"
        deliveries: list[Delivery] = []
        for subscription in account.subscriptions.values():
            subscribed = subscription.events.get(event_type)
            sink = account.sinks.get(subscription.sink_sid)
            if subscribed is None or sink is None or sink.status != "active":
                continue
            events = [
                cloud_event(
                    event_type,
                    dict(data or {}),
                    f"{schema}{subscribed.schema_version}",
                    source=f"/v1/Accounts/{account.sid}",
                )
                for _ in range(count)
            ]
            deliveries += self.deliverer.to_sink(sink, account.auth_token, events)
        return deliveries

    async def deliveries_settled(self) -> None:
        """Wait until every delivery in flight, retries included, has ended."""
        await self.deliverer.settle()
