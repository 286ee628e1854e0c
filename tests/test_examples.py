"""The README's examples are the files in examples/: shown verbatim, and they run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from events_async.testing import FakeEventsServer

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize(
    "name", ["use.py", "fake.py", "test_with_fixture.py", "fleet.py", "receive.py"]
)
def test_the_readme_shows_each_example_as_it_is(name: str) -> None:
    readme = (ROOT / "README.md").read_text()
    assert (EXAMPLES / name).read_text() in readme


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "EVENTS_ASYNC"))}


async def run_example(name: str, env: dict[str, str]) -> str:
    """Run examples/NAME in a child process with `env`; its stdout (it must succeed)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / name),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


async def test_the_use_example_runs_against_the_fake_through_the_environment() -> None:
    async with FakeEventsServer(webhooks_start_active=True) as fake:
        env = {
            **_clean_environment(),
            "TWILIO_ACCOUNT_SID": fake.account.sid,
            "TWILIO_AUTH_TOKEN": fake.account.auth_token,
            "EVENTS_ASYNC_BASE_URL": fake.url,
        }
        stdout = await run_example("use.py", env)
    assert "com.twilio.messaging.message.delivered 1" in stdout
    assert "1 active sinks" in stdout


def test_the_fake_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "fake.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_environment(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "status=<SinkStatus.ACTIVE" in result.stdout


def test_the_fixture_example_passes_in_a_project_with_no_asyncio_configuration(
    tmp_path: Path,
) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # strict mode, nothing configured
    (tmp_path / "test_it.py").write_text((EXAMPLES / "test_with_fixture.py").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_it.py"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=_clean_environment(),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


async def test_the_fleet_example_audits_the_demo_fleet_through_the_environment() -> None:
    from events_async.testing.demo import seed_demo_fleet

    async with FakeEventsServer() as fake:
        seed_demo_fleet(fake)
        env = {
            **_clean_environment(),
            "TWILIO_ACCOUNT_SID": fake.account.sid,
            "TWILIO_AUTH_TOKEN": fake.account.auth_token,
            "EVENTS_ASYNC_BASE_URL": fake.url,
            "EVENTS_ASYNC_ACCOUNTS_BASE_URL": fake.url,
        }
        stdout = await run_example("fleet.py", env)
    lines = stdout.splitlines()
    assert len(lines) == 5  # the parent and four active subaccounts
    assert sorted(line.split()[1] for line in lines) == ["clean", *["errors"] * 4]


async def test_the_receive_example_handles_the_fakes_deliveries(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import runpy

    from .support import serve

    async with FakeEventsServer(webhooks_start_active=True) as fake:
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake.account.auth_token)
        monkeypatch.delenv("PUBLIC_URL", raising=False)
        example = runpy.run_path(str(EXAMPLES / "receive.py"), run_name="example")
        async with serve(example["make_app"]()) as origin, fake.client() as client:
            sink = await client.sinks.create(
                description="example",
                sink_type="webhook",
                sink_configuration={"destination": origin + "/twilio/events"},
            )
            await client.subscriptions.create(
                description="example",
                sink_sid=sink.sid,
                types=["com.twilio.messaging.message.delivered"],
            )
            (delivery,) = fake.emit("com.twilio.messaging.message.delivered", {"to": "+1"})
            await fake.deliveries_settled()
    assert delivery.outcome == "delivered"
    assert capsys.readouterr().out == f"delivered {delivery.event_ids[0]} {{'to': '+1'}}\n"
