"""`events-async fake-server`: serve the fake Events API, printing lines a shell can eval.

It listens on any free port unless `--port` says otherwise: the `export` lines it prints
name the port, so a second fake never collides with the first. Pair it with `listen` and
`emit` for the whole loop on one machine.
"""

from __future__ import annotations

import argparse

from .ports import FAKE_SERVER_PORT, cannot_listen
from .spec import HOST_OPTION, PORT, Arg, Command, Group, UsageError

__all__ = ["FAKE_SERVER", "WEBHOOKS_INITIALIZED_HELP"]

WEBHOOKS_INITIALIZED_HELP = (
    "start webhook sinks `initialized`, to be tested and validated before a subscription "
    "(the older lifecycle; by default they start `active`, as on Twilio today)"
)


async def _serve(args: argparse.Namespace) -> int:
    from ..testing.__main__ import serve  # the fake's weight only when it is served

    try:
        await serve(
            args.host,
            args.port,
            demo=args.demo,
            fleet=args.fleet,
            webhooks_start_active=not args.webhooks_initialized,
        )
    except OSError as error:  # busy, not an address of this machine, or unknown
        raise UsageError(cannot_listen(args.host, args.port, error)) from None
    return 0


FAKE_SERVER = Group(
    "fake-server",
    "serve a fake Events API (prints `export` lines for a shell)",
    (
        Command(
            "",
            "serve a fake Events API",
            _serve,
            (
                HOST_OPTION,
                Arg(
                    ("--port",),
                    "port to listen on (default: 0, any free one; the export lines name it)",
                    {"type": PORT, "default": FAKE_SERVER_PORT},
                ),
                Arg(
                    ("--demo",),
                    "seed the demo account (planted problems)",
                    {"action": "store_true"},
                ),
                Arg(
                    ("--fleet",),
                    "seed the demo fleet: the demo account and its subaccounts",
                    {"action": "store_true"},
                ),
                Arg(
                    ("--webhooks-initialized",), WEBHOOKS_INITIALIZED_HELP, {"action": "store_true"}
                ),
            ),
            connects=False,
        ),
    ),
)
