"""Test helpers: a faithful, stateful fake of the Events API v1, and a pytest fixture.

```python
from events_async.testing import FakeEventsServer

async with FakeEventsServer() as fake, fake.client() as client:
    sink = await client.sinks.create(...)
```
"""

from .catalog import DEFAULT_CATALOG, Catalog, CatalogSchema, CatalogType
from .faults import Fault, FaultPlan
from .server import Exchange, FakeEventsServer
from .state import FakeAccount, FakeError, FakeSink, FakeSubscribedEvent, FakeSubscription

__all__ = [
    "DEFAULT_CATALOG",
    "Catalog",
    "CatalogSchema",
    "CatalogType",
    "Exchange",
    "FakeAccount",
    "FakeError",
    "FakeEventsServer",
    "FakeSink",
    "FakeSubscribedEvent",
    "FakeSubscription",
    "Fault",
    "FaultPlan",
]
