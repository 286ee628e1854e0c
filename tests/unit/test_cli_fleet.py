"""`events-async audit` over a fleet: the files it reads, what it prints, how it exits."""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from events_async.cli import main
from events_async.cli.accounts_file import parse_accounts
from events_async.cli.spec import UsageError
from events_async.fleet import Login
from events_async.testing import FakeAccount, FakeEventsServer
from events_async.testing.demo import seed_demo_account, seed_large_account

from ..system.test_cli import run

SK = "SK" + "5" * 32
AC = "AC" + "6" * 32


# --- the file formats, pure ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{AC},tok\n", [Login(AC, "tok")]),
        (f"sid,token\n# a comment\n\n{AC}, tok \n", [Login(AC, "tok")]),
        (f"{SK},secret,{AC}\n{AC},tok,\n", [Login(SK, "secret", AC), Login(AC, "tok")]),
        (f'"{AC}","to,k"\n', [Login(AC, "to,k")]),
        (
            f'{{"sid": "{AC}", "token": "tok", "note": "x"}}\n'
            f'{{"sid": "{SK}", "token": "s", "account_sid": "{AC}"}}\n',
            [Login(AC, "tok"), Login(SK, "s", AC)],
        ),
    ],
)
def test_accounts_files_in_csv_and_json_lines(text: str, expected: list[Login]) -> None:
    assert parse_accounts(text, "fleet.csv") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "lists no accounts"),
        (f"{AC},tok\nhunter2-secret,{AC}\n", "line 2: the sid is not"),
        (f"{AC}\n", "line 1: expected sid,token"),
        (f"{AC},tok,hunter2-secret,x\n", "line 1: expected sid,token"),
        (f"{AC},\n", "line 1: the token is missing"),
        (f"{SK},tok,hunter2-secret\n", "line 1: the account_sid is not"),
        ('{"sid": 1}\nhunter2-secret\n', "line 1: the sid is not"),
        (f'{{"sid": "{AC}", "token": "t"}}\nhunter2-secret\n', "line 2: not a JSON object"),
        (f'{{"sid": "{AC}", "token": "t"}}\n["hunter2-secret"]\n', "line 2: not a JSON object"),
    ],
)
def test_a_bad_line_is_named_by_its_number_never_its_text(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        parse_accounts(text, "fleet.csv")
    assert "hunter2" not in str(raised.value)


# --- in process, against a fake on a thread -------------------------------------------------


class ThreadedFake:
    """A fake on its own event loop in a thread (the command runs its own loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.fake = FakeEventsServer()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeEventsServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(10)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def fake() -> Iterator[FakeEventsServer]:
    with ThreadedFake() as served:
        yield served


def csv_of(accounts: list[FakeAccount]) -> str:
    return "sid,token\n" + "".join(f"{a.sid},{a.auth_token}\n" for a in accounts)


def audit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["audit", *args])
    out, err = capsys.readouterr()
    return status, out, err


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_a_file_of_accounts_streams_json_lines_then_a_summary(
    fake: FakeEventsServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    accounts = [seed_large_account(fake.add_subaccount(), sinks=1) for _ in range(3)]
    key, secret = fake.add_api_key(accounts[0])
    (tmp_path / "fleet.csv").write_text(csv_of(accounts) + f"{key},{secret},{accounts[0].sid}\n")

    status, out, err = audit(
        capsys, "--accounts", str(tmp_path / "fleet.csv"), "--base-url", fake.url, "--json"
    )

    assert status == 0, err
    *reports, summary = json_lines(out)
    assert [r["schema"] for r in reports] == ["events_async.audit/1"] * 4
    assert sorted(r["account_sid"] for r in reports) == sorted(
        [*(a.sid for a in accounts), accounts[0].sid]
    )
    assert summary == {
        "schema": "events_async.fleet-summary/1",
        "accounts": 4,
        "with_errors": 0,
        "with_warnings": 0,
        "incomplete": 0,
        "errors": 0,
        "warnings": 0,
        "info": 0,
        "interrupted": False,
    }
    assert secret not in out


def test_json_lines_from_stdin(
    fake: FakeEventsServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    account = fake.add_subaccount()
    line = json.dumps({"sid": account.sid, "token": account.auth_token})
    monkeypatch.setattr("sys.stdin", io.StringIO(line + "\n"))

    status, out, _ = audit(capsys, "--accounts", "-", "--base-url", fake.url, "--json")

    assert status == 0
    assert json_lines(out)[0]["account_sid"] == account.sid


@pytest.mark.parametrize(
    ("planted", "fail_on", "expected"),
    [
        ("clean", "error", 0),
        ("clean", "warning", 0),
        ("warning", "error", 0),
        ("warning", "warning", 1),
        ("error", "error", 1),
        ("error", "warning", 1),
        ("error", "never", 0),
        ("unreadable", "error", 1),
        ("unreadable", "never", 0),
    ],
)
def test_the_exit_status_follows_fail_on(
    fake: FakeEventsServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    planted: str,
    fail_on: str,
    expected: int,
) -> None:
    clean = fake.add_subaccount()
    other = fake.add_subaccount()
    if planted == "warning":  # an unused sink
        other.create_sink("spare", "segment", '{"write_key": "k"}').status = "active"
    elif planted == "error":
        other.create_sink("broken", "segment", '{"write_key": "k"}').status = "failed"
    (tmp_path / "fleet.csv").write_text(csv_of([clean, other]))
    if planted == "unreadable":
        other.auth_token = "rotated since the file was written"

    status, out, err = audit(
        capsys, "--accounts", str(tmp_path / "fleet.csv"), "--base-url", fake.url,
        "--fail-on", fail_on, "--max-retries", "0",
    )  # fmt: skip

    assert status == expected, err
    assert out.splitlines()[-1].startswith("Fleet audit: 2 accounts")


def test_the_table_lists_accounts_with_errors_first(
    fake: FakeEventsServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    clean = fake.add_subaccount()
    warned = fake.add_subaccount()
    warned.create_sink("spare", "segment", '{"write_key": "k"}').status = "active"
    broken = fake.add_subaccount()
    broken.create_sink("broken", "segment", '{"write_key": "k"}').status = "failed"
    (tmp_path / "fleet.csv").write_text(csv_of([clean, warned, broken]))

    status, out, _ = audit(
        capsys, "--accounts", str(tmp_path / "fleet.csv"), "--base-url", fake.url
    )

    lines = out.splitlines()
    assert status == 1
    assert lines[0].split() == ["ACCOUNT", "RESULT", "ERR", "WARN", "INFO", "SINKS", "SUBS"]
    assert [line.split()[0] for line in lines[1:4]] == [broken.sid, warned.sid, clean.sid]
    assert [line.split()[1] for line in lines[1:4]] == ["errors", "warnings", "clean"]
    assert lines[4] == (
        "Fleet audit: 3 accounts, 1 with errors (0 incomplete), 2 with warnings; "
        "1 error, 2 warnings, 0 info in all"
    )


def test_subaccounts_are_discovered_on_the_accounts_url(
    fake: FakeEventsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    children = [fake.add_subaccount() for _ in range(3)]
    fake.add_subaccount(status="closed")
    parent = ["--account-sid", fake.account.sid, "--auth-token", fake.account.auth_token]

    status, out, err = audit(
        capsys, "--subaccounts", "--include-parent", "--accounts-url", fake.url,
        "--base-url", fake.url, "--json", *parent,
    )  # fmt: skip

    assert status == 0, err
    *reports, summary = json_lines(out)
    assert {r["account_sid"] for r in reports} == {fake.account.sid, *(c.sid for c in children)}
    assert summary["accounts"] == 4
    assert fake.request_count("GET /2010-04-01/Accounts.json") == 1

    status, out, _ = audit(
        capsys, "--subaccounts", "--status", "closed", "--accounts-url", fake.url,
        "--base-url", fake.url, "--json", *parent,
    )  # fmt: skip
    assert json_lines(out)[-1]["accounts"] == 1
    assert status == 1  # a closed account cannot sign in: an error


def test_wrong_parent_credentials_exit_2_in_one_line(
    fake: FakeEventsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = audit(
        capsys, "--subaccounts", "--accounts-url", fake.url, "--account-sid", fake.account.sid,
        "--auth-token", "wrong-parent-token",
    )  # fmt: skip
    assert status == 2
    assert len(err.splitlines()) == 1
    assert "wrong-parent-token" not in err + out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subaccounts", "--accounts", "f.csv"], "cannot be combined"),
        (["--include-parent"], "go with --subaccounts"),
        (["--status", "all"], "go with --subaccounts"),
        (["--shard", "1/2"], "--shard needs"),
        (["--fake", "--accounts", "f.csv"], "--fake audits its demo fleet"),
        (["--accounts", "/nonexistent/fleet.csv"], "cannot read --accounts"),
    ],
)
def test_impossible_combinations_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _, err = audit(capsys, *args)
    assert status == 2
    assert message in err
    assert len(err.splitlines()) == 1


def test_a_bad_shard_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    """The parser reads --shard with `Shard.parse` (its refusals: tests/unit/test_fleet.py)."""
    with pytest.raises(SystemExit) as exited:
        main(["audit", "--fake", "--subaccounts", "--shard", "3/2"])
    assert exited.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "argument --shard: shard index must be at most 2, got 3" in line


# --- as a subprocess: the demo fleet --------------------------------------------------------


def test_audit_of_the_demo_fleet() -> None:
    result = run("audit", "--fake", "--subaccounts", "--include-parent")

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    results = [line.split()[1] for line in lines[1:-1]]
    assert results[-1] == "clean"
    assert {"errors", "sign-in", "incomplete"} <= set(results)  # "sign-in failed"
    assert re.match(r"Fleet audit: 5 accounts, 4 with errors \(2 incomplete\)", lines[-1])
    assert result.stderr == ""


def test_shards_split_a_fleet_file_between_runs(
    fake: FakeEventsServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    accounts = [fake.add_subaccount() for _ in range(9)]
    (tmp_path / "fleet.csv").write_text(csv_of(accounts))
    audited: list[str] = []
    for shard in ("1/3", "2/3", "3/3"):
        status, out, err = audit(
            capsys, "--accounts", str(tmp_path / "fleet.csv"), "--base-url", fake.url,
            "--json", "--shard", shard,
        )  # fmt: skip
        assert status == 0, err
        *reports, summary = json_lines(out)
        assert summary["accounts"] == len(reports)
        audited += [r["account_sid"] for r in reports]
    assert sorted(audited) == sorted(a.sid for a in accounts)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_over_accounts_on_a_terminal_only(
    fake: FakeEventsServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    accounts = [fake.add_subaccount() for _ in range(3)]
    (tmp_path / "fleet.csv").write_text(csv_of(accounts))
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    status = main(["audit", "--accounts", str(tmp_path / "fleet.csv"), "--base-url", fake.url])
    assert status == 0
    drawn = terminal.getvalue()
    frames = [frame.rstrip() for frame in drawn.split("\r") if frame.strip()]
    assert frames == [  # a file's accounts are known at once: a bar from the start
        "accounts [##########....................] 1/3",
        "accounts [####################..........] 2/3",
        "accounts [##############################] 3/3",
    ]
    assert drawn.endswith("\r")  # the bar's line is cleared before the table
    assert capsys.readouterr().out.startswith("ACCOUNT")


def _frames(drawn: str) -> list[str]:
    return [frame.rstrip() for frame in drawn.split("\r") if frame.strip()]


def _bar_is_honest(frame: str) -> bool:
    """A determinate frame's bar is as full as done/total, no more."""
    bar, done, total = re.fullmatch(r"\w+ \[([#.]+)\] (\d+)/(\d+)", frame).groups()  # type: ignore[union-attr]
    return bar.count("#") == len(bar) * int(done) // int(total)


def test_while_discovery_pages_a_counter_then_a_bar_once_the_total_is_known(
    fake: FakeEventsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(6):
        fake.add_subaccount()
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    parent = ["--account-sid", fake.account.sid, "--auth-token", fake.account.auth_token]
    status = main(
        ["audit", "--subaccounts", "--accounts-url", fake.url, "--base-url", fake.url,
         "--accounts-at-once", "2", *parent]
    )  # fmt: skip  # two at a time: the source is spent only near the end

    assert status == 0
    frames = _frames(terminal.getvalue())
    counting = [f for f in frames if f.endswith("audited…")]
    bars = [f for f in frames if "[" in f]
    assert counting[:2] == ["1 account audited…", "2 accounts audited…"]
    assert frames == counting + bars  # never back to counting once the total is known
    assert bars
    assert all(f.endswith("/6") and _bar_is_honest(f) for f in bars)
    assert bars[-1] == "accounts [##############################] 6/6"


def test_one_accounts_audit_counts_reads_until_it_knows_them_all(
    fake: FakeEventsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_demo_account(fake.account)
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    credentials = ["--account-sid", fake.account.sid, "--auth-token", fake.account.auth_token]
    assert main(["audit", "--base-url", fake.url, *credentials]) == 1

    frames = _frames(terminal.getvalue())
    counting = [f for f in frames if f.startswith("auditing: ")]
    bars = frames[len(counting) :]
    assert counting[0] == "auditing: 0 reads done…"
    assert bars
    assert all(f.endswith("/15") and _bar_is_honest(f) for f in bars)
    assert bars[-1] == "auditing [##############################] 15/15"


def test_no_subaccount_token_reaches_any_output_even_verbose(fake: FakeEventsServer) -> None:
    children = [fake.add_subaccount() for _ in range(3)]
    children[0].listed_auth_token = "a-stale-token-that-fails-" + "9" * 8  # a 401, logged
    parent = ["--account-sid", fake.account.sid, "--auth-token", fake.account.auth_token]
    for output in ([], ["--json"]):
        result = run(
            "audit", "-v", "--subaccounts", "--accounts-url", fake.url, "--base-url", fake.url,
            "--max-retries", "0", *output, *parent,
        )  # fmt: skip
        assert result.returncode == 1
        assert "GET " in result.stderr  # the verbose log is there
        for secret in [c.token_in_listing for c in children] + [fake.account.auth_token]:
            assert secret not in result.stdout + result.stderr
