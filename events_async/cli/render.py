"""How the command prints results: aligned tables for people, JSON for programs.

On a terminal, tables and records fit its width (80 columns when it cannot tell):
a few chosen columns, long cells cut with an ellipsis; `--wide` shows every field whole.
When stdout is not a terminal, lines are never cut, so scripts can grep them.

Whatever the server sent is escaped on the way out: control characters in tables and
text, and everything outside ASCII in JSON, so no answer can drive the terminal.
"""

from __future__ import annotations

import enum
import json
import sys
from datetime import datetime
from typing import Any, TextIO

import attrs

from .._convert import converter
from .._text import fit, printable
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
    fields = tuple(a.name for a in attrs.fields(type(rows[0])))
    columns = fields if wide else COLUMNS.get(type(rows[0]), fields)
    cells = [[_cell(getattr(row, c)) for c in columns] for row in rows]
    natural = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    widths = _fitted_widths(natural, None if wide else width)

    def line(values: list[str]) -> str:
        parts = [fit(v, w).ljust(w) for v, w in zip(values, widths, strict=True)]
        return "  ".join(parts).rstrip() + "\n"

    out.write(line([c.upper() for c in columns]))
    for row in cells:
        out.write(line(row))


def _record(value: Any, out: TextIO, width: int | None) -> None:
    fields = [a.name for a in attrs.fields(type(value))]
    label = max(len(f) for f in fields)
    room = None if width is None else max(width - label - 2, MIN_COLUMN)
    for name in fields:
        out.write(f"{name:<{label}}  {fit(_cell(getattr(value, name)), room)}\n")


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
    """A one-line progress bar on a terminal's stderr; silent elsewhere.

    The total may grow as work is discovered; the bar never moves backwards.
    """

    def __init__(self, out: TextIO | None = None, width: int = 30, label: str = "auditing") -> None:
        self.out = out or sys.stderr
        self.width = width
        self.label = label
        self.active = self.out.isatty()
        self.filled = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.active or total == 0:
            return
        self.filled = max(self.filled, self.width * done // total)
        bar = "#" * self.filled + "." * (self.width - self.filled)
        self.out.write(f"\r{self.label} [{bar}] {done}/{total}")
        self.out.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self.active:
            self.out.write("\r" + " " * (self.width + 40) + "\r")
            self.out.flush()
