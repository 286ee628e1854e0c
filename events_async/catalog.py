"""Twilio's catalog — the event types and their schemas — read once and shared.

The catalog is Twilio-wide: every account reads the same event types and the same
schemas. A fleet's audit or apply that reads it once per run, not once per account,
saves those reads on every account after the first. `SharedCatalog` keeps what was
read. An account that needs what another is reading waits for that read — for at most
`patience` seconds, and not at all once it failed: then it reads for itself, so a slow
or failing account never holds the others up. A read that fails is not kept.

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
DEFAULT_PATIENCE = 0.25  # seconds an account waits for another's read: a round trip or two
_EVENT_TYPES = "event types"  # the key of the whole list, read and looked up alike


def _schema_key(schema_id: str) -> tuple[str, str]:
    return ("schema", schema_id)


class SharedCatalog:
    """The event types and schemas read so far, for every account of a run."""

    def __init__(self, *, patience: float = DEFAULT_PATIENCE) -> None:
        self.patience = patience
        self._known: dict[Any, Any] = {}
        self._reading: dict[Any, asyncio.Future[Any]] = {}

    async def _once(self, key: Any, read: Callable[[], Awaitable[T]]) -> T:
        if key in self._known:
            return self._known[key]  # type: ignore[no-any-return]
        pending = self._reading.get(key)
        if pending is not None:
            # asyncio.wait, not wait_for: a cancel that comes as the other read ends must
            # not be taken for that read's outcome (and swallowed)
            await asyncio.wait({pending}, timeout=self.patience)
            if pending.done() and pending.exception() is None:
                return pending.result()  # type: ignore[no-any-return]
            value = await read()  # the other read is slow or failed: not ours to wait on
            return self._known.setdefault(key, value)  # type: ignore[no-any-return]
        pending = self._reading[key] = asyncio.get_running_loop().create_future()
        try:
            value = await read()
        except BaseException as error:
            pending.set_exception(error if isinstance(error, Exception) else RuntimeError())
            pending.exception()  # retrieved, whether anyone waits or not
            raise
        else:
            self._known[key] = value
            pending.set_result(value)
            return value
        finally:
            del self._reading[key]

    async def event_types(self, client: EventsClient) -> list[EventType]:
        """Every event type (ListEventType), read through `client` the first time."""
        return await self._once(
            _EVENT_TYPES, lambda: client.event_types.list(page_size=CATALOG_PAGE_SIZE).collect()
        )

    def known_event_types(self) -> list[EventType] | None:
        """Every event type if already read, else None (nothing is read or awaited)."""
        return self._known.get(_EVENT_TYPES)

    async def event_type(self, client: EventsClient, type: str) -> EventType:
        """One event type (FetchEventType)."""
        return await self._once(("event type", type), lambda: client.event_types.fetch(type))

    async def schema(self, client: EventsClient, schema_id: str) -> Schema:
        """One schema (FetchSchema), with its latest version."""
        return await self._once(_schema_key(schema_id), lambda: client.schemas.fetch(schema_id))

    def known_schema(self, schema_id: str) -> Schema | None:
        """The schema if already read, else None (nothing is read or awaited)."""
        return self._known.get(_schema_key(schema_id))

    async def latest_versions(self, client: EventsClient, types: Iterable[str]) -> dict[str, int]:
        """Each of `types`' latest schema version: its event type, then that schema."""

        async def latest(name: str) -> tuple[str, int]:
            event_type = await self.event_type(client, name)
            return name, (await self.schema(client, event_type.schema_id)).latest_version

        return dict(await asyncio.gather(*(latest(name) for name in sorted(set(types)))))
