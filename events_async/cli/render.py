"""How the command prints results: aligned tables for people, JSON for programs.

On a terminal, tables and records fit its width (80 columns when it cannot tell):
a few chosen columns, long cells cut with an ellipsis; `--wide` shows every field whole.
A column is headed by its field's name in capitals, or by its `header` metadata.
When stdout is not a terminal, lines are never cut, so scripts can grep them.

Whatever the server sent is escaped on the way out: control characters in tables and
text, and everything outside ASCII in JSON, so no answer can drive the terminal.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

import attrs

from .._convert import converter
from .._text import ELLIPSIS, fit, printable
from ..desired.export import SECRET_KEYS
from ..models import (
    EventType,
    Schema,
    SchemaVersion,
    Sink,
    SubscribedEvent,
    Subscription,
)

__all__ = ["ProgressBar", "render"]

COLUMNS: dict[type, tuple[str, ...]] = {
    EventType: ("type", "status", "description"),
    Schema: ("id", "latest_version", "latest_version_date_created"),
    SchemaVersion: ("id", "schema_version", "date_created"),
    Sink: ("sid", "sink_type", "status", "description"),
    Subscription: ("sid", "sink_sid", "description"),
    SubscribedEvent: ("type", "schema_version"),
}
MIN_COLUMN = 8


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return printable(str(value))


def _fitted_widths(natural: list[int], width: int | None) -> list[int]:
    """Column widths that fit `width` (two spaces between), narrowing the widest columns
    but never the first (the identifier people copy)."""
    widths = list(natural)
    if width is None:
        return widths
    while sum(widths) + 2 * (len(widths) - 1) > width:
        candidates = [i for i in range(1, len(widths)) if widths[i] > MIN_COLUMN]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _table(rows: list[Any], out: TextIO, width: int | None, wide: bool) -> None:
    if not rows:
        out.write("(none)\n")
        return
    fields = {a.name: a.metadata.get("header", a.name.upper()) for a in attrs.fields(type(rows[0]))}
    columns = tuple(fields) if wide else COLUMNS.get(type(rows[0]), tuple(fields))
    headers = [fields[c] for c in columns]
    cells = [[_cell(getattr(row, c)) for c in columns] for row in rows]
    natural = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    widths = _fitted_widths(natural, None if wide else width)

    def line(values: list[str]) -> str:
        parts = [fit(v, w).ljust(w) for v, w in zip(values, widths, strict=True)]
        return "  ".join(parts).rstrip() + "\n"

    out.write(line(headers))
    for row in cells:
        out.write(line(row))


def _record(value: Any, out: TextIO, width: int | None) -> None:
    fields = [a.name for a in attrs.fields(type(value))]
    label = max(len(f) for f in fields)
    room = None if width is None else max(width - label - 2, MIN_COLUMN)
    for name in fields:
        out.write(f"{name:<{label}}  {fit(_cell(getattr(value, name)), room)}\n")


def _masked(value: Any) -> Any:
    """`value` with each sink's secret settings (a Segment write key, a Kinesis external
    id) shown as `***`: a command's output is read over shoulders and pasted in tickets."""
    if isinstance(value, list):
        return [_masked(item) for item in value]
    configuration = value.sink_configuration if isinstance(value, Sink) else None
    if configuration and any(key in configuration for key in SECRET_KEYS):
        shown = {k: "***" if k in SECRET_KEYS else v for k, v in configuration.items()}
        return attrs.evolve(value, sink_configuration=shown)
    return value


def render(
    value: Any,
    *,
    as_json: bool,
    out: TextIO | None = None,
    width: int | None = None,
    wide: bool = False,
) -> None:
    """Print a command's result: a model, a list of models, or a short message.

    `width` is the terminal's (None: never cut lines); `wide` shows every field whole.
    """
    out = out or sys.stdout
    value = _masked(value)
    if wide:
        width = None
    if as_json:
        out.write(json.dumps(converter.unstructure(value), indent=2) + "\n")
    elif isinstance(value, list):
        _table(value, out, width, wide)
    elif attrs.has(type(value)):
        _record(value, out, width)
    elif isinstance(value, dict):
        for key, item in value.items():
            out.write(fit(f"{key}: {_cell(item)}", width) + "\n")
    else:
        lines = [fit(printable(line), width) for line in str(value).split("\n")]
        out.write("\n".join(lines) + "\n")


class ProgressBar:
    """Progress on a terminal's stderr, on one line; silent elsewhere.

    A determinate bar (`auditing [####......] 4/10`) only once the total is known; while
    it is not (None: more work may still be found), a counter: `counter(done)`, by default
    `auditing: 7 done…`. The bar never moves backwards.
    """

    def __init__(
        self,
        out: TextIO | None = None,
        width: int = 30,
        label: str = "auditing",
        counter: Callable[[int], str] | None = None,
    ) -> None:
        self.out = out or sys.stderr
        self.width = width
        self.label = label
        self.counter = counter
        self.active = self.out.isatty()
        self.filled = 0
        self.drawn = 0  # the longest line drawn, so a shorter one covers it

    def __call__(self, done: int, total: int | None) -> None:
        if not self.active:
            return
        if total is None:
            line = self.counter(done) if self.counter else f"{self.label}: {done} done{ELLIPSIS}"
        elif total <= 0:
            return
        else:
            self.filled = max(self.filled, self.width * min(done, total) // total)
            bar = "#" * self.filled + "." * (self.width - self.filled)
            line = f"{self.label} [{bar}] {done}/{total}"
        self.out.write("\r" + line.ljust(self.drawn))
        self.drawn = max(self.drawn, len(line))
        self.out.flush()

    def finish(self) -> None:
        """Clear the line it drew on."""
        if self.active and self.drawn:
            self.out.write("\r" + " " * self.drawn + "\r")
            self.out.flush()
