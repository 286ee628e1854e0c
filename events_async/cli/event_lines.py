"""How the commands that receive events print them, log, and stop (`listen`, `consume`).

Each event is one line: a JSON object (`--json`, the CloudEvents JSON format), or a row of
`TIME  TYPE  ID  DATA`, in aligned columns. DATA sums `data` up in a few key=value pairs;
a test event's comes first with its `test_id` (what `sinks validate --test-id` takes).
Times are RFC 3339 in UTC to the millisecond (`2025-01-31T12:00:00.250Z`) in both.

On a terminal, a header comes first and every line fits its width: ids are cut to their
start (whole from 150 columns), a long type keeps its end (`…message.delivered`), DATA is
cut to the room left. Below 120 columns, where a test event's `test_id` would not fit
beside the rest, DATA goes on a line of its own beneath, indented. In a pipe, one line
per event and nothing cut.
Ctrl-C or SIGTERM stops the command; so does a reader of stdout that went away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from datetime import datetime, timezone

import attrs
import orjson

from .._text import ELLIPSIS, fit, fit_left, printable
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
    """A handler that prints each event: a JSON line, or one row of a table. When the
    reader of stdout goes away (`| head`), it sets `stop` and fails the delivery, which
    then answers 500: Twilio delivers that event again later, to a receiver that can
    still show it."""
    columns = None if as_json else Columns.for_width(output_width())
    header = [] if columns is None or columns.width is None else columns.header()

    async def print_event(event: CloudEvent) -> None:
        if columns is None:
            document = event_to_json(event)
            if event.time is not None:
                document["time"] = when(event.time)
            lines = [_json_line(document)]
        else:
            lines = [*header, *columns.row(event)]
            header.clear()
        try:
            sys.stdout.write("".join(line + "\n" for line in lines))
            sys.stdout.flush()
        except BrokenPipeError:
            stop.pipe_closed = True
            stop.event.set()
            raise

    return print_event


TIME_WIDTH = len("2025-01-31T12:00:00.250Z")
TYPE_WIDTH = len("com.twilio.messaging.message.delivered")
ID_WIDTH = 36  # a UUID
SHORT_ID_WIDTH = 8
TEST_PAIR = len("test_id=") + ID_WIDTH
MAX_PAIRS = 4


def when(time: datetime) -> str:
    """The one time format of both modes: RFC 3339, UTC, milliseconds, `Z`."""
    utc = time.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return utc.replace("+00:00", "Z")


@attrs.frozen
class Columns:
    """The table's layout: column widths, and whether DATA goes on a line of its own.
    `width` None (a pipe): one line per event, nothing cut."""

    type: int
    id: int
    width: int | None
    two_lines: bool = False

    @classmethod
    def for_width(cls, width: int | None) -> Columns:
        """The layout for a terminal `width` columns wide (None: a pipe). One line when
        a test event's whole `test_id` fits on it, else DATA beneath, indented."""
        if width is None:
            return cls(TYPE_WIDTH, ID_WIDTH, None)
        for id_width in (ID_WIDTH, SHORT_ID_WIDTH):
            if width >= TIME_WIDTH + TYPE_WIDTH + id_width + TEST_PAIR + 6:
                return cls(TYPE_WIDTH, id_width, width)
        room = width - TIME_WIDTH - SHORT_ID_WIDTH - 4
        return cls(max(min(TYPE_WIDTH, room), 8), SHORT_ID_WIDTH, width, two_lines=True)

    def header(self) -> list[str]:
        """The lines that name the columns."""
        if self.two_lines:
            return [self._line("TIME", "TYPE", "ID"), "  DATA"]
        return [self._line("TIME", "TYPE", "ID", "DATA")]

    def row(self, event: CloudEvent) -> list[str]:
        """The event's line (on a narrow terminal, two)."""
        time, type, id, data = when_or_dash(event), printable(event.type), event.id, summary(event)
        if self.width is None:
            return [self._line(time, type, printable(id), data)]
        cells = (time, fit_left(type, self.type), fit(printable(id), self.id))
        if self.two_lines:
            return [fit(self._line(*cells), self.width), fit(f"  {data}", self.width)]
        room = self.width - (TIME_WIDTH + self.type + self.id + 6)
        return [fit(self._line(*cells, fit(data, room)), self.width)]

    def _line(self, time: str, type: str, id: str, data: str = "") -> str:
        cells = [time.ljust(TIME_WIDTH), type.ljust(self.type), id.ljust(self.id), data]
        return "  ".join(cells).rstrip()


def when_or_dash(event: CloudEvent) -> str:
    """The event's time in the one format, or `-` when it has none."""
    return when(event.time) if event.time is not None else "-"


def _test_id(event: CloudEvent) -> str | None:
    if event.type != TEST_EVENT_TYPE or not isinstance(event.data, dict):
        return None
    test_id = event.data.get("test_id")
    return printable(str(test_id)) if test_id is not None else None


def summary(event: CloudEvent) -> str:
    """A few key=value pairs of the event's data (a test event's `test_id` first); a
    value with spaces in JSON, nested ones as `{…}` / `[…]`; `-` when there is none."""
    data = event.data
    if event.data_base64 is not None:
        return f"({len(event.data_base64)} bytes)"
    if isinstance(data, dict):
        keys = sorted(data, key=lambda key: key != "test_id") if _test_id(event) else list(data)
        pairs = [f"{printable(str(key))}={_value(data[key])}" for key in keys[:MAX_PAIRS]]
        more = f" (+{len(keys) - MAX_PAIRS})" if len(keys) > MAX_PAIRS else ""
        return " ".join(pairs) + more if pairs else "-"
    return "-" if data is None else _value(data)


def _value(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ELLIPSIS + "}" if value else "{}"
    if isinstance(value, list):
        return "[" + ELLIPSIS + "]" if value else "[]"
    if isinstance(value, str) and value and not any(c.isspace() or c in '="' for c in value):
        return printable(value)
    return printable(json.dumps(value, ensure_ascii=False))


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


def _json_line(document: dict[str, object]) -> str:
    """One JSON line; a value orjson cannot write (a lone surrogate the standard
    library's fallback read) is escaped by the standard library instead."""
    try:
        return orjson.dumps(document).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(document, separators=(",", ":"))
