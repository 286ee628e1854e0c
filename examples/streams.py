"""Converge the parent and every active subaccount on one file, a line per account."""

import asyncio
import contextlib

from events_async.accounts import AccountsClient
from events_async.desired import apply_fleet, parse_file

STREAMS = parse_file("""
[[sink]]
description = "orders webhook"
type = "webhook"
destination = "https://hooks.example.com/twilio/{account_sid}"

[[subscription]]
description = "delivery receipts"
sink = "orders webhook"
types = ["com.twilio.messaging.message.delivered"]
""")  # checked now, before any request: a FileError names the key path


async def main() -> None:
    async with AccountsClient() as accounts:  # the parent: TWILIO_ACCOUNT_SID/AUTH_TOKEN
        results = apply_fleet(accounts.subaccounts(include_parent=True), STREAMS)
        async with contextlib.aclosing(results):  # stop early, leave no apply behind
            async for result in results:
                made = "; ".join(f"{c.symbol} {c.action.value}" for c in result.made)
                print(result.account_sid, result.error or made or "as the file says")


asyncio.run(main())
