"""Plan, apply and export Event Streams files: for one account, or a fleet, streamed.

```python
streams = load_file("streams.toml")
async with AccountsClient(parent_sid, parent_token) as accounts:
    async for result in apply_fleet(accounts.subaccounts(), streams):
        print(result.account_sid, result.ok, len(result.made))
```

An account's failure is its own result (`error`), never an exception: the others go
on. A fleet runs over the audit's machinery — one session, `max_in_flight` across every
account, `accounts_at_once`, `shard` — and reads Twilio's catalog (the latest schema
versions) once per run; pass `catalog_per_account=True` to read it per account instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Mapping
from typing import Any

import aiohttp
import attrs

from .._fleet_run import FleetMember, FleetOptions, Job, fleet_options, fleet_results
from .._shards import Shard
from ..audit import DEFAULT_CONCURRENCY, Progress
from ..catalog import SharedCatalog
from ..client import EventsClient
from ..errors import AuthenticationError, EventsError
from ..fleet import DEFAULT_MAX_IN_FLIGHT
from ..models import Account
from .account import apply_changes, latest_versions, read_current
from .export import export_text
from .file import FileError, StreamsFile
from .planner import Change, plan
from .results import AccountResult, fingerprint

__all__ = [
    "Exported",
    "apply_account",
    "apply_fleet",
    "export_account",
    "export_fleet",
    "plan_account",
    "plan_fleet",
]

_NOT_PLANNED = "the saved plan has no plan for this account"
_STALE = "the account (or the file) changed since the plan was made; plan it again"


async def plan_account(
    client: EventsClient,
    streams: StreamsFile,
    *,
    prune: bool = False,
    friendly_name: str | None = None,
    catalog: SharedCatalog | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    environ: Mapping[str, str] | None = None,
) -> AccountResult:
    """Read the account and plan the changes that make it what `streams` says.

    `friendly_name` fills `{friendly_name}` (required when the file uses it); `catalog`
    shares schema versions across accounts; `environ` is where secrets are read (the
    process environment by default)."""
    sid = client.account_sid or ""
    try:
        if streams.uses_friendly_name and friendly_name is None:
            raise FileError(
                "{friendly_name}", "is used, but the account's friendly name is not known"
            )
        desired = streams.for_account(sid, friendly_name or "", environ=environ)
        current = await read_current(client, concurrency=concurrency)
        types = {  # a pinned version needs no lookup
            t.type for s in desired.subscriptions for t in s.types if t.schema_version is None
        }
        latest = await (
            latest_versions(client, types)
            if catalog is None
            else catalog.latest_versions(client, types)
        )
    except (EventsError, FileError) as error:
        return AccountResult(
            sid, error=str(error), signing_in_failed=isinstance(error, AuthenticationError)
        )
    planned = plan(desired, current, latest=latest, prune=prune)
    return AccountResult(sid, planned, fingerprint(current, latest, desired, prune))


async def apply_account(
    client: EventsClient,
    streams: StreamsFile,
    *,
    prune: bool = False,
    expected: str | None = None,
    timeout: float | None = None,
    friendly_name: str | None = None,
    catalog: SharedCatalog | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    environ: Mapping[str, str] | None = None,
) -> AccountResult:
    """Plan the account, then make the plan's changes in order (see `plan_account`).

    With `expected` (a saved plan's fingerprint) nothing is written unless the account
    is as it was when that plan was made. The first failing change stops the account
    where it is: `error` says why and `made` what was done, and the next apply converges
    it. `timeout` bounds the whole account; on expiry, the same."""
    made: list[Change] = []
    waiting: list[str] = []
    planned = AccountResult(client.account_sid or "")

    async def work() -> None:
        nonlocal planned
        planned = await plan_account(
            client, streams, prune=prune, friendly_name=friendly_name, catalog=catalog,
            concurrency=concurrency, environ=environ,
        )  # fmt: skip
        if planned.error is None and expected is not None and expected != planned.fingerprint:
            why = _NOT_PLANNED if not expected else _STALE
            planned = attrs.evolve(planned, error=why, stale=bool(expected))
        if planned.ok and planned.plan is not None:
            await apply_changes(client, planned.plan.changes, made, waiting)

    error: str | None = None
    try:
        await (work() if timeout is None else asyncio.wait_for(work(), timeout))
    except asyncio.TimeoutError:
        error = f"the apply took over {timeout:g}s"
    except EventsError as failed:
        error = str(failed)
    return attrs.evolve(
        planned,
        applied=True,
        made=tuple(made),
        awaiting_validation=tuple(waiting),
        error=planned.error or error,
    )


@attrs.frozen
class Exported:
    """One account's export: the file's text, or why it could not be read."""

    account_sid: str
    text: str | None = None
    error: str | None = None


async def export_account(client: EventsClient, *, concurrency: int = DEFAULT_CONCURRENCY) -> str:
    """The account's sinks and subscriptions as an Event Streams file (see `export_text`)."""
    return export_text(await read_current(client, concurrency=concurrency))


Accounts = Iterable[FleetMember] | AsyncIterable[FleetMember]


def _friendly_name(member: object) -> str | None:
    return member.friendly_name if isinstance(member, Account) else None


def _options(
    session: aiohttp.ClientSession | None,
    max_in_flight: int,
    accounts_at_once: int | None,
    concurrency: int,
    account_timeout: float | None,
    shard: Shard | None,
    progress: Progress | None,
    client_options: dict[str, Any],
) -> FleetOptions:
    at_once = max_in_flight if accounts_at_once is None else accounts_at_once
    return fleet_options(
        session, max_in_flight, at_once, concurrency, account_timeout, shard, progress,
        client_options,
    )  # fmt: skip


def _failed(label: str, message: str, signing_in: bool) -> AccountResult:
    return AccountResult(label, error=message, signing_in_failed=signing_in)


def plan_fleet(
    accounts: Accounts,
    streams: StreamsFile,
    *,
    prune: bool = False,
    catalog_per_account: bool = False,
    session: aiohttp.ClientSession | None = None,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    accounts_at_once: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    account_timeout: float | None = None,
    shard: Shard | None = None,
    progress: Progress | None = None,
    **client_options: Any,
) -> AsyncGenerator[AccountResult, None]:
    """Plan every account of `accounts`, yielding each result as its account finishes.

    The options are `audit_fleet`'s, but `accounts_at_once` defaults to `max_in_flight`:
    an account's requests form a chain (its lists, then a sink, then the subscriptions
    on it), about two in flight at a time, so fewer accounts would leave the cap
    unfilled. Twilio's catalog is read once for the run, unless `catalog_per_account`."""
    options = _options(
        session, max_in_flight, accounts_at_once, concurrency, account_timeout, shard, progress,
        client_options,
    )  # fmt: skip
    shared = None if catalog_per_account else SharedCatalog()

    async def run(client: EventsClient, member: object, label: str) -> AccountResult:
        return await plan_account(
            client, streams, prune=prune, friendly_name=_friendly_name(member),
            catalog=shared, concurrency=options.concurrency,
        )  # fmt: skip

    return fleet_results(accounts, Job(run, _failed, "plan"), options)


def apply_fleet(
    accounts: Accounts,
    streams: StreamsFile,
    *,
    prune: bool = False,
    expected: Mapping[str, str] | None = None,
    catalog_per_account: bool = False,
    session: aiohttp.ClientSession | None = None,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    accounts_at_once: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    account_timeout: float | None = None,
    shard: Shard | None = None,
    progress: Progress | None = None,
    **client_options: Any,
) -> AsyncGenerator[AccountResult, None]:
    """Apply `streams` to every account of `accounts`, yielding each result as its
    account finishes (the options are `plan_fleet`'s).

    With `expected` (`read_saved_plan`'s fingerprints), an account is written only if it
    is as it was when the saved plan was made; an account the plan does not name is
    refused."""
    options = _options(
        session, max_in_flight, accounts_at_once, concurrency, None, shard, progress,
        client_options,
    )  # fmt: skip
    shared = None if catalog_per_account else SharedCatalog()

    async def run(client: EventsClient, member: object, label: str) -> AccountResult:
        want = None if expected is None else expected.get(client.account_sid or label, "")
        return await apply_account(
            client, streams, prune=prune, expected=want, timeout=account_timeout,
            friendly_name=_friendly_name(member), catalog=shared,
            concurrency=options.concurrency,
        )  # fmt: skip

    return fleet_results(accounts, Job(run, _failed, "apply"), options)


def export_fleet(
    accounts: Accounts,
    *,
    session: aiohttp.ClientSession | None = None,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    accounts_at_once: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    account_timeout: float | None = None,
    shard: Shard | None = None,
    progress: Progress | None = None,
    **client_options: Any,
) -> AsyncGenerator[Exported, None]:
    """Export every account of `accounts`, yielding each as its account finishes."""
    options = _options(
        session, max_in_flight, accounts_at_once, concurrency, account_timeout, shard, progress,
        client_options,
    )  # fmt: skip

    async def run(client: EventsClient, member: object, label: str) -> Exported:
        text = await export_account(client, concurrency=options.concurrency)
        return Exported(client.account_sid or label, text)

    def failed(label: str, message: str, signing_in: bool) -> Exported:
        return Exported(label, error=message)

    return fleet_results(accounts, Job(run, failed, "export"), options)
