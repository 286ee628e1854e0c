"""`client.subscriptions`: which event types go to which sink."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._validate import check_positive_int, check_sid, check_text
from ..errors import InvalidRequestError
from ..models import SubscribedEvent, SubscribedType, Subscription
from ..pagination import AsyncPaginator
from ._base import Resource, json_text, wire_pairs

if TYPE_CHECKING:
    from .._transport import Policy

__all__ = ["SubscribedEventsManager", "SubscribedTypeLike", "SubscriptionsManager"]

SubscribedTypeLike = SubscribedType | Mapping[str, Any] | str
_TYPES = "types"


def _type_json(item: object) -> str:
    """One `Types` form value: a JSON object with `type` and maybe `schema_version`."""
    if isinstance(item, str):
        fields: dict[str, Any] = {"type": item}
    elif isinstance(item, SubscribedType):
        fields = {"type": item.type, "schema_version": item.schema_version}
    elif isinstance(item, Mapping):
        fields = dict(item)
    else:
        raise InvalidRequestError.for_param(
            _TYPES,
            f"must each be a SubscribedType, a mapping or a type name, got {item!r}",
        )
    check_text(fields.get("type"), "each of types' type", param=_TYPES)
    if fields.get("schema_version") is not None:
        check_positive_int(fields["schema_version"], "each of types' schema_version", param=_TYPES)
    else:
        fields.pop("schema_version", None)
    return json_text(fields, "each of types", param=_TYPES)


def _types_pairs(types: Iterable[SubscribedTypeLike]) -> list[tuple[str, str]]:
    if isinstance(types, (str, Mapping, SubscribedType)) or not isinstance(types, Iterable):
        raise InvalidRequestError.for_param(
            _TYPES, "must be a list of event types, not a single value"
        )
    pairs = [("Types", _type_json(item)) for item in types]
    if not pairs:
        raise InvalidRequestError.for_param(_TYPES, "must name at least one event type")
    return pairs


class SubscriptionsManager(Resource):
    """`client.subscriptions`: create, read, update and delete subscriptions
    (`/v1/Subscriptions`), and reach each one's subscribed events."""

    async def create(
        self, *, description: str, sink_sid: str, types: Iterable[SubscribedTypeLike]
    ) -> Subscription:
        """A new subscription delivering `types` to an active sink. CreateSubscription."""
        body = wire_pairs(
            Description=check_text(description, "description"),
            SinkSid=check_sid(sink_sid, "DG", "sink_sid"),
        )
        body.extend(_types_pairs(types))
        return await self._call("POST", Subscription, "Subscriptions", form=body)

    async def fetch(self, sid: str) -> Subscription:
        """One subscription by SID. FetchSubscription."""
        return await self._call("GET", Subscription, "Subscriptions", check_sid(sid, "DF", "sid"))

    async def update(
        self, sid: str, *, description: str | None = None, sink_sid: str | None = None
    ) -> Subscription:
        """Change a subscription's description or sink. UpdateSubscription."""
        check_sid(sid, "DF", "sid")
        if description is None and sink_sid is None:
            raise InvalidRequestError("update needs description or sink_sid")
        body = wire_pairs(
            Description=None if description is None else check_text(description, "description"),
            SinkSid=None if sink_sid is None else check_sid(sink_sid, "DG", "sink_sid"),
        )
        return await self._call("POST", Subscription, "Subscriptions", sid, form=body)

    async def delete(self, sid: str) -> None:
        """Delete a subscription. DeleteSubscription."""
        await self._delete("Subscriptions", check_sid(sid, "DF", "sid"))

    def list(
        self,
        *,
        sink_sid: str | None = None,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Subscription]:
        """Every subscription of the account, or those delivering to one sink.
        ListSubscription."""
        if sink_sid is not None:
            check_sid(sink_sid, "DG", "sink_sid")
        return self._list(
            Subscription,
            "subscriptions",
            "Subscriptions",
            params=wire_pairs(SinkSid=sink_sid),
            page_size=page_size,
            limit=limit,
        )

    def subscribed_events(self, subscription_sid: str) -> SubscribedEventsManager:
        """The event types of one subscription."""
        return SubscribedEventsManager(
            self._policy, check_sid(subscription_sid, "DF", "subscription_sid")
        )


class SubscribedEventsManager(Resource):
    """`client.subscriptions.subscribed_events(sid)`: the event types within one
    subscription (`/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents`)."""

    def __init__(self, policy: Policy, subscription_sid: str) -> None:
        super().__init__(policy)
        self.subscription_sid = subscription_sid

    def __repr__(self) -> str:
        return f"<SubscribedEventsManager of {self.subscription_sid}>"

    def list(
        self, *, page_size: int | None = None, limit: int | None = None
    ) -> AsyncPaginator[SubscribedEvent]:
        """Every event type of the subscription. ListSubscribedEvent."""
        return self._list(
            SubscribedEvent,
            "types",
            "Subscriptions",
            self.subscription_sid,
            "SubscribedEvents",
            page_size=page_size,
            limit=limit,
        )

    async def create(self, *, type: str, schema_version: int | None = None) -> SubscribedEvent:
        """Add an event type, at a schema version or the latest. CreateSubscribedEvent."""
        body = wire_pairs(
            Type=check_text(type, "type"),
            SchemaVersion=None
            if schema_version is None
            else check_positive_int(schema_version, "schema_version"),
        )
        return await self._call(
            "POST",
            SubscribedEvent,
            "Subscriptions",
            self.subscription_sid,
            "SubscribedEvents",
            form=body,
        )

    async def fetch(self, type: str) -> SubscribedEvent:
        """One event type of the subscription. FetchSubscribedEvent."""
        return await self._call("GET", SubscribedEvent, *self._path(type))

    async def update(self, type: str, *, schema_version: int | None = None) -> SubscribedEvent:
        """Change the schema version an event type is delivered with. UpdateSubscribedEvent."""
        body = wire_pairs(
            SchemaVersion=None
            if schema_version is None
            else check_positive_int(schema_version, "schema_version")
        )
        return await self._call("POST", SubscribedEvent, *self._path(type), form=body)

    async def delete(self, type: str) -> None:
        """Remove an event type from the subscription. DeleteSubscribedEvent."""
        await self._delete(*self._path(type))

    def _path(self, type: str) -> tuple[str, ...]:
        return (
            "Subscriptions",
            self.subscription_sid,
            "SubscribedEvents",
            check_text(type, "type"),
        )
