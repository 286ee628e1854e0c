"""pytest plugin: the `fake_events` fixture, a started `FakeEventsServer` per test.

Registered through the `pytest11` entry point, so installing events_async is enough:

```python
async def test_my_code(fake_events):
    async with fake_events.client() as client:
        ...
```

The fixture is async: it runs under pytest-asyncio, in auto or strict mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .server import FakeEventsServer

__all__ = ["fake_events"]


def _async_fixture() -> Any:
    """pytest-asyncio's fixture decorator, so the fixture works in strict mode too."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - pytest then explains it cannot run it
        return pytest.fixture
    return pytest_asyncio.fixture


@_async_fixture()  # type: ignore[untyped-decorator]
async def fake_events() -> AsyncIterator[FakeEventsServer]:
    """A `FakeEventsServer`, started on a loopback port for this test and stopped after."""
    from .server import FakeEventsServer  # only now: the plugin loads in every pytest run

    async with FakeEventsServer() as fake:
        yield fake
