"""pytest plugin: the `fake_events` fixture, a started `FakeEventsServer` per test.

Registered through the `pytest11` entry point, so installing events_async is enough:

```python
async def test_my_code(fake_events):
    async with fake_events.client() as client:
        ...
```

The fixture is async: it runs under pytest-asyncio, in auto or strict mode. Its fake
starts webhook sinks `active`, as Twilio does today. The `fake_events` marker passes
options to `FakeEventsServer` — on a test, a class or a module (`pytestmark`):

```python
@pytest.mark.fake_events(webhooks_start_active=False)  # the older lifecycle
async def test_the_test_then_validate_flow(fake_events): ...
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .server import FakeEventsServer

__all__ = ["MARKER", "fake_events", "pytest_configure"]

MARKER = "fake_events"
"""The marker whose keyword arguments the fixture passes to `FakeEventsServer`."""


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker, so `--strict-markers` projects can use it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): options of the fake_events fixture's FakeEventsServer, "
        "e.g. webhooks_start_active=False for the older sink lifecycle",
    )


def _async_fixture() -> Any:
    """pytest-asyncio's fixture decorator, so the fixture works in strict mode too."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - pytest then explains it cannot run it
        return pytest.fixture
    return pytest_asyncio.fixture


@_async_fixture()  # type: ignore[untyped-decorator]
async def fake_events(request: pytest.FixtureRequest) -> AsyncIterator[FakeEventsServer]:
    """A `FakeEventsServer`, started on a loopback port for this test and stopped after;
    the closest `fake_events` marker's keyword arguments are its options."""
    from .server import FakeEventsServer  # only now: the plugin loads in every pytest run

    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only")
    async with FakeEventsServer(**options) as fake:
        yield fake
