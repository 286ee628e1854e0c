"""Text from the server made safe for a terminal or a log line."""

from __future__ import annotations

import unicodedata

__all__ = ["ELLIPSIS", "fit", "printable"]

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
ELLIPSIS = "\u2026"


def fit(text: str, width: int | None) -> str:
    """`text` cut to `width` characters, an ellipsis last; whole when width is None."""
    if width is None or len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS


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
