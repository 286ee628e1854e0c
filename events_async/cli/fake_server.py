"""`events-async fake-server`: serve the fake Events API, printing lines a shell can eval."""

from __future__ import annotations

import argparse
import sys

from .spec import HOST_OPTION, PORT_OPTION, Arg, Command, Group

__all__ = ["FAKE_SERVER"]


async def _serve(args: argparse.Namespace) -> int:
    from ..testing.__main__ import serve  # the fake's weight only when it is served

    try:
        await serve(args.host, args.port, demo=args.demo, fleet=args.fleet)
    except OSError as error:  # busy, not an address of this machine, or unknown
        reason = error.strerror or str(error)
        print(
            f"events-async: error: cannot listen on {args.host}:{args.port}: {reason}",
            file=sys.stderr,
        )
        return 1
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
                PORT_OPTION,
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
            ),
            connects=False,
        ),
    ),
)
