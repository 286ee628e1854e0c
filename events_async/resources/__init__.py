"""The resource managers, one module each."""

from .event_types import EventTypes
from .schemas import Schemas, SchemaVersions
from .sinks import Sinks
from .subscriptions import SubscribedEvents, Subscriptions

__all__ = ["EventTypes", "SchemaVersions", "Schemas", "Sinks", "SubscribedEvents", "Subscriptions"]
