"""What the server says is escaped before it reaches a terminal or a log line."""

from __future__ import annotations

import pytest

from events_async import BadRequestError
from events_async._text import printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text, ünïcode and emoji 🎉", "plain text, ünïcode and emoji 🎉"),
        ("line\nbreak\r", "line\\x0abreak\\x0d"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\x9bCSI", "\\x9bCSI"),
        ("right\u202eto left", "right\\u202eto left"),
        ("para\u2029graph", "para\\u2029graph"),
        ("lone \ud800", "lone \\ud800"),
        ("no\u00a0break space", "no\u00a0break space"),
    ],
)
def test_control_and_format_characters_are_escaped(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_an_api_errors_text_is_escaped_but_its_fields_stay_raw() -> None:
    error = BadRequestError(status=400, message="a\nb", more_info="\x1b]8;;x", method="GET")
    assert "\n" not in str(error)
    assert "\x1b" not in str(error)
    assert error.message == "a\nb"
