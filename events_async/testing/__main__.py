"""Run the fake standalone: `python -m events_async.testing --port 8080`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .demo import seed_demo_account
from .server import FakeEventsServer


async def serve(host: str, port: int, *, demo: bool = False) -> None:
    """Serve until SIGTERM or cancelled, after printing where and with which credentials."""
    async with FakeEventsServer(host=host, port=port) as fake:
        if demo:
            seed_demo_account(fake.account)
        print(f"Fake Events API at {fake.url}", flush=True)
        print(f"TWILIO_ACCOUNT_SID={fake.account.sid}", flush=True)
        print(f"TWILIO_AUTH_TOKEN={fake.account.auth_token}", flush=True)
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m events_async.testing", description="Serve a fake Twilio Events API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0 picks a free one)")
    parser.add_argument("--demo", action="store_true", help="seed the demo account")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, demo=args.demo))
    return 0


if __name__ == "__main__":
    sys.exit(main())
