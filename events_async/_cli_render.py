"""How the command prints results: aligned tables for people, JSON for programs.

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

from ._convert import converter
from ._text import printable
from .models import (
    EventType,
    Schema,
    SchemaVersion,
    Sink,
    SubscribedEvent,
    Subscription,
)

__all__ = ["ProgressBar", "render"]

COLUMNS: dict[type, tuple[str, ...]] = {
    EventType: ("type", "schema_id", "status", "description"),
    Schema: ("id", "latest_version", "latest_version_date_created"),
    SchemaVersion: ("id", "schema_version", "date_created"),
    Sink: ("sid", "sink_type", "status", "description"),
    Subscription: ("sid", "sink_sid", "description", "date_updated"),
    SubscribedEvent: ("type", "schema_version", "subscription_sid"),
}


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


def _table(rows: list[Any], out: TextIO) -> None:
    if not rows:
        out.write("(none)\n")
        return
    columns = COLUMNS.get(type(rows[0])) or tuple(a.name for a in attrs.fields(type(rows[0])))
    cells = [[_cell(getattr(row, c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    out.write(
        "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n"
    )
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def _record(value: Any, out: TextIO) -> None:
    fields = [a.name for a in attrs.fields(type(value))]
    width = max(len(f) for f in fields)
    for name in fields:
        out.write(f"{name:<{width}}  {_cell(getattr(value, name))}\n")


def render(value: Any, *, as_json: bool, out: TextIO | None = None) -> None:
    """Print a command's result: a model, a list of models, or a short message."""
    out = out or sys.stdout
    if as_json:
        out.write(json.dumps(converter.unstructure(value), indent=2) + "\n")
    elif isinstance(value, list):
        _table(value, out)
    elif attrs.has(type(value)):
        _record(value, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            out.write(f"{key}: {_cell(item)}\n")
    else:
        out.write("\n".join(printable(line) for line in str(value).split("\n")) + "\n")


class ProgressBar:
    """A one-line progress bar on a terminal's stderr; silent elsewhere."""

    def __init__(self, out: TextIO | None = None, width: int = 30) -> None:
        self.out = out or sys.stderr
        self.width = width
        self.active = self.out.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.active or total == 0:
            return
        filled = self.width * done // total
        bar = "#" * filled + "." * (self.width - filled)
        self.out.write(f"\rauditing [{bar}] {done}/{total}")
        self.out.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self.active:
            self.out.write("\r" + " " * (self.width + 30) + "\r")
            self.out.flush()
