"""The command behaves like gh or the Stripe CLI: one line per error, never a traceback,
quiet on a closed pipe, every option with its help, a fake's exports enough to run it.
(What it draws on a terminal: tests/unit/test_cli_width.py, tests/unit/test_cli_render.py;
its usage errors: tests/unit/test_cli_errors.py.)"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from events_async.cli import _MaskSecrets, main
from events_async.cli.connection import CONNECTION_OPTIONS
from events_async.cli.parser import ALL_GROUPS, GLOBAL_OPTIONS, build_parser
from events_async.cli.spec import LIST_OPTIONS, Arg, each_arg

from .test_cli import run

LIST_COMMANDS = [
    ("types", "list"),
    ("schemas", "versions"),
    ("sinks", "list"),
    ("subscriptions", "list"),
    ("subscribed-events", "list"),
]


def _one_line(text: str) -> str:
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize(
    "runner",
    [["-m", "events_async", "fake-server"], ["-m", "events_async.testing"]],
    ids=["events-async fake-server", "python -m events_async.testing"],
)
@pytest.mark.parametrize(
    ("options", "status", "says"),
    [
        (["--port", "99999"], 2, "a port is 0 to 65535"),
        (["--port", "-5"], 2, "a port is 0 to 65535"),
        (["--port", "eighty"], 2, "not a port number"),
        (["--host", "8.8.8.8", "--port", "0"], 2, "cannot listen on 8.8.8.8:0"),
        (["--host", "nosuchhost.invalid", "--port", "0"], 2, "cannot listen on nosuchhost"),
    ],
)
def test_the_fake_server_fails_in_one_line(
    runner: list[str], options: list[str], status: int, says: str
) -> None:
    """(A port in use: tests/system/test_ports.py.)"""
    result = subprocess.run(
        [sys.executable, *runner, *options], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == status
    assert says in _one_line(result.stderr)


def test_a_closed_stdout_ends_the_command_quietly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "events_async", "types", "list", "--fake"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert stderr == ""


def test_piping_into_head_prints_no_traceback() -> None:
    result = subprocess.run(
        ["bash", "-c", f"'{sys.executable}' -m events_async types list --fake | head -1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.startswith("TYPE")
    assert result.stderr == ""


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from events_async.cli import connection

    def broken(args: argparse.Namespace) -> None:
        raise ZeroDivisionError("the unexpected")

    monkeypatch.setattr(connection, "open_client", broken)
    assert main(["sinks", "list", "--fake"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line == (
        "events-async: error: unexpected ZeroDivisionError: the unexpected "
        "(--debug shows the traceback)"
    )
    assert main(["sinks", "list", "--fake", "--debug"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_verbose_logs_requests_to_stderr() -> None:
    result = run("sinks", "list", "--fake", "-v")
    assert result.returncode == 0
    assert re.search(
        r"events-async: DEBUG GET http://127\.0\.0\.1:\d+/v1/Sinks.* -> 200", result.stderr
    )


def test_verbose_masks_every_known_secret() -> None:
    record = logging.LogRecord(
        "events_async", logging.DEBUG, "", 0, "token %s and %s", ("s3cr3t", "k3y"), None
    )
    _MaskSecrets(["s3cr3t", "k3y", ""]).filter(record)
    assert record.getMessage() == "token *** and ***"


def _commands() -> Iterator[tuple[list[str], tuple[Arg, ...]]]:
    """Each command's words and every argument it takes, from the parser's tables."""
    for group in ALL_GROUPS:
        for command in group.commands:
            args = each_arg(command.args) + GLOBAL_OPTIONS
            args += LIST_OPTIONS if command.lists else ()
            args += CONNECTION_OPTIONS if command.connects else ()
            yield [group.name, *([command.name] if command.name else [])], args


def test_every_option_has_help_and_every_list_pages(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "10000")  # each option's help on one line, unbroken
    parser = build_parser()
    listed = set()
    for words, args in _commands():
        with pytest.raises(SystemExit):
            parser.parse_args([*words, "--help"])
        shown = " ".join(capsys.readouterr().out.split())
        for arg in args:
            help_text = " ".join(arg.help.replace("%%", "%").split())
            assert help_text, (words, arg.flags)
            assert f"{arg.shown} " in shown, (words, arg.flags)
            assert help_text in shown, (words, arg.flags)
        if {"--page-size", "--limit"} <= {arg.shown for arg in args}:
            listed.add(tuple(words))
    assert listed == set(LIST_COMMANDS)


def _beside_a_fake_server(
    tmp_path: os.PathLike[str], seed: str, command: str
) -> subprocess.CompletedProcess[str]:
    """`fake-server SEED` in the background, its exports eval'd, then `events-async COMMAND`,
    in a shell with no credentials of its own."""
    script = (
        f"'{sys.executable}' -m events_async fake-server --port 0 {seed} > fake.env &\n"
        'for _ in $(seq 100); do [ "$(wc -l < fake.env)" -ge 5 ] && break; sleep 0.1; done\n'
        'eval "$(cat fake.env)"\n'
        f"'{sys.executable}' -m events_async {command}\n"
        "status=$?; kill %1; exit $status\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "EVENTS_ASYNC"))}
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean,
        timeout=60,
        check=False,
    )


def test_the_fake_servers_exports_let_a_shell_run_commands_without_options(
    tmp_path: os.PathLike[str],
) -> None:
    result = _beside_a_fake_server(tmp_path, "--demo", "sinks list --json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"sid": "DG') == 5
    exports = (tmp_path / "fake.env").read_text().splitlines()  # type: ignore[operator]
    assert exports[0].startswith("# Fake Events API at http://127.0.0.1:")
    assert [line.split("=")[0] for line in exports[1:]] == [
        "export TWILIO_ACCOUNT_SID",
        "export TWILIO_AUTH_TOKEN",
        "export EVENTS_ASYNC_BASE_URL",
        "export EVENTS_ASYNC_ACCOUNTS_BASE_URL",
    ]


def test_the_fake_servers_fleet_is_audited_with_no_options_but_its_exports(
    tmp_path: os.PathLike[str],
) -> None:
    result = _beside_a_fake_server(
        tmp_path, "--fleet", "audit --subaccounts --json --max-retries 0"
    )
    assert result.returncode == 1, result.stderr  # the demo fleet has errors
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["accounts"] == 4  # the suspended subaccount is left out


def test_credential_flags_win_over_an_api_key_in_the_environment() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "events_async.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in (process.stdout.readline().strip() for _ in range(4))
            if line.startswith("export ")
        )
        result = run(
            "sinks",
            "list",
            "--account-sid",
            exports["TWILIO_ACCOUNT_SID"],
            "--auth-token",
            exports["TWILIO_AUTH_TOKEN"],
            "--base-url",
            exports["EVENTS_ASYNC_BASE_URL"],
            env={"TWILIO_API_KEY": "SK" + "0" * 32, "TWILIO_API_SECRET": "wrong"},
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(none)"
