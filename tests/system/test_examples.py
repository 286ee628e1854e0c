"""The README's examples are the files in examples/: shown verbatim, and each one runs as a
reader runs it — its own process, against a plain `events-async fake-server` (no options)
in another, through the environment the fake's `export` lines set."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ..processes import CLEAN, child, command, fake_server, run
from ..support import ROOT

EXAMPLES = ROOT / "examples"
DELIVERED = "com.twilio.messaging.message.delivered"


def _example(name: str) -> list[str]:
    return [sys.executable, str(EXAMPLES / name)]


def _use(env: dict[str, str]) -> None:
    result = run(_example("use.py"), env)
    assert result.returncode == 0, result.stderr
    assert "com.twilio.messaging.message.delivered 1" in result.stdout
    assert "1 active sinks" in result.stdout


def _fake(env: dict[str, str]) -> None:
    result = run(_example("fake.py"), env)  # its own fake, in process: the env is unused
    assert result.returncode == 0, result.stderr
    assert "status=<SinkStatus.ACTIVE" in result.stdout


def _fleet(env: dict[str, str]) -> None:
    result = run(_example("fleet.py"), env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{env['TWILIO_ACCOUNT_SID']} clean\n"  # a parent, no subaccounts


def _streams(env: dict[str, str]) -> None:
    """streams.py makes the sink and the subscription, then, run again, writes nothing."""
    parent = env["TWILIO_ACCOUNT_SID"]
    first = run(_example("streams.py"), env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{parent} + create sink; + create subscription\n"
    again = run(_example("streams.py"), env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"{parent} as the file says\n"


def _receive(env: dict[str, str]) -> None:
    """receive.py on a free port; a sink and a subscription for it made with the command,
    then `events-async emit`: the example prints the event it handled."""
    with child(_example("receive.py"), {**env, "PORT": "0"}) as service:
        running = service.wait_for("stdout", lambda line: "Running on http://" in line)
        origin = re.search(r"http://[\d.]+:\d+", running)
        assert origin is not None, running
        hook = json.dumps({"destination": origin[0] + "/twilio/events"})
        sink = run(command("sinks", "create", "--description", "receive.py", "--type",
                           "webhook", "--configuration", hook, "--json"), env)  # fmt: skip
        assert sink.returncode == 0, sink.stderr
        sink_sid = json.loads(sink.stdout)["sid"]
        subscribe = ["--description", "receive.py", "--sink-sid", sink_sid, "--type", DELIVERED]
        assert run(command("subscriptions", "create", *subscribe), env).returncode == 0
        emitted = run(command("emit", "--type", DELIVERED, "--data", '{"to": "+1"}', "--json"), env)
        assert emitted.returncode == 0, emitted.stderr
        (event_id,) = json.loads(emitted.stdout)["deliveries"][0]["event_ids"]
        printed = service.wait_for("stdout", lambda line: line.startswith("delivered "))
        assert service.stop() == 0, service.seen
    assert printed == f"delivered {event_id} {{'to': '+1'}}"


RUNS: dict[str, Callable[[dict[str, str]], None]] = {
    "use.py": _use,
    "fake.py": _fake,
    "fleet.py": _fleet,
    "receive.py": _receive,
    "streams.py": _streams,
}
# A user's tests, each run by pytest below: with the pytest fixture, with `MockTransport`,
# and with the fake in process.
UNDER_PYTEST = {
    "test_with_fixture.py",
    "test_with_mock_transport.py",
    "test_with_inprocess_fake.py",
}


def test_every_example_is_run_by_a_test() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted({*RUNS, *UNDER_PYTEST})


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_the_readme_shows_each_example_as_it_is(name: str) -> None:
    readme = (ROOT / "README.md").read_text()
    assert (EXAMPLES / name).read_text() in readme


@pytest.mark.parametrize("name", sorted(RUNS))
def test_each_example_runs_against_a_plain_fake_server(name: str) -> None:
    with fake_server() as env:
        RUNS[name](env)


@pytest.mark.parametrize("name", sorted(UNDER_PYTEST))
def test_each_users_test_passes_in_a_project_with_no_asyncio_configuration(
    name: str, tmp_path: Path
) -> None:
    # pytest-asyncio's strict mode, nothing configured but the loop scope it warns about
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / name).write_text((EXAMPLES / name).read_text())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", name],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=CLEAN,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
