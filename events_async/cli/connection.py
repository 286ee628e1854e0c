"""Options every API command takes, and the client they describe (real or the fake demo)."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ..accounts import AccountsClient
from ..client import EventsClient
from .render import render
from .spec import Arg, Handler

__all__ = [
    "CONNECTION_OPTIONS",
    "ENVIRONMENT",
    "api",
    "open_account",
    "open_client",
    "output_width",
]

# The variable each option falls back to (the client reads it when the flag is absent), so
# a message about a value from the environment names the variable, not a flag never typed.
ENVIRONMENT = {
    "account_sid": "TWILIO_ACCOUNT_SID",
    "auth_token": "TWILIO_AUTH_TOKEN",
    "api_key": "TWILIO_API_KEY",
    "api_secret": "TWILIO_API_SECRET",
    "base_url": "EVENTS_ASYNC_BASE_URL",
    "region": "TWILIO_REGION",
    "edge": "TWILIO_EDGE",
}

CONNECTION_OPTIONS = (
    Arg(("--account-sid",), "Account SID (default: $TWILIO_ACCOUNT_SID)"),
    Arg(("--auth-token",), "Auth Token (default: $TWILIO_AUTH_TOKEN)"),
    Arg(("--api-key",), "API key SID, instead of the Account SID (default: $TWILIO_API_KEY)"),
    Arg(("--api-secret",), "API key secret (default: $TWILIO_API_SECRET)"),
    Arg(("--base-url",), "API origin, e.g. a fake's (default: $EVENTS_ASYNC_BASE_URL)"),
    Arg(("--region",), "Twilio region, e.g. ie1 (default: $TWILIO_REGION)"),
    Arg(("--edge",), "Twilio edge location, e.g. dublin (default: $TWILIO_EDGE)"),
    Arg(
        ("--timeout",),
        "seconds allowed to connect, per read and per attempt (default: 10/30/60)",
        {"type": float, "metavar": "SECONDS"},
    ),
    Arg(("--max-retries",), "retries per request (default: 2)", {"type": int, "default": 2}),
    Arg(("--fake",), "run against an in-process fake demo account", {"action": "store_true"}),
    Arg(("--json",), "print JSON instead of tables", {"action": "store_true"}),
    Arg(("--wide",), "show every field, lines never cut", {"action": "store_true"}),
)

Call = Callable[[EventsClient, argparse.Namespace], Awaitable[Any]]


@contextlib.asynccontextmanager
async def open_client(args: argparse.Namespace) -> AsyncIterator[EventsClient]:
    """The client the options describe; with `--fake`, one for a seeded demo fake."""
    async with open_account(args) as (client, _):
        yield client


@contextlib.asynccontextmanager
async def open_account(
    args: argparse.Namespace,
) -> AsyncIterator[tuple[EventsClient, Callable[[], AccountsClient]]]:
    """`open_client`'s client, and an opener of the Accounts API signed in with the same
    credentials (`--accounts-url` where the command has it), to read the account's own
    record (its friendly name)."""
    options: dict[str, Any] = {"timeout": args.timeout, "max_retries": args.max_retries}
    if not args.fake:

        def accounts() -> AccountsClient:
            return AccountsClient(
                args.account_sid,
                args.auth_token,
                api_key=args.api_key,
                api_secret=args.api_secret,
                base_url=getattr(args, "accounts_url", None),
                **options,
            )

        async with EventsClient(
            args.account_sid,
            args.auth_token,
            api_key=args.api_key,
            api_secret=args.api_secret,
            base_url=args.base_url,
            region=args.region,
            edge=args.edge,
            **options,
        ) as client:
            yield client, accounts
        return
    from ..testing import FakeEventsServer
    from ..testing.demo import seed_demo_account

    async with FakeEventsServer() as fake:
        seed_demo_account(fake.account)
        demo = fake.account
        async with fake.client(**options) as client:
            yield (
                client,
                lambda: AccountsClient(demo.sid, demo.auth_token, base_url=fake.url, **options),
            )


def output_width() -> int | None:
    """The terminal's width when stdout is one; None (never cut) otherwise."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size((80, 24)).columns


def api(call: Call, *, check: Callable[[argparse.Namespace], None] | None = None) -> Handler:
    """A handler that makes one call on a client and prints what it returns.

    `check` refuses impossible option combinations (`UsageError`) before connecting.
    """

    async def handler(args: argparse.Namespace) -> int:
        if check is not None:
            check(args)
        async with open_client(args) as client:
            result = await call(client, args)
        render(result, as_json=args.json, width=output_width(), wide=args.wide)
        return 0

    return handler
