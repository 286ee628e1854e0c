"""Run the fake standalone: `python -m events_async.testing --port 8080`.

It prints `export` lines (credentials and `EVENTS_ASYNC_BASE_URL`) that a shell can
`eval`, so `events-async` and `EventsClient()` reach the fake with no more options.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import sys

from .._settings import BASE_URL_VARIABLE
from ..cli.spec import PORT, OneLineParser

__all__ = ["main", "serve"]


async def serve(host: str, port: int, *, demo: bool = False, fleet: bool = False) -> None:
    """Serve until SIGTERM or cancelled, after printing where and with which credentials.

    `demo` seeds the demo account; `fleet` the demo fleet (the demo account as a parent
    with subaccounts). Raises `OSError` when the address cannot be listened on.
    """
    from ..accounts import ACCOUNTS_BASE_URL_VARIABLE
    from .demo import seed_demo_account, seed_demo_fleet
    from .server import FakeEventsServer

    async with FakeEventsServer(host=host, port=port) as fake:
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
    """Parse arguments and serve until interrupted; one line and exit 1 if it cannot."""
    parser = OneLineParser(
        prog="python -m events_async.testing", description="Serve a fake Twilio Events API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=PORT, default=8080, help="port (0 picks a free one)")
    parser.add_argument("--demo", action="store_true", help="seed the demo account")
    parser.add_argument("--fleet", action="store_true", help="seed the demo fleet")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, demo=args.demo, fleet=args.fleet))
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        print(
            f"{parser.prog}: error: cannot listen on {args.host}:{args.port}: "
            f"{error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
