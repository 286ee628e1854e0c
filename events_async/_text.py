"""Text from the server made safe for a terminal or a log line, and laid out to a width."""

from __future__ import annotations

import textwrap
import unicodedata

__all__ = ["ELLIPSIS", "KEEP", "counted", "fit", "fit_left", "printable", "wrap"]

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
ELLIPSIS = "\u2026"
KEEP = "\u00a0"
"""Put between words that `wrap` must keep on one line ("11 subscribed events")."""


def counted(count: int, noun: str, space: str = " ") -> str:
    """`1 sink`, `2 sinks` (`info` is its own plural); `space` between (`KEEP` joins)."""
    plural = noun if count == 1 or noun == "info" else f"{noun}s"
    return f"{count}{space}{plural}"


def fit(text: str, width: int | None) -> str:
    """`text` cut to `width` characters, an ellipsis last; whole when width is None."""
    if width is None or len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS


def fit_left(text: str, width: int | None) -> str:
    """`text` cut to `width` characters from the left, an ellipsis first: for names whose
    end tells them apart (`…message.delivered`); whole when width is None."""
    if width is None or len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    return ELLIPSIS + text[len(text) - width + 1 :]


def wrap(text: str, width: int | None, indent: str = "", *, first: str | None = None) -> list[str]:
    """`text` as lines of at most `width` characters, broken between words and never cut;
    every line starts with `indent` (the first with `first`, when given). A word longer
    than a line is split across lines. Words joined by `KEEP` stay on one line where they
    fit. With width None, one line."""
    lead = indent if first is None else first
    if width is None:
        return [(lead + text).replace(KEEP, " ")]
    wrapper = textwrap.TextWrapper(
        width=max(width, len(lead) + 1, len(indent) + 1),
        initial_indent=lead,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    )
    lines = wrapper.wrap(text) or [lead.rstrip()]
    return [line.replace(KEEP, " ") for line in lines]


def printable(text: str) -> str:
    """`text` with control, format (bidi) and line-separator characters escaped.

    Newlines, ANSI escapes and bidi overrides the server sends cannot start a fake line,
    recolour a terminal or reorder what is shown.
    """
    if text.isprintable():
        return text
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        if unicodedata.category(c) in _ESCAPED_CATEGORIES
        else c
        for c in text
    )
