"""Audit a parent account and every active subaccount, one line per account as it ends."""

import asyncio
import contextlib

from events_async.accounts import AccountsClient
from events_async.fleet import Shard, audit_fleet


async def main() -> None:
    async with AccountsClient() as accounts:  # the parent: TWILIO_ACCOUNT_SID/AUTH_TOKEN
        reports = audit_fleet(
            accounts.subaccounts(status="active", include_parent=True),  # lazily
            max_in_flight=100,  # requests in flight across the whole fleet
            accounts_at_once=32,  # accounts audited at a time
            concurrency=10,  # requests in flight for one account
            account_timeout=120,  # past it, that account's report says so
            shard=Shard(1, 1),  # this machine's share of the fleet: Shard(k, n)
        )
        async with contextlib.aclosing(reports):  # stop early, leave no audit behind
            async for report in reports:
                print(report.account_sid, "errors" if report.has_errors else "clean")


asyncio.run(main())
