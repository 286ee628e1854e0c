"""Audits of whole fleets: many accounts over one session, each report yielded as its
account finishes.

```python
async with AccountsClient(parent_sid, parent_token) as accounts:
    async for report in audit_fleet(accounts.subaccounts()):
        print(report.account_sid, report.has_errors)
```

Every account gets its own client (its own credentials and its own 429 gate) on one
shared session; `max_in_flight` caps the requests in flight across the whole fleet,
`concurrency` those of one account, and `accounts_at_once` how many accounts are audited
at a time. Accounts are pulled from the source only as a slot frees up and reports are
never held, so memory does not grow with the size of the fleet. An account that cannot
be audited — bad credentials, timeouts, anything — yields its own report with an
AUDIT_INCOMPLETE finding; only a failing source (say, discovery that cannot sign in)
ends the stream with an exception.

`Shard("2/8")`-style splitting is a stable hash of the account SID, so separate machines
given `1/N` … `N/N` audit every account exactly once between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Sequence,
    Sized,
)
from datetime import datetime, timezone
from typing import Any, Union

import aiohttp
import attrs

from ._shards import Shard, shard_number
from ._transport import new_session
from ._validate import check_positive_int, check_seconds, is_sid
from .audit import DEFAULT_CONCURRENCY, AuditReport, Finding, Progress, Severity, audit_account
from .client import EventsClient
from .errors import AuthenticationError, EventsError, InvalidRequestError
from .models import Account

__all__ = [
    "DEFAULT_ACCOUNTS_AT_ONCE",
    "DEFAULT_MAX_IN_FLIGHT",
    "FleetMember",
    "FleetSummary",
    "Login",
    "Shard",
    "audit_accounts",
    "audit_fleet",
    "shard_number",
]

logger = logging.getLogger("events_async")

DEFAULT_MAX_IN_FLIGHT = 100
DEFAULT_ACCOUNTS_AT_ONCE = 32


@attrs.frozen
class Login:
    """Credentials for one account: an Account SID and Auth Token, or an API key SID
    (`SK…`) and secret, with the Account SID it belongs to when known."""

    login: str
    secret: str = attrs.field(repr=False)
    account_sid: str | None = None


FleetMember = Union[Account, Login, tuple[str, str]]  # noqa: UP007 - a runtime alias on 3.10
"""One account to audit: a discovered `Account`, a `Login`, or a (login, secret) pair."""


@attrs.define
class FleetSummary:
    """Running totals over a fleet's reports: add each as it arrives, keep none."""

    accounts: int = 0
    with_errors: int = 0
    with_warnings: int = 0
    incomplete: int = 0
    errors: int = 0
    warnings: int = 0
    info: int = 0

    def add(self, report: AuditReport) -> None:
        """Count one account's report in."""
        errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
        self.accounts += 1
        self.with_errors += errors > 0
        self.with_warnings += warnings > 0
        self.incomplete += any(f.code == "AUDIT_INCOMPLETE" for f in report.findings)
        self.errors += errors
        self.warnings += warnings
        self.info += report.count(Severity.INFO)

    def to_json(self) -> dict[str, Any]:
        """The totals as JSON (schema "events_async.fleet-summary/1")."""
        return {"schema": "events_async.fleet-summary/1", **attrs.asdict(self)}


def _label(member: object, index: int) -> str:
    """What a report calls an account: its SID, else the login when it looks like a SID;
    otherwise a position, so a secret typed in the login's place is never shown."""
    sid: object = None
    if isinstance(member, (Account, Login)):
        sid = member.sid if isinstance(member, Account) else member.account_sid or member.login
    elif isinstance(member, (tuple, list)) and member:
        sid = member[0]
    return sid if is_sid(sid, "AC", "SK") else f"account #{index + 1}"


def _client(member: object, session: aiohttp.ClientSession, options: Any) -> EventsClient:
    if isinstance(member, Account):
        if not member.auth_token:
            raise InvalidRequestError("the Accounts API listed no auth token for it")
        return EventsClient(member.sid, member.auth_token, session=session, **options)
    if isinstance(member, Login):
        login, secret, account_sid = member.login, member.secret, member.account_sid
    else:
        login, secret = member  # type: ignore[misc]
        account_sid = None
    if isinstance(login, str) and login.startswith("SK"):
        return EventsClient(
            account_sid, api_key=login, api_secret=secret, session=session, **options
        )
    return EventsClient(login, secret, session=session, **options)


def _unreadable(label: str, message: str, *, signing_in: bool = False) -> AuditReport:
    """The report of an account that could not be audited at all (`signing_in`: because
    its credentials could not sign in, or could not even be used)."""
    return AuditReport(
        account_sid=label,
        started_at=datetime.now(timezone.utc),
        duration_seconds=0.0,
        findings=[Finding(Severity.ERROR, "AUDIT_INCOMPLETE", "account", message)],
        authentication_failed=signing_in,
    )


@attrs.frozen
class _Plan:
    session: aiohttp.ClientSession | None
    max_in_flight: int
    accounts_at_once: int
    concurrency: int
    account_timeout: float | None
    shard: Shard | None
    progress: Progress | None
    client_options: dict[str, Any]


async def _audit_one(
    member: object,
    index: int,
    plan: _Plan,
    shared: aiohttp.ClientSession,
    limit: asyncio.Semaphore,
) -> AuditReport:
    label = _label(member, index)
    try:
        client = _client(member, shared, plan.client_options)
        client._transport.shared_slots = limit  # the fleet's cap, across every account
        async with client:
            audit = audit_account(client, concurrency=plan.concurrency)
            report = await (
                audit
                if plan.account_timeout is None
                else asyncio.wait_for(audit, plan.account_timeout)
            )
    except asyncio.TimeoutError:
        return _unreadable(label, f"the audit of {label} took over {plan.account_timeout:g}s")
    except EventsError as error:
        refused = isinstance(error, (AuthenticationError, InvalidRequestError))
        return _unreadable(label, f"could not audit {label}: {error}", signing_in=refused)
    except Exception as error:  # one account's surprise must not sink the others
        logger.debug("audit of %s failed", label, exc_info=True)
        return _unreadable(label, f"could not audit {label}: {type(error).__name__}")
    return report


async def _members(source: Iterable[Any] | AsyncIterable[Any]) -> AsyncGenerator[Any, None]:
    if isinstance(source, AsyncIterable):
        async for member in source:
            yield member
    else:
        for member in source:
            yield member


_END = object()


async def _indexed_reports(
    source: Iterable[Any] | AsyncIterable[Any], plan: _Plan
) -> AsyncGenerator[tuple[int, AuditReport], None]:
    """(position in the source, report) for each account, as each finishes."""
    members = _members(source)
    total = _known_total(source, plan.shard)
    results: asyncio.Queue[Any] = asyncio.Queue(maxsize=plan.accounts_at_once)
    pulling = asyncio.Lock()
    positions = itertools.count()
    pulled = done = 0

    async def take() -> tuple[int, Any] | None:
        nonlocal pulled, total
        async with pulling:  # one pull at a time: the source need not be task-safe
            async for member in members:
                index = next(positions)
                if plan.shard is None or _label(member, index) in plan.shard:
                    pulled += 1
                    return index, member
            total = pulled  # the source is spent: every account is known
            return None

    async def work(shared: aiohttp.ClientSession, limit: asyncio.Semaphore) -> None:
        try:
            while (taken := await take()) is not None:
                index, member = taken
                report = await _audit_one(member, index, plan, shared, limit)
                await results.put((index, report))
        except Exception as error:  # the source failed: the fleet's error, not an account's
            await results.put(error)
        await results.put(_END)

    async with _session(plan) as shared:
        limit = asyncio.Semaphore(plan.max_in_flight)
        workers = [asyncio.create_task(work(shared, limit)) for _ in range(plan.accounts_at_once)]
        try:
            running = len(workers)
            while running:
                item = await results.get()
                if item is _END:
                    running -= 1
                    continue
                if isinstance(item, BaseException):
                    raise item
                done += 1
                if plan.progress is not None:
                    plan.progress(done, total)
                yield item
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await members.aclose()


def _known_total(source: Iterable[Any] | AsyncIterable[Any], shard: Shard | None) -> int | None:
    """How many accounts a source holds, when that can be told before auditing: a sized
    source, and with a shard a sequence (counted without auditing); else None."""
    if not isinstance(source, Sized):
        return None
    if shard is None:
        return len(source)
    if isinstance(source, Sequence):
        return sum(_label(member, index) in shard for index, member in enumerate(source))
    return None


@contextlib.asynccontextmanager
async def _session(plan: _Plan) -> AsyncIterator[aiohttp.ClientSession]:
    if plan.session is not None:
        yield plan.session
        return
    # A pool as large as the cap, so no request's deadline is spent waiting for a socket.
    async with new_session(plan.max_in_flight) as own:
        yield own


def _plan(
    session: aiohttp.ClientSession | None,
    max_in_flight: int,
    accounts_at_once: int,
    concurrency: int,
    account_timeout: float | None,
    shard: Shard | None,
    progress: Progress | None,
    client_options: dict[str, Any],
) -> _Plan:
    if "session" in client_options or "max_concurrency" in client_options:
        raise InvalidRequestError("pass session and max_in_flight to the fleet audit itself")
    return _Plan(
        session=session,
        max_in_flight=check_positive_int(max_in_flight, "max_in_flight"),
        accounts_at_once=check_positive_int(accounts_at_once, "accounts_at_once"),
        concurrency=check_positive_int(concurrency, "concurrency"),
        account_timeout=None
        if account_timeout is None
        else check_seconds(account_timeout, "account_timeout"),
        shard=shard,
        progress=progress,
        client_options=client_options,
    )


def audit_fleet(
    accounts: Iterable[FleetMember] | AsyncIterable[FleetMember],
    *,
    session: aiohttp.ClientSession | None = None,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    accounts_at_once: int = DEFAULT_ACCOUNTS_AT_ONCE,
    concurrency: int = DEFAULT_CONCURRENCY,
    account_timeout: float | None = None,
    shard: Shard | None = None,
    progress: Progress | None = None,
    **client_options: Any,
) -> AsyncGenerator[AuditReport, None]:
    """Audit every account of `accounts`, yielding each report as its account finishes.

    `accounts` may be any iterable or async iterable (`AccountsClient.subaccounts()`,
    say) of `Account`s, `Login`s or (login, secret) pairs; it is consumed lazily.
    `account_timeout` bounds one account's whole audit; `shard` audits only the accounts
    whose SID falls in it; `progress` is called with (accounts done, total), the total
    None until it is known: at once for a list (with a shard, for a sequence), else once
    the source is spent (discovery has read its last page).
    `client_options` go to every `EventsClient` (`base_url`, `timeout`, `max_retries`…).
    Without `session`, one is created (pool as large as `max_in_flight`, no cookie jar)
    and closed when the stream ends; a session given should have a pool at least that
    large, or requests spend their deadline waiting for a socket. To stop early, close the stream
    (`contextlib.aclosing`) so its session and pending audits end at once.
    """
    plan = _plan(
        session,
        max_in_flight,
        accounts_at_once,
        concurrency,
        account_timeout,
        shard,
        progress,
        client_options,
    )
    return _reports(accounts, plan)


async def _reports(
    accounts: Iterable[Any] | AsyncIterable[Any], plan: _Plan
) -> AsyncGenerator[AuditReport, None]:
    stream = _indexed_reports(accounts, plan)
    try:
        async for _, report in stream:
            yield report
    finally:
        await stream.aclose()


async def audit_accounts(
    credentials: Iterable[FleetMember],
    *,
    session: aiohttp.ClientSession | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    accounts_at_once: int = DEFAULT_ACCOUNTS_AT_ONCE,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    progress: Progress | None = None,
    **client_options: Any,
) -> list[AuditReport]:
    """Audit many accounts and return every report at once, in the order given.

    The list-returning convenience over `audit_fleet` (see it for the options); an "SK"
    login is taken as an API key. Prefer `audit_fleet` for large fleets: this one holds
    every report until the last account finishes.
    """
    plan = _plan(
        session,
        max_in_flight,
        accounts_at_once,
        concurrency,
        None,
        None,
        progress,
        client_options,
    )
    indexed = [pair async for pair in _indexed_reports(credentials, plan)]
    indexed.sort(key=lambda pair: pair[0])
    return [report for _, report in indexed]
