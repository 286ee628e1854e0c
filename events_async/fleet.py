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

from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from datetime import datetime, timezone
from typing import Any

import aiohttp
import attrs

from ._fleet_run import (
    FleetMember,
    FleetOptions,
    Job,
    Login,
    fleet_options,
    fleet_results,
    run_fleet,
)
from ._shards import Shard, shard_number
from .audit import (
    DEFAULT_CONCURRENCY,
    AuditReport,
    Finding,
    FindingCode,
    Progress,
    Severity,
    audit_account,
)
from .catalog import SharedCatalog
from .client import EventsClient

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

DEFAULT_MAX_IN_FLIGHT = 100
DEFAULT_ACCOUNTS_AT_ONCE = 32


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
        self.incomplete += any(f.code == FindingCode.AUDIT_INCOMPLETE for f in report.findings)
        self.errors += errors
        self.warnings += warnings
        self.info += report.count(Severity.INFO)

    def to_json(self) -> dict[str, Any]:
        """The totals as JSON (schema "events_async.fleet-summary/1")."""
        return {"schema": "events_async.fleet-summary/1", **attrs.asdict(self)}


def _unreadable(label: str, message: str, signing_in: bool) -> AuditReport:
    """The report of an account that could not be audited at all (`signing_in`: because
    its credentials could not sign in, or could not even be used)."""
    return AuditReport(
        account_sid=label,
        started_at=datetime.now(timezone.utc),
        duration_seconds=0.0,
        findings=[Finding(Severity.ERROR, FindingCode.AUDIT_INCOMPLETE, "account", message)],
        authentication_failed=signing_in,
    )


def _audit_job(options: FleetOptions, catalog_per_account: bool) -> Job[AuditReport]:
    catalog = None if catalog_per_account else SharedCatalog()  # one for the run

    async def run(client: EventsClient, member: object, label: str) -> AuditReport:
        return await audit_account(client, concurrency=options.concurrency, catalog=catalog)

    return Job(run, _unreadable, "audit")


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
    catalog_per_account: bool = False,
    **client_options: Any,
) -> AsyncGenerator[AuditReport, None]:
    """Audit every account of `accounts`, yielding each report as its account finishes.

    `accounts` may be any iterable or async iterable (`AccountsClient.subaccounts()`,
    say) of `Account`s, `Login`s or (login, secret) pairs; it is consumed lazily.
    `account_timeout` bounds one account's whole audit; `shard` audits only the accounts
    whose SID falls in it; `progress` is called with (accounts done, total), the total
    None until it is known: at once for a list (with a shard, for a sequence), else once
    the source is spent (discovery has read its last page).
    Twilio's catalog (event types, schemas) is the same for every account, so it is
    read once for the run, by the first account to need it; `catalog_per_account` reads
    it for each account instead (each report then also proves that account can read it).
    `client_options` go to every `EventsClient` (`base_url`, `timeout`, `max_retries`…).
    Without `session`, one is created (pool as large as `max_in_flight`, no cookie jar)
    and closed when the stream ends; a session given should have a pool at least that
    large, or requests spend their deadline waiting for a socket. To stop early, close
    the stream (`contextlib.aclosing`) so its session and pending audits end at once.
    """
    options = fleet_options(
        session,
        max_in_flight,
        accounts_at_once,
        concurrency,
        account_timeout,
        shard,
        progress,
        client_options,
    )
    return fleet_results(accounts, _audit_job(options, catalog_per_account), options)


async def audit_accounts(
    credentials: Iterable[FleetMember],
    *,
    session: aiohttp.ClientSession | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    accounts_at_once: int = DEFAULT_ACCOUNTS_AT_ONCE,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    progress: Progress | None = None,
    catalog_per_account: bool = False,
    **client_options: Any,
) -> list[AuditReport]:
    """Audit many accounts and return every report at once, in the order given.

    The list-returning convenience over `audit_fleet` (see it for the options); an "SK"
    login is taken as an API key. Prefer `audit_fleet` for large fleets: this one holds
    every report until the last account finishes.
    """
    options = fleet_options(
        session,
        max_in_flight,
        accounts_at_once,
        concurrency,
        None,
        None,
        progress,
        client_options,
    )
    job = _audit_job(options, catalog_per_account)
    indexed = [pair async for pair in run_fleet(credentials, job, options)]
    indexed.sort(key=lambda pair: pair[0])
    return [report for _, report in indexed]
