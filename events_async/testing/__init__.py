"""Test helpers: a faithful, stateful fake of the Events API v1, and a pytest fixture.

```python
from events_async.testing import FakeEventsServer

async with FakeEventsServer() as fake, fake.client() as client:
    sink = await client.sinks.create(...)
```

`InProcessTransport` (`fake.transport()`) answers in process, without a socket:
`fake.client(transport=fake.transport())` needs no `start()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .answers import Exchange
    from .catalog import DEFAULT_CATALOG, Catalog, CatalogSchema, CatalogType
    from .control import FakeControl
    from .delivery import Attempt, Deliverer, Delivery
    from .faults import Fault, FaultPlan
    from .inprocess import IN_PROCESS_URL, InProcessTransport
    from .server import FakeEventsServer
    from .state import FakeAccount, FakeError, FakeSink, FakeSubscribedEvent, FakeSubscription

__all__ = [
    "DEFAULT_CATALOG",
    "IN_PROCESS_URL",
    "Attempt",
    "Catalog",
    "CatalogSchema",
    "CatalogType",
    "Deliverer",
    "Delivery",
    "Exchange",
    "FakeAccount",
    "FakeControl",
    "FakeError",
    "FakeEventsServer",
    "FakeSink",
    "FakeSubscribedEvent",
    "FakeSubscription",
    "Fault",
    "FaultPlan",
    "InProcessTransport",
]

# Imported on first use, so importing the package (the pytest plugin does) stays cheap.
_HOMES = {
    "Attempt": ".delivery",
    "Catalog": ".catalog",
    "CatalogSchema": ".catalog",
    "CatalogType": ".catalog",
    "DEFAULT_CATALOG": ".catalog",
    "Deliverer": ".delivery",
    "Delivery": ".delivery",
    "Exchange": ".answers",
    "FakeAccount": ".state",
    "FakeControl": ".control",
    "FakeError": ".state",
    "FakeEventsServer": ".server",
    "FakeSink": ".state",
    "FakeSubscribedEvent": ".state",
    "FakeSubscription": ".state",
    "Fault": ".faults",
    "FaultPlan": ".faults",
    "IN_PROCESS_URL": ".inprocess",
    "InProcessTransport": ".inprocess",
}

__getattr__ = lazy_exports(__name__, _HOMES)
