"""The accounts `plan`, `apply` and `export` work on, opened for the whole command.

Without fleet flags, the credentials' own account, its friendly name read from the
Accounts API when the file uses `{friendly_name}`; with `--subaccounts` or `--accounts
FILE`, a fleet (`cli/fleet.py` opens it), run by `events_async.desired` with the
audit's caps and shard. `Target` remembers the fleet's members as they are pulled, so
that `apply` on a terminal applies only those the plan just shown would change.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import attrs

from .._fleet_run import label
from ..accounts import AccountsClient
from ..client import EventsClient
from ..desired import AccountResult, StreamsFile, converge
from ..desired.converge import Exported
from ..errors import EventsError
from .connection import open_account
from .fleet import fleet_accounts, is_fleet
from .render import ProgressBar
from .stopping import Stop

__all__ = ["Target", "friendly_name", "opened"]


async def friendly_name(client: EventsClient, accounts: Callable[[], AccountsClient]) -> str:
    """The account's friendly name, from the Accounts API (for `{friendly_name}`); `Stop`
    when it cannot be read."""
    sid = client.account_sid
    why = "{friendly_name} is used, but the account's friendly name could not be read"
    try:
        async with accounts() as listing:
            async for account in listing.list(status=None):
                if account.sid == sid and account.friendly_name:
                    return account.friendly_name
    except EventsError as error:
        raise Stop(f"{why}: {error}") from None
    raise Stop(f"{why}: the Accounts API lists no friendly name for {sid}")


@attrs.define
class Target:
    """The accounts the options select, opened: one account's client, or a fleet."""

    args: argparse.Namespace
    streams: StreamsFile | None
    client: EventsClient | None = None
    friendly_name: str | None = None
    source: Any = None
    options: dict[str, Any] = attrs.field(factory=dict)
    seen: list[Any] = attrs.field(factory=list)  # the fleet's members, as pulled

    def _fleet_options(self, bar: ProgressBar, *, shard: bool = True) -> dict[str, Any]:
        args = self.args
        return {
            "max_in_flight": args.max_in_flight,
            "accounts_at_once": args.accounts_at_once,
            "concurrency": args.concurrency,
            "account_timeout": args.account_timeout,
            "shard": args.shard if shard else None,
            "progress": bar,
            **self.options,
        }

    def _source(self) -> Any:
        if isinstance(self.source, list):
            self.seen = self.source
            return self.source
        return self._recorded()

    async def _recorded(self) -> AsyncIterator[Any]:
        async for member in self.source:
            self.seen.append(member)
            yield member

    async def plan(self, bar: ProgressBar) -> AsyncGenerator[AccountResult, None]:
        """Each account's plan, as it finishes."""
        assert self.streams is not None
        if self.client is not None:
            work = converge.plan_account(
                self.client, self.streams, prune=self.args.prune,
                friendly_name=self.friendly_name, concurrency=self.args.concurrency,
            )  # fmt: skip
            yield await _timed(work, self.args.account_timeout)
            return
        results = converge.plan_fleet(
            self._source(), self.streams, prune=self.args.prune, **self._fleet_options(bar)
        )
        async with contextlib.aclosing(results):
            async for result in results:
                yield result

    async def apply(
        self, bar: ProgressBar, expected: dict[str, str] | None, only: set[str] | None = None
    ) -> AsyncGenerator[AccountResult, None]:
        """Each account's apply, as it finishes: of the fleet, or (`only`) of those
        accounts of the plan just made."""
        assert self.streams is not None
        if self.client is not None:
            sid = self.client.account_sid or ""
            yield await converge.apply_account(
                self.client, self.streams, prune=self.args.prune,
                expected=None if expected is None else expected.get(sid, ""),
                timeout=self.args.account_timeout, friendly_name=self.friendly_name,
                concurrency=self.args.concurrency,
            )  # fmt: skip
            return
        source = self._source() if only is None else self._planned(only)
        results = converge.apply_fleet(
            source, self.streams, prune=self.args.prune, expected=expected,
            **self._fleet_options(bar, shard=only is None),
        )  # fmt: skip
        async with contextlib.aclosing(results):
            async for result in results:
                yield result

    def _planned(self, only: set[str]) -> list[Any]:
        return [m for n, m in enumerate(self.seen) if label(m, n) in only]

    async def export(self, bar: ProgressBar) -> AsyncGenerator[Exported, None]:
        """Each account's file, as it finishes."""
        if self.client is not None:
            text = await _timed(
                converge.export_account(self.client, concurrency=self.args.concurrency),
                self.args.account_timeout,
            )
            yield Exported(self.client.account_sid or "", text)
            return
        results = converge.export_fleet(self._source(), **self._fleet_options(bar))
        async with contextlib.aclosing(results):
            async for result in results:
                yield result


async def _timed(work: Awaitable[Any], seconds: float | None) -> Any:
    if seconds is None:
        return await work
    try:
        return await asyncio.wait_for(work, seconds)
    except asyncio.TimeoutError:
        raise Stop(f"the account took over {seconds:g}s (--account-timeout)") from None


@contextlib.asynccontextmanager
async def opened(args: argparse.Namespace, streams: StreamsFile | None) -> AsyncIterator[Target]:
    """The selected accounts, open for the whole command (a prompt included)."""
    if is_fleet(args):
        async with fleet_accounts(args) as (accounts, options):
            yield Target(args, streams, source=accounts, options=options)
        return
    async with open_account(args) as (client, accounts):
        name = None
        if streams is not None and streams.uses_friendly_name:
            name = await friendly_name(client, accounts)
        yield Target(args, streams, client=client, friendly_name=name)
