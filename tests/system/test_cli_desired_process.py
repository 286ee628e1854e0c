"""`plan`, `apply` and `export` as a user runs them, each in a process of its own against a
fake: exit statuses, `--yes` without a terminal, a stale saved plan, a bad file, JSON
lines, the question on a terminal, Ctrl-C, and the README's walkthrough as it is written."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from events_async.testing import FakeEventsServer, Fault

from ..processes import CLEAN, command, commanding, fake_server
from ..unit.test_cli_desired import FILE, README, credentials, writes
from ..unit.test_cli_fleet import ThreadedFake, csv_of
from .test_cli_interrupt import drain, read_until

DEADLINE = 60.0


@pytest.fixture
def fake() -> Iterator[FakeEventsServer]:
    with ThreadedFake() as served:
        yield served


def events_async(
    *args: str, stdin: int | None = subprocess.DEVNULL, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`events-async ARGS` run to its end, with no terminal on stdin."""
    return subprocess.run(
        command(*args), stdin=stdin, capture_output=True, text=True, timeout=DEADLINE,
        env={**CLEAN, **(env or {})}, check=False,
    )  # fmt: skip


def test_the_exit_statuses_a_ci_job_reads(fake: FakeEventsServer, tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(FILE)
    plan = ["plan", "-f", str(tmp_path / "s.toml"), "--detailed-exitcode", *credentials(fake)]

    drift = events_async(*plan)
    applied = events_async("apply", "-f", str(tmp_path / "s.toml"), "--yes", *credentials(fake))
    converged = events_async(*plan)
    fake.inject(Fault(route="GET /v1/Sinks", status=500, times=None))
    broken = events_async(*plan)

    assert (drift.returncode, applied.returncode, converged.returncode) == (2, 0, 0)
    assert broken.returncode == 1
    assert broken.stdout.splitlines()[-1].endswith("0 unchanged, 1 failed")
    for done in (drift, applied, converged, broken):
        assert "Traceback" not in done.stderr


def test_apply_without_yes_and_without_a_terminal_is_refused_and_writes_nothing(
    fake: FakeEventsServer, tmp_path: Path
) -> None:
    (tmp_path / "s.toml").write_text(FILE)

    done = events_async("apply", "-f", str(tmp_path / "s.toml"), *credentials(fake))

    assert (done.returncode, done.stdout) == (2, "")
    assert len(done.stderr.splitlines()) == 1
    assert "needs --yes" in done.stderr
    assert fake.request_count("*") == 0


def test_a_stale_saved_plan_is_refused_with_nothing_written(
    fake: FakeEventsServer, tmp_path: Path
) -> None:
    (tmp_path / "s.toml").write_text(FILE)
    saved = str(tmp_path / "plan.jsonl")
    made = events_async("plan", "-f", str(tmp_path / "s.toml"), "--out", saved, *credentials(fake))
    assert made.returncode == 0, made.stderr
    fake.account.create_sink("by hand", "segment", '{"write_key": "k"}')
    before = writes(fake)

    done = events_async("apply", saved, "-f", str(tmp_path / "s.toml"), *credentials(fake))

    assert done.returncode == 1
    assert "changed since the plan was made" in done.stdout
    assert writes(fake) == before


def test_a_bad_file_is_one_line_and_1_before_any_request(
    fake: FakeEventsServer, tmp_path: Path
) -> None:
    (tmp_path / "s.toml").write_text(FILE.replace('sink = "orders webhook"', 'sink = "nope"'))

    done = events_async("plan", "-f", str(tmp_path / "s.toml"), *credentials(fake))

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"events-async: error: {tmp_path / 's.toml'}: subscription[0].sink: 'nope' is not the "
        "description of a sink of this file\n"
    )
    assert fake.request_count("*") == 0


def test_json_lines_one_per_account_over_a_fleet(fake: FakeEventsServer, tmp_path: Path) -> None:
    accounts = [fake.add_subaccount() for _ in range(3)]
    (tmp_path / "fleet.csv").write_text(csv_of(accounts))
    (tmp_path / "s.toml").write_text(FILE)

    done = events_async(
        "apply", "-f", str(tmp_path / "s.toml"), "--accounts", str(tmp_path / "fleet.csv"),
        "--yes", "--json", *credentials(fake),
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(line["account_sid"] for line in lines) == sorted(a.sid for a in accounts)
    assert {(line["schema"], line["made"]) for line in lines} == {("events_async.apply/1", 2)}


def test_on_a_terminal_apply_asks_and_a_yes_applies(fake: FakeEventsServer, tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(FILE)
    terminal, keyboard = os.openpty()
    try:
        process = subprocess.Popen(
            command("apply", "-f", str(tmp_path / "s.toml"), *credentials(fake)),
            stdin=keyboard, stdout=subprocess.PIPE, stderr=keyboard, text=True, env=CLEAN,
        )  # fmt: skip
        os.close(keyboard)
        read_until(terminal, r"Apply these changes\? \[y/N\] ", time.monotonic() + DEADLINE)
        os.write(terminal, b"y\n")
        out, _ = process.communicate(timeout=DEADLINE)
        drain(terminal)
    finally:
        os.close(terminal)

    assert process.returncode == 0
    assert out.splitlines()[-1] == "1 account: 1 changed (2 changes made), 0 unchanged, 0 failed"
    assert len(fake.account.sinks) == 1


def test_ctrl_c_prints_the_accounts_planned_and_exits_130(
    fake: FakeEventsServer, tmp_path: Path
) -> None:
    quick = [fake.add_subaccount() for _ in range(3)]
    slow = [fake.add_subaccount() for _ in range(2)]
    for account in slow:
        fake.inject(Fault(delay=DEADLINE, times=None, account=account.sid))
    (tmp_path / "fleet.csv").write_text(csv_of(quick + slow))
    (tmp_path / "s.toml").write_text(FILE)
    started = time.monotonic()

    with commanding(
        "plan", "-f", str(tmp_path / "s.toml"), "--accounts", str(tmp_path / "fleet.csv"),
        "--json", "--base-url", fake.url, "--max-retries", "0",
    ) as process:  # fmt: skip
        assert process.stdout is not None
        streamed = read_until(process.stdout.fileno(), r"(.*\n){3}", started + DEADLINE)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)

    assert process.returncode == 130
    assert time.monotonic() - started < DEADLINE
    planned = [json.loads(line)["account_sid"] for line in (streamed + out).splitlines()]
    assert sorted(planned) == sorted(a.sid for a in quick)
    assert err.splitlines() == [
        "events-async: interrupted: 3 accounts planned before Ctrl-C; the others were not"
    ]


# --- the README's section, run as written -----------------------------------------------------


def _section() -> str:
    text = README.read_text()
    start = text.index("\n## Event Streams as code\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def readme_blocks(kind: str) -> list[str]:
    """The section's code blocks of one kind (`toml`, `bash`)."""
    return re.findall(rf"```{kind}\n(.*?)```", _section(), flags=re.DOTALL)


def test_the_readmes_walkthrough_runs_as_written(tmp_path: Path) -> None:
    (streams,) = readme_blocks("toml")
    (tmp_path / "streams.toml").write_text(streams)
    steps = [
        line for block in readme_blocks("bash") for line in block.splitlines()
        if line.startswith("events-async") and not line.startswith("events-async fake-server")
    ]  # fmt: skip
    assert len(steps) >= 10, steps
    with fake_server() as env:
        for step in steps:
            shell = f'events-async() {{ "{command()[0]}" -m events_async "$@"; }}\n{step}'
            done = subprocess.run(
                ["bash", "-c", shell], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=DEADLINE, check=False,
            )  # fmt: skip
            wanted = re.search(r"# exit (\d)", step)
            assert done.returncode == (int(wanted[1]) if wanted else 0), (step, done.stderr)
            assert "Traceback" not in done.stderr
