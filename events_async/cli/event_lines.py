"""How the commands that receive events print them, log, and stop (`listen`, `consume`).

Each event is one line: a JSON object (`--json`, the CloudEvents JSON format), or a row of
`time  type  id  source` (a test event shows its `test_id` instead of the source, which
is what `sinks validate --test-id` takes). Ctrl-C or SIGTERM stops the command; so does a
reader of stdout that went away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

import orjson

from .._text import fit, printable
from ..models import CloudEvent
from ..webhooks.cloudevents import event_to_json
from ..webhooks.events import TEST_EVENT_TYPE
from ..webhooks.router import EventHandler
from .connection import output_width

__all__ = ["Stop", "log_warnings_in_one_line", "printer", "say"]


class Stop:
    """Why the command stops: Ctrl-C or SIGTERM, or the reader of stdout went away."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.pipe_closed = False
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.event.set)


def printer(as_json: bool, stop: Stop) -> EventHandler:
    """A handler that prints each event: a JSON line, or one line of a table. When the
    reader of stdout goes away (`| head`), it sets `stop` and fails the delivery, which
    then answers 500: Twilio delivers that event again later, to a receiver that can
    still show it."""
    width = None if as_json else output_width()

    async def print_event(event: CloudEvent) -> None:
        if as_json:
            line = orjson.dumps(event_to_json(event)).decode()
        else:
            when = event.time.isoformat() if event.time else "-"
            test_id = event.data.get("test_id") if isinstance(event.data, dict) else None
            shown = f"test_id={test_id}" if event.type == TEST_EVENT_TYPE else event.source
            line = fit(printable(f"{when}  {event.type}  {event.id}  {shown}"), width)
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            stop.pipe_closed = True
            stop.event.set()
            raise

    return print_event


def log_warnings_in_one_line(debug: bool) -> None:
    """The receiver's warnings (a handler that failed) on stderr, one line each; the
    traceback only with --debug."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine() if not debug else logging.Formatter("%(message)s"))
    handler.setLevel(logging.WARNING)
    handler.addFilter(_not_a_closed_pipe)
    logger = logging.getLogger("events_async.webhooks")
    logger.addHandler(handler)
    logger.propagate = False


def _not_a_closed_pipe(record: logging.LogRecord) -> bool:
    """A delivery failed because stdout's reader left: the command is ending quietly."""
    return not (record.exc_info and isinstance(record.exc_info[1], BrokenPipeError))


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        reason = ""
        if record.exc_info and record.exc_info[1] is not None:
            reason = f" ({type(record.exc_info[1]).__name__})"
        return printable(f"events-async: warning: {record.getMessage()}{reason}")


def say(message: str) -> None:
    """A line about the command itself (not an event) on stderr."""
    print(f"events-async: {message}", file=sys.stderr, flush=True)
