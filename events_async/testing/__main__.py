"""Run the fake standalone: `python -m events_async.testing` (any free port; `--port N`).

It prints `export` lines (credentials and `EVENTS_ASYNC_BASE_URL`) that a shell can
`eval`, so `events-async` and `EventsClient()` reach the fake with no more options.
Webhook sinks start `active`, as on Twilio today; `--webhooks-initialized` gives the
older lifecycle (Test, then Validate, before a subscription).
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import sys

from .._settings import BASE_URL_VARIABLE
from ..cli.fake_server import WEBHOOKS_INITIALIZED_HELP
from ..cli.ports import FAKE_SERVER_PORT, cannot_listen
from ..cli.spec import PORT, OneLineParser

__all__ = ["main", "serve"]


async def serve(
    host: str,
    port: int,
    *,
    demo: bool = False,
    fleet: bool = False,
    webhooks_start_active: bool = True,
) -> None:
    """Serve until SIGTERM or cancelled, after printing where and with which credentials.

    `demo` seeds the demo account; `fleet` the demo fleet (the demo account as a parent
    with subaccounts). Raises `OSError` when the address cannot be listened on.
    """
    from ..accounts import ACCOUNTS_BASE_URL_VARIABLE
    from .demo import seed_demo_account, seed_demo_fleet
    from .server import FakeEventsServer

    fake = FakeEventsServer(host=host, port=port, webhooks_start_active=webhooks_start_active)
    async with fake:
        if fleet:
            seed_demo_fleet(fake)
        elif demo:
            seed_demo_account(fake.account)
        lines = [
            f"# Fake Events API at {fake.url}",
            f"export TWILIO_ACCOUNT_SID={shlex.quote(fake.account.sid)}",
            f"export TWILIO_AUTH_TOKEN={shlex.quote(fake.account.auth_token)}",
            f"export {BASE_URL_VARIABLE}={shlex.quote(fake.url)}",
            f"export {ACCOUNTS_BASE_URL_VARIABLE}={shlex.quote(fake.url)}",
        ]
        print("\n".join(lines), flush=True)
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; one line and exit 2 if it cannot."""
    parser = OneLineParser(
        prog="python -m events_async.testing", description="Serve a fake Twilio Events API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=PORT, default=FAKE_SERVER_PORT, help="port (default: 0, any free one)"
    )
    parser.add_argument("--demo", action="store_true", help="seed the demo account")
    parser.add_argument("--fleet", action="store_true", help="seed the demo fleet")
    parser.add_argument(
        "--webhooks-initialized", action="store_true", help=WEBHOOKS_INITIALIZED_HELP
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(
            serve(
                args.host,
                args.port,
                demo=args.demo,
                fleet=args.fleet,
                webhooks_start_active=not args.webhooks_initialized,
            )
        )
    except KeyboardInterrupt:
        return 130
    except OSError as error:  # busy, not an address of this machine, or unknown
        print(
            f"{parser.prog}: error: {cannot_listen(args.host, args.port, error)}", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
