"""Ctrl-C during a fleet audit keeps what finished: the accounts that completed are
printed, the output says it was interrupted, and the exit status is 130."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path

import pytest

from events_async.testing import FakeAccount, FakeEventsServer, Fault

from ..processes import commanding
from ..unit.test_cli_fleet import ThreadedFake, csv_of

DEADLINE = 60.0


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[FakeEventsServer, list[FakeAccount], Path]]:
    """A fake with three quick accounts and two that answer nothing for a minute."""
    with ThreadedFake() as fake:
        quick = [fake.add_subaccount() for _ in range(3)]
        slow = [fake.add_subaccount() for _ in range(2)]
        for account in slow:
            fake.inject(Fault(delay=DEADLINE, times=None, account=account.sid))
        (tmp_path / "fleet.csv").write_text(csv_of(quick + slow))
        yield fake, quick, tmp_path / "fleet.csv"


def auditing(
    fake: FakeEventsServer, accounts: Path, *options: str, stderr: int = subprocess.PIPE
) -> ContextManager[subprocess.Popen[str]]:
    """`events-async audit --accounts FILE` against `fake`, in a process of its own."""
    return commanding("audit", "--accounts", str(accounts), "--base-url", fake.url,
                   "--max-retries", "0", *options, stderr=stderr)  # fmt: skip


def read_until(fd: int, pattern: str, deadline: float) -> str:
    """What `fd` gives until `pattern` shows up in it (before `deadline`, a monotonic time)."""
    seen = b""
    while not re.search(pattern, seen.decode(errors="replace")):
        left = deadline - time.monotonic()
        assert left > 0, f"{pattern!r} never came: {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"closed before {pattern!r}: {seen!r}"
            seen += chunk
    return seen.decode(errors="replace")


def drain(fd: int) -> str:
    """The rest of a pty's output, once its writer has exited."""
    seen = b""
    while select.select([fd], [], [], 0)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        seen += chunk
    return seen.decode(errors="replace")


def test_ctrl_c_prints_the_accounts_that_finished_and_exits_130(
    fleet: tuple[FakeEventsServer, list[FakeAccount], Path],
) -> None:
    fake, quick, accounts = fleet
    started = time.monotonic()
    terminal, stderr = os.openpty()  # a terminal on stderr: the bar tells when 3 are done
    try:
        with auditing(fake, accounts, stderr=stderr) as process:
            os.close(stderr)
            read_until(terminal, r"\] 3/5", started + DEADLINE)
            process.send_signal(signal.SIGINT)
            assert process.stdout is not None
            out = process.stdout.read()
            status = process.wait(timeout=30)
        err = drain(terminal)
    finally:
        os.close(terminal)

    assert status == 130
    assert time.monotonic() - started < DEADLINE  # it did not wait for the slow accounts
    lines = out.splitlines()
    assert lines[0].split()[0] == "ACCOUNT"
    assert sorted(line.split()[0] for line in lines[1:-1]) == sorted(a.sid for a in quick)
    assert lines[-1] == (
        "Fleet audit (interrupted): 3 accounts, 0 with errors (0 incomplete), 0 with warnings; "
        "0 errors, 0 warnings, 0 info in all"
    )
    said = err.replace("\r", "\n").strip().splitlines()[-1]
    assert (
        said == "events-async: interrupted: 3 accounts audited before Ctrl-C; the others were not"
    )
    assert "Traceback" not in err


def test_ctrl_c_ends_json_lines_with_a_summary_that_says_interrupted(
    fleet: tuple[FakeEventsServer, list[FakeAccount], Path],
) -> None:
    fake, quick, accounts = fleet
    started = time.monotonic()
    with auditing(fake, accounts, "--json") as process:
        assert process.stdout is not None
        assert process.stderr is not None
        streamed = read_until(process.stdout.fileno(), r"(.*\n){3}", started + DEADLINE)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)

    assert process.returncode == 130
    *reports, summary = [json.loads(line) for line in (streamed + out).splitlines()]
    assert sorted(r["account_sid"] for r in reports) == sorted(a.sid for a in quick)
    assert summary["schema"] == "events_async.fleet-summary/1"
    assert (summary["accounts"], summary["interrupted"]) == (3, True)
    assert err.splitlines() == [
        "events-async: interrupted: 3 accounts audited before Ctrl-C; the others were not"
    ]
