"""The `events-async` command: run as a subprocess, and in-process against a standalone fake."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from events_async.cli import main

DELIVERED = "com.twilio.messaging.message.delivered"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m events_async ARGS` in a clean environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    return subprocess.run(
        [sys.executable, "-m", "events_async", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **(env or {})},
        check=False,
    )


# --- as a subprocess ------------------------------------------------------------------


def test_audit_of_the_demo_account_exits_1_with_a_readable_report() -> None:
    result = run("audit", "--fake")

    assert result.returncode == 1
    headline = result.stdout.splitlines()[0]
    assert re.match(r"Audit of AC[0-9a-f]{32}: 5 sinks, 7 subscriptions", headline)
    assert "SUBSCRIPTION_SINK_MISSING" in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_audit_json_parses() -> None:
    result = run("audit", "--fake", "--json")

    document = json.loads(result.stdout)
    assert document["schema"] == "events_async.audit/1"
    assert {f["code"] for f in document["findings"]} >= {"SINK_FAILED", "WEBHOOK_INSECURE"}
    assert result.returncode == 1


def test_resource_commands_print_tables_and_json() -> None:
    table = run("sinks", "list", "--fake")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == ["SID", "SINK_TYPE", "STATUS", "DESCRIPTION"]
    assert len(table.stdout.splitlines()) == 6

    as_json = run("types", "fetch", DELIVERED, "--fake", "--json")
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout)["schema_id"] == "Messaging.MessageStatus"


def test_missing_credentials_exit_2_with_one_line() -> None:
    result = run("sinks", "list")

    assert result.returncode == 2
    assert result.stderr.startswith("events-async: error: no credentials")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    assert run("sinks").returncode == 2
    assert run("sinks", "fetch", "DG123", "--fake").returncode == 2


def test_network_errors_exit_1_with_one_line() -> None:
    result = run(
        "sinks",
        "list",
        "--base-url",
        "http://127.0.0.1:1",
        "--max-retries",
        "0",
        env={"TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "TWILIO_AUTH_TOKEN": "secret-token"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("events-async: error: GET http://127.0.0.1:1/v1/Sinks failed")
    assert len(result.stderr.splitlines()) == 1
    assert "secret-token" not in result.stderr


def test_the_console_script_is_installed() -> None:
    script = os.path.join(os.path.dirname(sys.executable), "events-async")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "audit" in result.stdout


# --- in process, against a standalone fake --------------------------------------------


@contextlib.contextmanager
def webhook_receiver() -> Iterator[tuple[str, queue.Queue[Any]]]:
    """A webhook endpoint on a thread (the command runs its own event loop)."""
    received: queue.Queue[Any] = queue.Queue()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.put(json.loads(self.rfile.read(length)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/events", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def fake_server() -> Iterator[list[str]]:
    """A fake in its own process; yields the connection arguments for the command."""
    process = subprocess.Popen(
        [sys.executable, "-m", "events_async.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().rsplit(" ", 1)[1].strip()
    sid = process.stdout.readline().split("=", 1)[1].strip()
    token = process.stdout.readline().split("=", 1)[1].strip()
    try:
        yield ["--base-url", url, "--account-sid", sid, "--auth-token", token]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def call(capsys: pytest.CaptureFixture[str], connection: list[str], *args: str) -> Any:
    """Run the command in-process with --json; its exit status must be 0."""
    status = main([*args, *connection, "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def test_every_operation_through_the_command(
    fake_server: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    c = fake_server
    assert len(call(capsys, c, "types", "list", "--schema-id", "Messaging.MessageStatus")) >= 5
    assert call(capsys, c, "types", "fetch", DELIVERED)["type"] == DELIVERED
    assert call(capsys, c, "schemas", "fetch", "Messaging.MessageStatus")["latest_version"] == 5
    assert len(call(capsys, c, "schemas", "versions", "Messaging.MessageStatus")) == 5
    assert (
        call(capsys, c, "schemas", "version", "Messaging.MessageStatus", "2")["schema_version"] == 2
    )

    sink = call(
        capsys, c, "sinks", "create", "--description", "cli", "--type", "kinesis",
        "--configuration", '{"arn": "a", "role_arn": "r", "external_id": "e"}',
    )  # fmt: skip
    sid = sink["sid"]
    assert call(capsys, c, "sinks", "fetch", sid)["status"] == "initialized"
    assert (
        call(capsys, c, "sinks", "update", sid, "--description", "cli 2")["description"] == "cli 2"
    )
    assert call(capsys, c, "sinks", "test", sid) == {"result": "submitted"}
    assert main(["sinks", "validate", sid, "--test-id", "wrong", *c]) == 1
    assert "TestId" in capsys.readouterr().err
    assert [s["sid"] for s in call(capsys, c, "sinks", "list", "--status", "validating")] == [sid]
    assert call(capsys, c, "sinks", "list", "--in-use") == []
    assert len(call(capsys, c, "sinks", "list", "--not-in-use", "--limit", "5")) == 1

    assert (
        main(
            [
                "subscriptions",
                "create",
                "--description",
                "d",
                "--sink-sid",
                sid,
                "--type",
                DELIVERED,
                *c,
            ]
        )
        == 1
    )
    assert "active sink" in capsys.readouterr().err


def test_subscription_commands(fake_server: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    c = fake_server
    with webhook_receiver() as (destination, received):
        configuration = json.dumps({"destination": destination, "method": "POST"})
        sink = call(
            capsys, c, "sinks", "create", "--description", "subs", "--type", "webhook",
            "--configuration", configuration,
        )  # fmt: skip
        sid = sink["sid"]
        call(capsys, c, "sinks", "test", sid)
        test_id = received.get(timeout=10)[0]["data"]["test_id"]
    assert call(capsys, c, "sinks", "validate", sid, "--test-id", test_id) == {"result": "valid"}

    sub = call(
        capsys, c, "subscriptions", "create", "--description", "receipts", "--sink-sid", sid,
        "--type", f"{DELIVERED}:2", "--type", "com.twilio.messaging.message.failed",
    )  # fmt: skip
    sub_sid = sub["sid"]
    assert call(capsys, c, "subscriptions", "fetch", sub_sid)["sink_sid"] == sid
    assert (
        call(capsys, c, "subscriptions", "update", sub_sid, "--description", "r2")["description"]
        == "r2"
    )
    assert [s["sid"] for s in call(capsys, c, "subscriptions", "list", "--sink-sid", sid)] == [
        sub_sid
    ]

    events = call(capsys, c, "subscribed-events", "list", sub_sid)
    assert {e["type"]: e["schema_version"] for e in events}[DELIVERED] == 2
    sent = "com.twilio.messaging.message.sent"
    assert (
        call(capsys, c, "subscribed-events", "create", sub_sid, sent, "--schema-version", "1")[
            "type"
        ]
        == sent
    )
    assert (
        call(capsys, c, "subscribed-events", "update", sub_sid, sent, "--schema-version", "4")[
            "schema_version"
        ]
        == 4
    )
    assert call(capsys, c, "subscribed-events", "fetch", sub_sid, sent)["schema_version"] == 4
    assert call(capsys, c, "subscribed-events", "delete", sub_sid, sent) == {"deleted": sent}
    assert call(capsys, c, "subscriptions", "delete", sub_sid) == {"deleted": sub_sid}
    assert call(capsys, c, "sinks", "delete", sid) == {"deleted": sid}


def test_tables_for_people(fake_server: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types", "fetch", DELIVERED, *fake_server]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^type\s+{re.escape(DELIVERED)}$", out, re.M)
    assert main(["subscriptions", "list", *fake_server, "--sink-sid", "DG" + "0" * 32]) == 0
    assert capsys.readouterr().out == "(none)\n"


def test_audit_of_a_clean_account_exits_0(
    fake_server: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["audit", *fake_server])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "No problems found." in out


def test_wrong_token_exits_2(fake_server: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    connection = [*fake_server[:-1], "wrong-token"]
    assert main(["sinks", "list", *connection]) == 2
    err = capsys.readouterr().err
    assert err.startswith("events-async: error: HTTP 401 (code 20003)")
    assert main(["audit", *connection]) == 2
