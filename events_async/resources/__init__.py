"""The resource managers, one module each; a client holds one of each (`client.sinks`).

The classes are public (and importable from `events_async`) so `help()` and editors show
their methods; the client makes them, users never need to. The short names of earlier
releases (`Sinks`, `Schemas`, …) remain as aliases.
"""

from .event_types import EventTypesManager
from .schemas import SchemasManager, SchemaVersionsManager
from .sinks import SinksManager
from .subscriptions import SubscribedEventsManager, SubscriptionsManager

__all__ = [
    "EventTypesManager",
    "SchemaVersionsManager",
    "SchemasManager",
    "SinksManager",
    "SubscribedEventsManager",
    "SubscriptionsManager",
]

# The names before the managers were public, kept so existing imports still work.
EventTypes = EventTypesManager
Schemas = SchemasManager
SchemaVersions = SchemaVersionsManager
Sinks = SinksManager
Subscriptions = SubscriptionsManager
SubscribedEvents = SubscribedEventsManager
