"""Running one job over every account of a fleet: one session, the fleet's caps, results
yielded as each account finishes. The audit (`fleet.py`) and Event Streams as code
(`desired/fleet.py`) are two jobs over it.

Every account gets its own client (its own credentials and its own 429 gate) on one
shared session; `max_in_flight` caps the requests in flight across the whole fleet,
`concurrency` those of one account, and `accounts_at_once` how many accounts run at a
time. Accounts are pulled from the source only as a worker frees up and results are
never held, so memory does not grow with the size of the fleet.
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
    Awaitable,
    Callable,
    Iterable,
    Sequence,
    Sized,
)
from typing import Any, Generic, TypeVar, Union

import aiohttp
import attrs

from ._shards import Shard
from ._transport import new_session
from ._validate import check_positive_int, check_seconds, is_sid
from .audit import Progress
from .client import EventsClient
from .errors import AuthenticationError, EventsError, InvalidRequestError
from .models import Account

__all__ = [
    "FleetMember",
    "FleetOptions",
    "Job",
    "Login",
    "fleet_options",
    "fleet_results",
    "label",
    "run_fleet",
]

logger = logging.getLogger("events_async")

R = TypeVar("R")


@attrs.frozen
class Login:
    """Credentials for one account: an Account SID and Auth Token, or an API key SID
    (`SK…`) and secret, with the Account SID it belongs to when known."""

    login: str
    secret: str = attrs.field(repr=False)
    account_sid: str | None = None


FleetMember = Union[Account, Login, tuple[str, str]]  # noqa: UP007 - a runtime alias on 3.10
"""One account of a fleet: a discovered `Account`, a `Login`, or a (login, secret) pair."""


def label(member: object, index: int) -> str:
    """What a result calls an account: its SID, else the login when it looks like a SID;
    otherwise a position, so a secret typed in the login's place is never shown."""
    sid: object = None
    if isinstance(member, (Account, Login)):
        sid = member.sid if isinstance(member, Account) else member.account_sid or member.login
    elif isinstance(member, (tuple, list)) and member:
        sid = member[0]
    return sid if is_sid(sid, "AC", "SK") else f"account #{index + 1}"


def _client(
    member: object,
    session: aiohttp.ClientSession,
    options: Any,
    limiter: asyncio.Semaphore | None = None,
) -> EventsClient:
    """The account's client over the fleet's session, under its shared cap (`limiter`)."""
    if isinstance(member, Account):
        if not member.auth_token:
            raise InvalidRequestError("the Accounts API listed no auth token for it")
        return EventsClient(
            member.sid, member.auth_token, session=session, limiter=limiter, **options
        )
    if isinstance(member, Login):
        login, secret, account_sid = member.login, member.secret, member.account_sid
    else:
        login, secret = member  # type: ignore[misc]
        account_sid = None
    if isinstance(login, str) and login.startswith("SK"):
        return EventsClient(
            account_sid,
            api_key=login,
            api_secret=secret,
            session=session,
            limiter=limiter,
            **options,
        )
    return EventsClient(login, secret, session=session, limiter=limiter, **options)


@attrs.frozen
class FleetOptions:
    """How a fleet is run (checked by `fleet_options`)."""

    session: aiohttp.ClientSession | None
    max_in_flight: int
    accounts_at_once: int
    concurrency: int
    account_timeout: float | None
    shard: Shard | None
    progress: Progress | None
    client_options: dict[str, Any]


def fleet_options(
    session: aiohttp.ClientSession | None,
    max_in_flight: int,
    accounts_at_once: int,
    concurrency: int,
    account_timeout: float | None,
    shard: Shard | None,
    progress: Progress | None,
    client_options: dict[str, Any],
) -> FleetOptions:
    """The options checked: positive caps, a sane timeout, no per-client session."""
    if {"session", "max_concurrency", "limiter", "transport"} & set(client_options):
        raise InvalidRequestError("pass session and max_in_flight to the fleet itself")
    return FleetOptions(
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


@attrs.frozen
class Job(Generic[R]):
    """What to do with each account, and what to yield for one that failed.

    `run(client, member, label)` does the work. `failed(label, message, signing_in)`
    stands in for an account whose job raised: `signing_in` when its credentials were
    refused or could not be used. `verb` names the work in those messages.
    """

    run: Callable[[EventsClient, Any, str], Awaitable[R]]
    failed: Callable[[str, str, bool], R]
    verb: str


async def _one(
    member: object,
    index: int,
    job: Job[R],
    options: FleetOptions,
    shared: aiohttp.ClientSession,
    limit: asyncio.Semaphore,
) -> R:
    name = label(member, index)
    try:
        client = _client(member, shared, options.client_options, limit)  # the fleet's cap
        async with client:
            work = job.run(client, member, name)
            if options.account_timeout is None:
                return await work
            return await asyncio.wait_for(work, options.account_timeout)
    except asyncio.TimeoutError:
        took = f"the {job.verb} of {name} took over {options.account_timeout:g}s"
        return job.failed(name, took, False)
    except EventsError as error:
        refused = isinstance(error, (AuthenticationError, InvalidRequestError))
        return job.failed(name, f"could not {job.verb} {name}: {error}", refused)
    except Exception as error:  # one account's surprise must not sink the others
        logger.debug("%s of %s failed", job.verb, name, exc_info=True)
        return job.failed(name, f"could not {job.verb} {name}: {type(error).__name__}", False)


async def _members(source: Iterable[Any] | AsyncIterable[Any]) -> AsyncGenerator[Any, None]:
    if isinstance(source, AsyncIterable):
        async for member in source:
            yield member
    else:
        for member in source:
            yield member


_END = object()


async def run_fleet(
    source: Iterable[Any] | AsyncIterable[Any], job: Job[R], options: FleetOptions
) -> AsyncGenerator[tuple[int, R], None]:
    """(position in the source, result) for each account, as each finishes. Only a
    failing source ends the stream with an exception; an account's failure is its result."""
    members = _members(source)
    total = _known_total(source, options.shard)
    results: asyncio.Queue[Any] = asyncio.Queue(maxsize=options.accounts_at_once)
    pulling = asyncio.Lock()
    positions = itertools.count()
    pulled = done = 0

    async def take() -> tuple[int, Any] | None:
        nonlocal pulled, total
        async with pulling:  # one pull at a time: the source need not be task-safe
            async for member in members:
                index = next(positions)
                if options.shard is None or label(member, index) in options.shard:
                    pulled += 1
                    return index, member
            total = pulled  # the source is spent: every account is known
            return None

    async def work(shared: aiohttp.ClientSession, limit: asyncio.Semaphore) -> None:
        try:
            while (taken := await take()) is not None:
                index, member = taken
                result = await _one(member, index, job, options, shared, limit)
                await results.put((index, result))
        except Exception as error:  # the source failed: the fleet's error, not an account's
            await results.put(error)
        await results.put(_END)

    async with _session(options) as shared:
        limit = asyncio.Semaphore(options.max_in_flight)
        workers = [
            asyncio.create_task(work(shared, limit)) for _ in range(options.accounts_at_once)
        ]
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
                if options.progress is not None:
                    options.progress(done, total)
                yield item
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await members.aclose()


async def fleet_results(
    source: Iterable[Any] | AsyncIterable[Any], job: Job[R], options: FleetOptions
) -> AsyncGenerator[R, None]:
    """`run_fleet`'s results alone, as each account finishes; closing it ends the run."""
    stream = run_fleet(source, job, options)
    try:
        async for _, result in stream:
            yield result
    finally:
        await stream.aclose()


def _known_total(source: Iterable[Any] | AsyncIterable[Any], shard: Shard | None) -> int | None:
    """How many accounts a source holds, when that can be told before running: a sized
    source, and with a shard a sequence (counted without running); else None."""
    if not isinstance(source, Sized):
        return None
    if shard is None:
        return len(source)
    if isinstance(source, Sequence):
        return sum(label(member, index) in shard for index, member in enumerate(source))
    return None


@contextlib.asynccontextmanager
async def _session(options: FleetOptions) -> AsyncIterator[aiohttp.ClientSession]:
    if options.session is not None:
        yield options.session
        return
    # A pool as large as the cap, so no request's deadline is spent waiting for a socket.
    async with new_session(options.max_in_flight) as own:
        yield own
