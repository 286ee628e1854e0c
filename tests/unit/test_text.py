"""What the server says is escaped before it reaches a terminal or a log line."""

from __future__ import annotations

import pytest

from events_async import BadRequestError
from events_async._text import KEEP, counted, fit_left, printable, wrap


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


@pytest.mark.parametrize("width", [10, 24, 80])
def test_wrap_breaks_between_words_and_never_loses_one(width: int) -> None:
    text = "subscription " + '"Staging messaging" delivers to sink DG' + "a" * 32 + ", gone"
    lines = wrap(text, width, "    ", first="")
    assert all(len(line) <= width for line in lines)
    assert all(line.startswith("    ") for line in lines[1:])
    assert "".join("".join(lines).split()) == text.replace(" ", "")  # nothing cut


def test_wrap_keeps_joined_words_together_and_one_line_without_a_width() -> None:
    text = f"Audit: 5{KEEP}sinks, 11{KEEP}subscribed{KEEP}events"
    assert wrap(text, 20) == ["Audit: 5 sinks,", "11 subscribed events"]
    assert wrap(text, None, "  ") == ["  Audit: 5 sinks, 11 subscribed events"]


def test_fit_left_keeps_the_end_that_tells_names_apart() -> None:
    assert fit_left("com.twilio.messaging.message.delivered", 20) == "…g.message.delivered"
    assert fit_left("short", 20) == "short"
    assert fit_left("abc", None) == "abc"
    assert fit_left("abc", 1) == "…"


def test_counted_says_one_in_the_singular() -> None:
    assert [counted(n, "error") for n in (0, 1, 2)] == ["0 errors", "1 error", "2 errors"]
    assert counted(3, "info") == "3 info"
