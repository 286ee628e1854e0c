"""`events-async listen`: a receiver from the command line, in a subprocess."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import AbstractContextManager as ContextManager

from events_async.webhooks import SIGNATURE_HEADER, signature_for, signed_url

from ..processes import commanding

TOKEN = "listen-test-token-value"


def listening(
    *args: str, env: dict[str, str] | None = None
) -> ContextManager[subprocess.Popen[str]]:
    """`events-async listen` on a free port, in a process of its own."""
    return commanding("listen", "--port", "0", *args, env=env)


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Ctrl-C, then the exit status and the rest of stderr."""
    process.send_signal(signal.SIGINT)
    assert process.stderr is not None
    rest = process.stderr.read()
    return process.wait(timeout=10), rest


def deliver(url: str, body: bytes, token: str) -> int:
    target = signed_url(url, body)
    request = urllib.request.Request(
        target, data=body, headers={SIGNATURE_HEADER: signature_for(token, target)}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_listen_fake_shows_the_whole_loop_and_stops_cleanly_on_ctrl_c() -> None:
    with listening("--fake", "--json") as process:
        assert process.stdout is not None
        assert process.stderr is not None
        events = [json.loads(process.stdout.readline()) for _ in range(4)]
        status, rest = stop(process)
    kinds = [e["type"].rsplit(".", 1)[1] for e in events]
    assert kinds == ["test-event", "queued", "sent", "delivered"]
    assert len(events[0]["data"]["test_id"]) == 36  # what `sinks validate --test-id` takes
    assert all(e["specversion"] == "1.0" for e in events)
    assert status == 0
    assert "stopped" in rest
    assert "Traceback" not in rest


def test_listen_prints_verified_events_only() -> None:
    with listening("--auth-token", TOKEN, "--path", "/hooks") as process:
        assert process.stdout is not None
        assert process.stderr is not None
        url = re.search(r"listening on (\S+);", process.stderr.readline())[1]  # type: ignore[index]
        assert url.endswith("/hooks")
        event = {"specversion": "1.0", "type": "t.forged", "source": "/x", "id": "e1"}
        forged = deliver(url, json.dumps([event]).encode(), "not the token")
        event["type"] = "t.genuine"
        genuine = deliver(url, json.dumps([event]).encode(), TOKEN)
        line = process.stdout.readline()
        status, _ = stop(process)
    assert (forged, genuine) == (403, 200)
    assert "t.genuine" in line
    assert "e1" in line
    assert status == 0


def test_listen_shows_a_test_events_test_id_in_its_table() -> None:
    with listening("--auth-token", TOKEN) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        url = re.search(r"listening on (\S+);", process.stderr.readline())[1]  # type: ignore[index]
        test_id = "5a0c2bb6-66a3-4f7b-9c36-1a4f2b8e9d01"
        event = {"specversion": "1.0", "type": "com.twilio.eventstreams.test-event",
                 "source": "Sink", "id": "e9", "data": {"test_id": test_id}}  # fmt: skip
        assert deliver(url, json.dumps([event]).encode(), TOKEN) == 200
        line = process.stdout.readline()
        stop(process)
    assert f"test_id={test_id}" in line


def test_listen_takes_the_token_from_the_environment() -> None:
    with listening(env={"TWILIO_AUTH_TOKEN": TOKEN}) as process:
        assert process.stderr is not None
        assert "listening on" in process.stderr.readline()
        status, _ = stop(process)
    assert status == 0


def test_listen_without_a_token_fails_in_one_line() -> None:
    """(On a port in use: tests/system/test_ports.py.)"""
    with listening() as process:
        assert process.stderr is not None
        err = process.stderr.read()
        assert process.wait(timeout=10) == 2
    assert err.startswith("events-async: error: no auth token")
    assert len(err.splitlines()) == 1


def test_a_closed_stdout_ends_listen_quietly() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "EVENTS_"))}
    result = subprocess.run(
        ["bash", "-c", f"'{sys.executable}' -m events_async listen --fake --json --port 0 | head -1"
         "; exit ${PIPESTATUS[0]}"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean,
        check=False,
    )  # fmt: skip
    assert result.returncode == 141  # as a process killed by SIGPIPE
    assert json.loads(result.stdout)["specversion"] == "1.0"
    assert "Traceback" not in result.stderr
    assert "warning" not in result.stderr


def test_listen_on_an_80_column_terminal_fits_it_and_shows_each_events_data() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "EVENTS_"))}
    terminal, stdout = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "events_async", "listen", "--fake", "--port", "0"],
        stdout=stdout, stderr=subprocess.PIPE, text=True, env={**clean, "COLUMNS": "80"},
    )  # fmt: skip
    os.close(stdout)
    try:
        seen = b""
        deadline = time.monotonic() + 60
        while seen.count(b"messageSid=") < 3:  # the three demo events after the test event
            assert time.monotonic() < deadline, seen
            if select.select([terminal], [], [], deadline - time.monotonic())[0]:
                seen += os.read(terminal, 4096)
        status, _ = stop(process)
    finally:
        os.close(terminal)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()
    lines = seen.decode().replace("\r\n", "\n").splitlines()

    assert status == 0
    assert max(len(line) for line in lines) <= 80
    assert lines[:2] == [f"{'TIME':<24}  {'TYPE':<38}  ID", "  DATA"]
    assert re.fullmatch(r"  test_id=[0-9a-f-]{36}", lines[3])  # whole, under its event
    assert lines[2].split()[1] == "com.twilio.eventstreams.test-event"
    for row, data in zip(lines[4::2], lines[5::2], strict=True):
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  com\.twilio\.messaging\.", row)
        assert data.startswith("  messageSid=SM")
