"""How `plan`, `apply` and `export` end on an error they foresaw: `Stop`, one line on
stderr and an exit status, and the handler wrapper that prints it.

With `plan --detailed-exitcode` every error (usage, sign-in, API) is 1, since there 2
says "changes to make".
"""

from __future__ import annotations

import argparse
import sys

from .._text import printable
from ..errors import EventsError
from .spec import Handler, UsageError

__all__ = ["EXIT_FAILED", "Stop", "error", "stopping"]

EXIT_FAILED = 1


class Stop(Exception):
    """The command ends here: `message` on stderr, exit `status`."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def error(message: str) -> None:
    """`events-async: error: MESSAGE` on stderr, control characters escaped."""
    print(f"events-async: error: {printable(message)}", file=sys.stderr)


def stopping(run: Handler) -> Handler:
    """`run`, its `Stop` printed as one line; with `--detailed-exitcode` every error
    (usage, sign-in, API) is 1, since 2 says "changes"."""

    async def handler(args: argparse.Namespace) -> int:
        try:
            return await run(args)
        except Stop as stop:
            error(str(stop))
            return stop.status
        except (UsageError, EventsError) as failed:
            if not getattr(args, "detailed_exitcode", False):
                raise
            error(str(failed))
            return EXIT_FAILED

    return handler
