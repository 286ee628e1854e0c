"""What the command draws for people: the progress bar (only on a terminal, never
backwards, covering what it drew before) and a record cut to the terminal unless wide."""

from __future__ import annotations

import io

from events_async import Sink
from events_async.cli.render import ProgressBar, render


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_only_on_a_terminal() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = ProgressBar(stream, width=10)
        bar(0, 0)
        bar(3, 6)
        bar(6, 6)
        bar.finish()
    assert "[#####.....] 3/6" in terminal.getvalue()
    assert "[##########] 6/6" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r")
    assert pipe.getvalue() == ""


def test_the_progress_bar_never_moves_backwards_as_the_total_grows() -> None:
    terminal = _Terminal()
    bar = ProgressBar(terminal, width=10)
    bar(5, 10)
    bar(5, 20)  # more work found: the bar holds
    assert terminal.getvalue().split("\r")[-1] == "auditing [#####.....] 5/20"


def test_the_bar_covers_a_longer_line_it_drew_before() -> None:
    terminal = _Terminal()
    bar = ProgressBar(
        terminal, width=4, label="x", counter=lambda done: f"{done} accounts audited…"
    )
    bar(7, None)
    bar(7, 9)
    bar.finish()
    first, second, clear = terminal.getvalue().split("\r")[1:4]
    assert first == "7 accounts audited…"
    assert second == "x [###.] 7/9".ljust(len(first))
    assert clear == " " * len(first)


def test_a_record_fits_the_terminal_unless_wide() -> None:
    sink = Sink(
        sid="DG" + "0" * 32,
        description="d" * 150,
        sink_configuration={"destination": "https://example.com/" + "x" * 150},
        links={"sink_test": "https://events.twilio.com/v1/Sinks/DG/Test" + "y" * 100},
    )
    narrow, wide, piped = io.StringIO(), io.StringIO(), io.StringIO()
    render(sink, as_json=False, out=narrow, width=80)
    render(sink, as_json=False, out=wide, width=80, wide=True)
    render(sink, as_json=False, out=piped, width=None)
    assert max(len(line) for line in narrow.getvalue().splitlines()) == 80
    assert narrow.getvalue().count("\u2026") == 3
    assert wide.getvalue() == piped.getvalue()
    assert "x" * 150 in piped.getvalue()
