"""What the command prints reads at 80 and 120 columns: findings wrapped, never cut; the
headlines whole; the fleet table without an ellipsis; `listen` aligned, with its data."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from events_async import CloudEvent
from events_async._text import ELLIPSIS
from events_async.cli import main
from events_async.cli.event_lines import Stop, printer
from events_async.testing import FakeEventsServer
from events_async.testing.demo import seed_demo_account, seed_demo_fleet

from .test_cli_fleet import ThreadedFake

WIDTHS = (80, 120)
TEST_EVENT = "com.twilio.eventstreams.test-event"
TEST_ID = "5a0c2bb6-66a3-4f7b-9c36-1a4f2b8e9d01"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def on_terminal(monkeypatch: pytest.MonkeyPatch, columns: int, args: list[str]) -> str:
    """What `events-async ARGS` prints on a terminal `columns` wide."""
    terminal = _Terminal()
    with monkeypatch.context() as patched:
        patched.setattr(sys, "stdout", terminal)
        patched.setenv("COLUMNS", str(columns))
        main(args)
    return terminal.getvalue()


def flowing(text: str) -> str:
    """The text's words, one space apart: what survives wrapping."""
    return " ".join(text.split())


def assert_reads_at(width: int, text: str, messages: list[str]) -> None:
    lines = text.splitlines()
    too_long = [line for line in lines if len(line) > width]
    assert not too_long, too_long
    assert ELLIPSIS not in text  # nothing was cut
    words = flowing(text)
    lost = [message for message in messages if flowing(message) not in words]
    assert not lost  # every word of every message, in order


@pytest.fixture
def demo_account() -> Iterator[list[str]]:
    with ThreadedFake() as fake:
        seed_demo_account(fake.account)
        yield _credentials(fake)


@pytest.fixture
def demo_fleet() -> Iterator[list[str]]:
    with ThreadedFake() as fake:
        seed_demo_fleet(fake)
        yield [*_credentials(fake), "--accounts-url", fake.url, "--max-retries", "0"]


def _credentials(fake: FakeEventsServer) -> list[str]:
    return [
        "--base-url", fake.url,
        "--account-sid", fake.account.sid,
        "--auth-token", fake.account.auth_token,
    ]  # fmt: skip


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    main([*args, "--json"])
    out = capsys.readouterr().out
    if out.startswith("{\n"):  # one account: one indented document
        return [json.loads(out)]
    return [json.loads(line) for line in out.splitlines()]  # a fleet: JSON lines


@pytest.mark.parametrize("width", WIDTHS)
def test_an_accounts_audit_wraps_every_finding_and_keeps_its_headline(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_account: list[str],
    width: int,
) -> None:
    args = ["audit", *demo_account]
    [document] = _json(capsys, args)
    text = on_terminal(monkeypatch, width, args)

    findings = document["findings"]
    assert len(findings) == 13
    assert_reads_at(width, text, [f["message"] for f in findings])
    assert "5 sinks, 7 subscriptions, 11 subscribed events in" in flowing(text)
    assert flowing(text.split("\n\n")[0]).endswith(": 4 errors, 8 warnings, 1 info")
    for finding in findings:  # a header line per finding: severity, code, subject
        header = f"{finding['severity'].upper()} {finding['code']} {finding['subject']}"
        assert header in flowing(text)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_fleet_view_shows_each_accounts_findings_with_findings(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_fleet: list[str],
    width: int,
) -> None:
    args = ["audit", "--subaccounts", "--include-parent", *demo_fleet]
    *reports, summary = _json(capsys, args)
    plain = on_terminal(monkeypatch, width, args)
    detailed = on_terminal(monkeypatch, width, [*args, "--findings"])

    messages = [f["message"] for r in reports for f in r["findings"]]
    assert len(messages) == 18
    assert_reads_at(width, detailed, messages)
    assert_reads_at(width, plain, [])
    assert not any(m in flowing(plain) for m in messages)  # only with --findings
    headline = (
        "Fleet audit: 5 accounts, 4 with errors (2 incomplete), 2 with warnings; "
        "7 errors, 10 warnings, 1 info in all"
    )
    assert (summary["accounts"], summary["errors"], summary["warnings"]) == (5, 7, 10)
    for text in (plain, detailed):
        assert flowing(text).endswith(headline)  # last, whole
        table = text[text.index("ACCOUNT ") :].splitlines()
        assert table[0].split() == ["ACCOUNT", "RESULT", "ERR", "WARN", "INFO", "SINKS", "SUBS"]
        assert len(table) == 1 + 5 + len(headline) // width + 1
    sections = [detailed.index(r["account_sid"] + ":") for r in reports if r["findings"]]
    assert max(sections) < detailed.index("ACCOUNT ")  # each account's findings, then the table


def test_a_failed_sign_in_is_one_finding_in_the_fleet(
    capsys: pytest.CaptureFixture[str], demo_fleet: list[str]
) -> None:
    *reports, _ = _json(capsys, ["audit", "--subaccounts", *demo_fleet])
    [refused] = [r for r in reports if r["totals"]["sinks"] == 0]  # "Acme Legacy"
    assert refused["totals"]["errors"] == 1
    [finding] = refused["findings"]
    assert (finding["code"], finding["subject"]) == ("AUDIT_INCOMPLETE", "account")
    assert finding["message"].startswith("could not sign in: HTTP 401")


# --- listen ------------------------------------------------------------------------------

WHEN = datetime(2025, 1, 31, 12, 0, 0, 250_000, tzinfo=timezone.utc)
EVENTS = [
    CloudEvent(
        id="8f14e45f-ceea-467f-a0e6-0c1f3c5e2b17", type=TEST_EVENT, source="Sink",
        specversion="1.0", time=WHEN, data={"test_id": TEST_ID},
    ),
    CloudEvent(
        id="EZ" + "1" * 32, type="com.twilio.messaging.message.delivered",
        source="/v1/Accounts/AC" + "0" * 32, specversion="1.0",
        time=WHEN.astimezone(timezone(timedelta(hours=2))),  # shown in UTC, like the rest
        data={"messageSid": "SM" + "2" * 32, "messageStatus": "delivered", "to": "+15005550006",
              "body": "hi there", "errorCode": None, "price": 0.0075},
    ),
    CloudEvent(
        id="e3", type="com.twilio.voice.insights.call-summary.complete", source="/v1",
        specversion="1.0", time=WHEN, data={"callSid": "CA\x1b[31m", "tags": ["a"], "x": {}},
    ),
    CloudEvent(id="e4", type="t.bare", source="/x", specversion="1.0"),
]  # fmt: skip


async def _listen_lines(
    monkeypatch: pytest.MonkeyPatch, width: int | None, *, as_json: bool
) -> str:
    """The lines `listen` prints for EVENTS: on a terminal `width` wide, or in a pipe."""
    out: io.StringIO = _Terminal() if width is not None else io.StringIO()
    with monkeypatch.context() as patched:
        patched.setattr(sys, "stdout", out)
        if width is not None:
            patched.setenv("COLUMNS", str(width))
        handle = printer(as_json, Stop())
        for event in EVENTS:
            await handle(event)
    return out.getvalue()


@pytest.mark.parametrize("width", WIDTHS)
async def test_listen_lines_are_aligned_and_fit_the_terminal(
    monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    text = await _listen_lines(monkeypatch, width, as_json=False)
    lines = text.splitlines()

    assert max(len(line) for line in lines) <= width
    rows = [line for line in lines if not line.startswith(" ")]
    header, *rows = rows
    assert header.split()[:3] == ["TIME", "TYPE", "ID"]
    assert len(rows) == len(EVENTS)
    for column in header.split()[1:]:  # each column starts where its name does, in every row
        at = header.index(column)
        assert all(row[at - 2 : at] == "  " and row[at] != " " for row in rows), column
    assert all(row.startswith("2025-01-31T12:00:00.250Z  ") for row in rows[:3])
    assert f"test_id={TEST_ID}" in text  # whole: it is what `sinks validate` takes
    assert "messageSid=SM2222" in text
    assert "…insights.call-summary.complete" in text or "call-summary.complete " in text
    assert "\x1b" not in text
    assert "callSid=CA\\x1b[31m" in text or width == 80


async def test_listen_lines_in_a_pipe_are_whole_with_a_few_pairs_of_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = (await _listen_lines(monkeypatch, None, as_json=False)).splitlines()

    assert len(lines) == len(EVENTS)  # no header, one line per event
    assert ELLIPSIS + " " not in "".join(lines)
    test, delivered, insights, bare = lines
    assert test.split() == [
        "2025-01-31T12:00:00.250Z",
        TEST_EVENT,
        EVENTS[0].id,
        f"test_id={TEST_ID}",
    ]
    assert delivered.endswith(
        f'  messageSid=SM{"2" * 32} messageStatus=delivered to=+15005550006 body="hi there" (+2)'
    )
    assert insights.endswith("callSid=CA\\x1b[31m tags=[…] x={}")
    assert bare.split() == ["-", "t.bare", "e4", "-"]
    # aligned ids, but for a type longer than the column, which pushes the rest (never cut)
    assert len({line.index(line.split()[2]) for line in (test, delivered, bare)}) == 1


async def test_listen_shows_one_time_format_in_both_modes(monkeypatch: pytest.MonkeyPatch) -> None:
    table = (await _listen_lines(monkeypatch, None, as_json=False)).splitlines()
    documents = [
        json.loads(line)
        for line in (await _listen_lines(monkeypatch, None, as_json=True)).splitlines()
    ]
    for line, document in zip(table[:3], documents, strict=False):
        assert line.split()[0] == document["time"] == "2025-01-31T12:00:00.250Z"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", document["time"])
    assert "time" not in documents[3]


def _widest_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    *,
    tty: bool,
) -> int:
    if tty:
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stdout", terminal)
        monkeypatch.setenv("COLUMNS", "80")
    status = main(args)
    output = terminal.getvalue() if tty else capsys.readouterr().out
    if tty:
        monkeypatch.undo()
    assert status in (0, 1), args
    return max(len(line) for line in output.splitlines())


TABLE_COMMANDS = [
    ["types", "list", "--fake"],
    ["schemas", "versions", "Messaging.MessageStatus", "--fake"],
    ["sinks", "list", "--fake"],
    ["types", "fetch", "com.twilio.messaging.message.delivered", "--fake"],
    ["subscriptions", "list", "--fake"],
    ["audit", "--fake"],
]


@pytest.mark.parametrize("args", TABLE_COMMANDS, ids=[" ".join(a[:2]) for a in TABLE_COMMANDS])
def test_tables_fit_80_columns_on_a_terminal_and_stay_whole_in_a_pipe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    on_terminal = _widest_line(monkeypatch, capsys, args, tty=True)
    in_a_pipe = _widest_line(monkeypatch, capsys, args, tty=False)
    wide = _widest_line(monkeypatch, capsys, [*args, "--wide"], tty=True)
    assert on_terminal <= 80
    assert in_a_pipe >= on_terminal
    assert wide >= in_a_pipe
