"""A new user's first touch: the fake's default lifecycle is today's Twilio, the older one
is an option everywhere the fake is started, and what the docs name is really there."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from events_async import SinkStatus, WebhookSinkConfiguration, __version__
from events_async.testing import FakeEventsServer

from ..support import ROOT

KINESIS = {"arn": "arn:aws:kinesis:us-east-1:1:stream/s", "role_arn": "r", "external_id": "e"}
HOOK = WebhookSinkConfiguration("https://example.com/events")


async def _new_sink_statuses(fake: FakeEventsServer) -> tuple[SinkStatus, SinkStatus]:
    """(a new webhook sink's status, a new Kinesis sink's status) on `fake`."""
    async with fake.client() as client:
        hook = await client.sinks.create(
            description="h", sink_type="webhook", sink_configuration=HOOK
        )
        stream = await client.sinks.create(
            description="k", sink_type="kinesis", sink_configuration=KINESIS
        )
    return SinkStatus(hook.status), SinkStatus(stream.status)


async def test_webhook_sinks_start_active_as_twilio_documents_today() -> None:
    async with FakeEventsServer() as fake:
        assert await _new_sink_statuses(fake) == (SinkStatus.ACTIVE, SinkStatus.INITIALIZED)


async def test_the_older_lifecycle_is_an_option_of_the_class() -> None:
    async with FakeEventsServer(webhooks_start_active=False) as fake:
        assert await _new_sink_statuses(fake) == (SinkStatus.INITIALIZED, SinkStatus.INITIALIZED)


async def test_the_fixture_starts_webhooks_active(fake_events: FakeEventsServer) -> None:
    assert await _new_sink_statuses(fake_events) == (SinkStatus.ACTIVE, SinkStatus.INITIALIZED)


@pytest.mark.fake_events(webhooks_start_active=False)
async def test_the_fixtures_marker_gives_the_older_lifecycle(
    fake_events: FakeEventsServer,
) -> None:
    statuses = await _new_sink_statuses(fake_events)
    assert statuses == (SinkStatus.INITIALIZED, SinkStatus.INITIALIZED)


@pytest.mark.fake_events(max_sinks=1)
async def test_the_fixtures_marker_passes_any_option(fake_events: FakeEventsServer) -> None:
    assert fake_events.account.max_sinks == 1


def _fake_server(*options: str) -> Iterator[list[str]]:
    """`events-async fake-server OPTIONS` in a child; yields its connection flags."""
    process = subprocess.Popen(
        [sys.executable, "-m", "events_async", "fake-server", *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        exports = dict(
            line.removeprefix("export ").strip().split("=", 1)
            for line in (process.stdout.readline() for _ in range(5))
            if line.startswith("export ")
        )
        yield [
            "--base-url",
            exports["EVENTS_ASYNC_BASE_URL"],
            "--account-sid",
            exports["TWILIO_ACCOUNT_SID"],
            "--auth-token",
            exports["TWILIO_AUTH_TOKEN"],
        ]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def _created_status(connection: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "events_async", "sinks", "create", "--description", "h",
         "--type", "webhook", "--configuration", '{"destination": "https://example.com/e"}',
         *connection, "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    import json

    return str(json.loads(result.stdout)["status"])


@pytest.mark.parametrize(
    ("options", "status"),
    [((), "active"), (("--webhooks-initialized",), "initialized")],
    ids=["plain", "--webhooks-initialized"],
)
def test_fake_server_starts_webhooks_active_unless_asked_for_the_older_lifecycle(
    options: tuple[str, ...], status: str
) -> None:
    for connection in _fake_server(*options):
        assert _created_status(connection) == status


def test_the_fakes_signature_is_short_enough_to_read() -> None:
    shown = str(inspect.signature(FakeEventsServer))
    assert len(shown) < 400, shown
    assert "catalog: 'Catalog | None' = None" in shown


def test_the_documented_deliverer_is_importable_from_the_testing_package() -> None:
    from events_async import testing
    from events_async.testing import Deliverer, Delivery
    from events_async.testing.delivery import Deliverer as Home

    assert Deliverer is Home
    assert {"Deliverer", "Delivery"} <= set(testing.__all__)
    assert Delivery.__name__ == "Delivery"


# --- the README tells today's truth -----------------------------------------------------

README = (ROOT / "README.md").read_text()
BENCHMARKS = (ROOT / "benchmarks" / "README.md").read_text()
FIGURE = re.compile(r"\+?\d+(?:\.\d+)?(?:x?\u2013\d+(?:\.\d+)?)?(?:x| MiB)")  # 1.6\u20131.9x
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_the_readmes_speed_figures_are_those_benchmarks_readme_records() -> None:
    speed = _section("Speed")
    figures = FIGURE.findall(speed)
    assert len(figures) >= 8, figures
    assert [f for f in figures if f not in BENCHMARKS] == []
    dates = DATE.findall(speed)
    assert [d for d in dates if d not in BENCHMARKS] == []
    assert max(DATE.findall(BENCHMARKS)) in dates  # the newest run is quoted


def test_the_readme_sets_up_before_anything_needs_it() -> None:
    headings = re.findall(r"^## (.+)$", README, flags=re.MULTILINE)
    assert headings.index("Set up and test") == 0, headings
    first_command = re.search(r"^(events-async|python examples/)", README, flags=re.MULTILINE)
    assert first_command is not None
    assert README.index("pip install -e") < first_command.start()


def test_every_name_the_readme_imports_is_importable_there() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    imports = [
        (module, [n.strip() for n in names.replace("(", "").replace(")", "").split(",")])
        for block in blocks
        for module, names in re.findall(
            r"^from ([\w.]+) import (\([^)]*\)|[^\n]+)", block, flags=re.MULTILINE
        )
    ]
    assert len(imports) >= 10, imports
    missing = []
    for module, names in imports:
        loaded = importlib.import_module(module)
        missing += [f"{module}.{n}" for n in names if n and not hasattr(loaded, n.split()[0])]
    assert missing == []


def _resolves(dotted: str) -> bool:
    """Whether `a.b.c` is a module, or a name a module holds."""
    module, _, name = dotted.rpartition(".")
    try:
        importlib.import_module(dotted)
    except ImportError:
        return bool(module) and _resolves(module) and hasattr(importlib.import_module(module), name)
    return True


def test_every_dotted_name_the_readme_gives_exists() -> None:
    dotted = set(re.findall(r"`(events_async(?:\.\w+)+)`", README))
    assert len(dotted) >= 3, dotted
    assert sorted(d for d in dotted if not _resolves(d)) == []


def test_version_is_the_newest_release_in_the_changelog() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## (\d+\.\d+\.\d+)\b", changelog, flags=re.MULTILINE)
    headings = re.findall(r"^## (.+)$", changelog, flags=re.MULTILINE)
    assert headings[0] == "Unreleased"
    result = subprocess.run(
        [sys.executable, "-m", "events_async", "--version"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == f"events-async {__version__}" == f"events-async {released[0]}"
    assert headings[1].startswith(released[0] + " — 20")  # a release has its date
