"""The fake's seeded catalog: realistic event types and schemas with several versions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs

__all__ = ["DEFAULT_CATALOG", "Catalog", "CatalogSchema", "CatalogType"]

_EPOCH = datetime(2020, 8, 13, 13, 28, 20, tzinfo=timezone.utc)


@attrs.frozen
class CatalogSchema:
    """A schema and the creation dates of its versions (version n is dates[n - 1])."""

    id: str
    """The schema's id, such as `Messaging.MessageStatus`."""
    version_dates: tuple[datetime, ...]
    """When each version was created, oldest first."""

    @property
    def latest_version(self) -> int:
        """The newest version's number (versions count from 1)."""
        return len(self.version_dates)


@attrs.frozen
class CatalogType:
    """An event type of the catalog."""

    type: str
    schema_id: str
    description: str
    status: str = "available"
    documentation_url: str | None = None
    date_created: datetime = _EPOCH


@attrs.frozen
class Catalog:
    """Event types and schemas, looked up by name."""

    schemas: dict[str, CatalogSchema]
    types: dict[str, CatalogType]

    @classmethod
    def build(cls, schemas: dict[str, int], types: list[tuple[str, str, str, str]]) -> Catalog:
        """A catalog from `{schema_id: version count}` and `(type, schema_id, status, text)`."""
        built = {
            schema_id: CatalogSchema(
                schema_id, tuple(_EPOCH + timedelta(days=90 * n) for n in range(count))
            )
            for schema_id, count in schemas.items()
        }
        entries = {}
        for n, (name, schema_id, status, description) in enumerate(types):
            entries[name] = CatalogType(
                type=name,
                schema_id=schema_id,
                description=description,
                status=status,
                documentation_url=f"https://www.twilio.com/docs/events/event-types#{name}",
                date_created=_EPOCH + timedelta(minutes=n),
            )
        return cls(schemas=built, types=entries)


_MESSAGE = "Messaging.MessageStatus"
_VOICE = "Voice.StatusCallback"
_INSIGHTS = "Voice.Insights.CallSummary"
_CONVERSATION = "Conversations.Conversation"
_CONVERSATION_MESSAGE = "Conversations.Message"
_STUDIO = "Studio.FlowExecution"
_TASKROUTER = "TaskRouter.WDSEvent"
_INBOUND = "Messaging.InboundMessageV1"

DEFAULT_CATALOG = Catalog.build(
    schemas={
        _MESSAGE: 5,
        _INBOUND: 3,
        _VOICE: 4,
        _INSIGHTS: 2,
        _CONVERSATION: 3,
        _CONVERSATION_MESSAGE: 2,
        _STUDIO: 2,
        _TASKROUTER: 1,
    },
    types=[
        ("com.twilio.messaging.message.queued", _MESSAGE, "available", "Message queued"),
        ("com.twilio.messaging.message.sent", _MESSAGE, "available", "Message sent"),
        ("com.twilio.messaging.message.delivered", _MESSAGE, "available", "Message delivered"),
        ("com.twilio.messaging.message.undelivered", _MESSAGE, "available", "Message undelivered"),
        ("com.twilio.messaging.message.failed", _MESSAGE, "available", "Message failed"),
        ("com.twilio.messaging.message.read", _MESSAGE, "available", "Message read"),
        ("com.twilio.messaging.message.legacy-status", _MESSAGE, "deprecated", "Old status"),
        ("com.twilio.messaging.inbound-message.received", _INBOUND, "available", "Inbound SMS"),
        ("com.twilio.voice.status-callback.call.initiated", _VOICE, "available", "Call started"),
        ("com.twilio.voice.status-callback.call.ringing", _VOICE, "available", "Call ringing"),
        ("com.twilio.voice.status-callback.call.answered", _VOICE, "available", "Call answered"),
        ("com.twilio.voice.status-callback.call.completed", _VOICE, "available", "Call ended"),
        ("com.twilio.voice.insights.call-summary.partial", _INSIGHTS, "available", "Partial"),
        ("com.twilio.voice.insights.call-summary.complete", _INSIGHTS, "available", "Summary"),
        ("com.twilio.voice.insights.call-summary.predicted", _INSIGHTS, "deprecated", "Guess"),
        ("com.twilio.conversations.conversation.added", _CONVERSATION, "available", "Added"),
        ("com.twilio.conversations.conversation.updated", _CONVERSATION, "available", "Updated"),
        ("com.twilio.conversations.conversation.removed", _CONVERSATION, "available", "Removed"),
        ("com.twilio.conversations.message.added", _CONVERSATION_MESSAGE, "available", "Posted"),
        ("com.twilio.conversations.message.removed", _CONVERSATION_MESSAGE, "available", "Gone"),
        ("com.twilio.studio.flow.execution.started", _STUDIO, "available", "Flow started"),
        ("com.twilio.studio.flow.execution.ended", _STUDIO, "available", "Flow ended"),
        ("com.twilio.taskrouter.task.created", _TASKROUTER, "available", "Task created"),
        ("com.twilio.taskrouter.task.completed", _TASKROUTER, "available", "Task completed"),
    ],
)
