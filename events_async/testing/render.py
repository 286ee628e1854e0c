"""How the fake renders its resources as Twilio's JSON, with URLs on its own origin."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from .state import FakeAccount, FakeSink, FakeSubscribedEvent, FakeSubscription

if TYPE_CHECKING:
    from .server import FakeEventsServer

__all__ = ["Renderer", "format_date"]


def format_date(value: datetime) -> str:
    """Twilio's date-time format: ISO 8601 in UTC with a Z."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Renderer:
    """Resources as the JSON objects the Events API answers with."""

    def __init__(self, server: FakeEventsServer) -> None:
        self.server = server

    @property
    def _origin(self) -> str:
        return self.server.url

    def event_type(self, name: str) -> dict[str, Any]:
        entry = self.server.catalog.types[name]
        return {
            "date_created": format_date(entry.date_created),
            "date_updated": format_date(entry.date_created),
            "type": entry.type,
            "schema_id": entry.schema_id,
            "status": entry.status,
            "documentation_url": entry.documentation_url,
            "description": entry.description,
            "url": f"{self._origin}/v1/Types/{entry.type}",
            "links": {"schema": f"{self._origin}/v1/Schemas/{entry.schema_id}/Versions"},
        }

    def schema(self, schema_id: str) -> dict[str, Any]:
        schema = self.server.catalog.schemas[schema_id]
        url = f"{self._origin}/v1/Schemas/{schema_id}"
        return {
            "id": schema_id,
            "url": url,
            "links": {"versions": f"{url}/Versions"},
            "latest_version_date_created": format_date(schema.version_dates[-1]),
            "latest_version": schema.latest_version,
        }

    def schema_version(self, schema_id: str, version: int) -> dict[str, Any]:
        schema = self.server.catalog.schemas[schema_id]
        return {
            "id": schema_id,
            "schema_version": version,
            "date_created": format_date(schema.version_dates[version - 1]),
            "url": f"{self._origin}/v1/Schemas/{schema_id}/Versions/{version}",
            "raw": f"https://events-schemas.twilio.com/{schema_id}/{version}",
        }

    def sink(self, sink: FakeSink) -> dict[str, Any]:
        url = f"{self._origin}/v1/Sinks/{sink.sid}"
        return {
            "status": sink.status,
            "sink_configuration": sink.sink_configuration,
            "description": sink.description,
            "sid": sink.sid,
            "date_created": format_date(sink.date_created),
            "sink_type": sink.sink_type,
            "date_updated": format_date(sink.date_updated),
            "url": url,
            "links": {"sink_test": f"{url}/Test", "sink_validate": f"{url}/Validate"},
        }

    def subscription(self, account: FakeAccount, sub: FakeSubscription) -> dict[str, Any]:
        url = f"{self._origin}/v1/Subscriptions/{sub.sid}"
        return {
            "account_sid": account.sid,
            "date_created": format_date(sub.date_created),
            "date_updated": format_date(sub.date_updated),
            "sid": sub.sid,
            "sink_sid": sub.sink_sid,
            "description": sub.description,
            "url": url,
            "links": {"subscribed_events": f"{url}/SubscribedEvents"},
        }

    def subscribed_event(
        self, account: FakeAccount, subscription_sid: str, event: FakeSubscribedEvent
    ) -> dict[str, Any]:
        return {
            "account_sid": account.sid,
            "type": event.type,
            "schema_version": event.schema_version,
            "subscription_sid": subscription_sid,
            "url": f"{self._origin}/v1/Subscriptions/{subscription_sid}"
            f"/SubscribedEvents/{event.type}",
        }
