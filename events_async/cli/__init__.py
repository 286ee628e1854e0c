"""The `events-async` command: every operation, the audit, Event Streams as code (`plan`,
`apply`, `export`) and the fake, over the library.

One module per command group (`resources`, `audit`, `desired`, `fake_server`), declared as
tables (`spec`) the parser is built from (`parser`). Exit status: 0 on success (for
`audit`: no errors found), 1 when the audit found errors, an account could not be planned
or applied, or an API, network or unexpected error stopped a command, 2 for usage and
sign-in failures (and for `plan --detailed-exitcode`, changes to make),
74 (sysexits' EX_IOERR) when the output cannot be written (`> /dev/full`), 130 on Ctrl-C,
141 when stdout's reader went away. Errors print one line on stderr, never a traceback
(`--debug` shows it for an unexpected error), and name what the user typed: a library
error's parameter becomes the command's flag (`parser.named`); a closed stdout ends the
command quietly, as Unix tools do.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import traceback

from .._text import printable
from ..errors import AuthenticationError, EventsError, InvalidRequestError
from .output import EXIT_OUTPUT, OutputError, guarded_stdout, silence_stdout
from .parser import build_parser, named
from .spec import UsageError

__all__ = ["build_parser", "main"]

EXIT_FAILED, EXIT_USAGE = 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # as a process killed by SIGPIPE


def _fail(message: str) -> None:
    print(f"events-async: error: {printable(message)}", file=sys.stderr)


class _MaskSecrets(logging.Filter):
    """Replaces every known secret in a log line with `***`."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, ()
        return True


def _log_to_stderr(args: argparse.Namespace) -> None:
    secrets = [
        getattr(args, "auth_token", None) or "",
        getattr(args, "api_secret", None) or "",
        os.environ.get("TWILIO_AUTH_TOKEN", ""),
        os.environ.get("TWILIO_API_SECRET", ""),
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("events-async: %(levelname)s %(message)s"))
    handler.addFilter(_MaskSecrets(secrets))
    logger = logging.getLogger("events_async")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _stdout_closed() -> int:
    """The reader went away (`| head`): stop quietly, and let nothing flush into the pipe."""
    silence_stdout()
    return EXIT_BROKEN_PIPE


def _output_failed(error: OutputError) -> int:
    """Stdout cannot be written (a full disk): say so once; nothing more goes there."""
    silence_stdout()
    _fail(error.describe())
    return EXIT_OUTPUT


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        _log_to_stderr(args)
    try:
        with guarded_stdout():
            status: int = asyncio.run(args.handler(args))
            sys.stdout.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _stdout_closed()
    except OutputError as error:
        return _output_failed(error)
    except UsageError as error:
        _fail(str(error))
        return EXIT_USAGE
    except InvalidRequestError as error:
        _fail(named(error, args))
        return EXIT_USAGE
    except AuthenticationError as error:
        _fail(str(error))
        return EXIT_USAGE
    except EventsError as error:
        _fail(str(error))
        return EXIT_FAILED
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        _fail(f"unexpected {type(error).__name__}: {error} (--debug shows the traceback)")
        return EXIT_FAILED
    return status
