"""`client.event_types`: the catalog of event types that can be subscribed to."""

from __future__ import annotations

from .._validate import check_text
from ..models import EventType
from ..pagination import AsyncPaginator
from ._base import Resource, wire_pairs

__all__ = ["EventTypesManager"]


class EventTypesManager(Resource):
    """`client.event_types`: list and fetch event types (`/v1/Types`)."""

    def list(
        self,
        *,
        schema_id: str | None = None,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[EventType]:
        """Every event type, or those of one schema. ListEventType."""
        if schema_id is not None:
            check_text(schema_id, "schema_id")
        return self._list(
            EventType,
            "types",
            "Types",
            params=wire_pairs(SchemaId=schema_id),
            page_size=page_size,
            limit=limit,
        )

    async def fetch(self, type: str) -> EventType:
        """One event type by name, such as `com.twilio.messaging.message.delivered`.
        FetchEventType."""
        return await self._call("GET", EventType, "Types", check_text(type, "type"))
