"""Twilio's catalog — the event types and their schemas — read once and shared.

The catalog is Twilio-wide: every account reads the same event types and the same
schemas. A fleet's audit or apply that reads it once per run, not once per account,
saves those reads on every account after the first ones. `SharedCatalog` keeps what
was read. An account that needs what is not known yet reads it itself, even while
another is reading it: a slow or failing account must never hold the others up, so
the accounts running when a run starts may each read it once, and none after them.
A read that fails is not kept.

```python
catalog = SharedCatalog()
report = await audit_account(client, catalog=catalog)  # reads the catalog
again = await audit_account(other_client, catalog=catalog)  # reads only the account
```
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from .client import EventsClient
from .models import EventType, Schema

__all__ = ["SharedCatalog"]

T = TypeVar("T")
CATALOG_PAGE_SIZE = 1000


class SharedCatalog:
    """The event types and schemas read so far, for every account of a run."""

    def __init__(self) -> None:
        self._known: dict[Any, Any] = {}

    async def _once(self, key: Any, read: Callable[[], Awaitable[T]]) -> T:
        if key not in self._known:
            value = await read()
            self._known.setdefault(key, value)  # the first read to finish is the one kept
        return self._known[key]  # type: ignore[no-any-return]

    async def event_types(self, client: EventsClient) -> list[EventType]:
        """Every event type (ListEventType), read through `client` the first time."""
        listing = client.event_types.list(page_size=CATALOG_PAGE_SIZE)
        return await self._once("event types", listing.collect)

    async def event_type(self, client: EventsClient, type: str) -> EventType:
        """One event type (FetchEventType)."""
        return await self._once(("event type", type), lambda: client.event_types.fetch(type))

    async def schema(self, client: EventsClient, schema_id: str) -> Schema:
        """One schema (FetchSchema), with its latest version."""
        return await self._once(("schema", schema_id), lambda: client.schemas.fetch(schema_id))

    async def latest_versions(self, client: EventsClient, types: Iterable[str]) -> dict[str, int]:
        """Each of `types`' latest schema version: its event type, then that schema."""

        async def latest(name: str) -> tuple[str, int]:
            event_type = await self.event_type(client, name)
            return name, (await self.schema(client, event_type.schema_id)).latest_version

        return dict(await asyncio.gather(*(latest(name) for name in sorted(set(types)))))
