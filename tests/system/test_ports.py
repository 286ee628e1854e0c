"""A port in use: every command that listens says so in one line, names `--port 0` and
exits 2; the example that serves says it in one line too. Default ports never collide."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import pytest

from ..processes import CLEAN, command, fake_server, run
from ..support import ROOT

EXAMPLES = ROOT / "examples"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize(
    "runner",
    [
        command("fake-server"),
        [sys.executable, "-m", "events_async.testing"],
        command("listen", "--auth-token", "t"),
    ],
    ids=["fake-server", "python -m events_async.testing", "listen"],
)
def test_a_port_in_use_is_one_line_naming_port_0_and_exit_2(
    runner: list[str], busy_port: int
) -> None:
    result = run([*runner, "--port", str(busy_port)], CLEAN)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert f"cannot listen on 127.0.0.1:{busy_port}: the port is in use" in line
    assert "--port 0 picks a free one" in line


def test_the_receive_example_says_a_port_in_use_in_one_line(busy_port: int) -> None:
    env = {**CLEAN, "PORT": str(busy_port), "TWILIO_AUTH_TOKEN": "t"}
    result = run([sys.executable, str(EXAMPLES / "receive.py")], env)
    assert result.returncode == 1
    assert result.stderr == (
        f"receive.py: cannot listen on port {busy_port}: Address already in use "
        "(PORT=0 picks a free one)\n"
    )


def test_two_plain_fake_servers_run_side_by_side() -> None:
    with fake_server() as first, fake_server() as second:
        assert first["EVENTS_ASYNC_BASE_URL"] != second["EVENTS_ASYNC_BASE_URL"]
        for env in (first, second):
            assert run(command("sinks", "list"), env).returncode == 0


def test_the_default_ports_differ() -> None:
    from events_async.cli.ports import FAKE_SERVER_PORT, LISTEN_PORT

    receive = (EXAMPLES / "receive.py").read_text()
    assert FAKE_SERVER_PORT == 0
    assert f'"PORT", "{LISTEN_PORT}"' not in receive
    assert '"PORT", "8081"' in receive
    help_text = run(command("listen", "--help"), CLEAN).stdout
    assert f"(default: {LISTEN_PORT})" in " ".join(help_text.split())
