"""The Events API's resources as frozen attrs classes, and its enums.

Field names are the JSON's. Fields that identify a resource, and the others a caller
passes back into a call (a sink's SID, a schema's latest version, a subscription's sink),
are required and typed without `None`: Twilio always sends them, and typed code can hand
them straight to the next call. A response without one is a `ResponseDecodeError`. Every
other field is optional (the API marks them all nullable), so a response that leaves one
out still parses. Conversion lives in `_convert.py`; these classes know nothing of HTTP
or JSON.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

__all__ = [
    "Account",
    "AccountStatus",
    "CloudEvent",
    "EventType",
    "KinesisSinkConfiguration",
    "Page",
    "PageMeta",
    "Schema",
    "SchemaVersion",
    "SegmentSinkConfiguration",
    "Sink",
    "SinkStatus",
    "SinkTestResult",
    "SinkType",
    "SinkValidateResult",
    "SubscribedEvent",
    "SubscribedType",
    "Subscription",
    "WebhookSinkConfiguration",
]

T = TypeVar("T")


class SinkType(str, enum.Enum):
    """Where a sink delivers events. Responses may carry types newer than this list."""

    KINESIS = "kinesis"
    WEBHOOK = "webhook"
    SEGMENT = "segment"
    EMAIL = "email"

    def __str__(self) -> str:
        return self.value


class SinkStatus(str, enum.Enum):
    """A sink's place in its lifecycle: initialized → validating → active (or failed)."""

    INITIALIZED = "initialized"
    VALIDATING = "validating"
    ACTIVE = "active"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


class AccountStatus(str, enum.Enum):
    """A Twilio account's standing (2010 Accounts API). Responses may carry newer values."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Account:
    """A Twilio account or subaccount, as Twilio's 2010 Accounts API lists it.

    `auth_token` is the account's own token (listed only to its owner's credentials);
    it never appears in a repr.
    """

    sid: str
    friendly_name: str | None = None
    status: AccountStatus | str | None = None
    owner_account_sid: str | None = None
    auth_token: str | None = attrs.field(default=None, repr=False)
    type: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None
    uri: str | None = None

    @property
    def is_subaccount(self) -> bool:
        """True when another account owns this one."""
        return self.owner_account_sid is not None and self.owner_account_sid != self.sid


@attrs.frozen
class EventType:
    """A type of event that can be subscribed to, such as a delivered message."""

    type: str
    schema_id: str
    date_created: datetime | None = None
    date_updated: datetime | None = None
    description: str | None = None
    status: str | None = None
    documentation_url: str | None = None
    url: str | None = None
    links: dict[str, str] | None = None


@attrs.frozen
class Schema:
    """A versioned schema that event types adhere to."""

    id: str
    latest_version: int
    url: str | None = None
    links: dict[str, str] | None = None
    latest_version_date_created: datetime | None = None


@attrs.frozen
class SchemaVersion:
    """One version of a schema; `raw` links to its JSON Schema document."""

    id: str
    schema_version: int
    date_created: datetime | None = None
    url: str | None = None
    raw: str | None = None


@attrs.frozen
class Sink:
    """A destination events are delivered to.

    `sink_type` and `status` are enum members, or the plain string when the API sends a
    value newer than this library. `sink_configuration` is the mapping the API sent;
    `configuration` is the same as a `WebhookSinkConfiguration`,
    `KinesisSinkConfiguration` or `SegmentSinkConfiguration`, by `sink_type`.
    """

    sid: str
    description: str | None = None
    sink_type: SinkType | str | None = None
    status: SinkStatus | str | None = None
    sink_configuration: dict[str, Any] | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None
    url: str | None = None
    links: dict[str, str] | None = None

    @property
    def configuration(
        self,
    ) -> KinesisSinkConfiguration | WebhookSinkConfiguration | SegmentSinkConfiguration | None:
        """`sink_configuration` as the typed class of `sink_type`, for code that narrows
        it (`isinstance`, `match`); `sink_configuration` keeps the mapping as sent, every
        key included. None when the type has no typed class (email, or one newer than
        this library) or the configuration does not fit it (a required field missing or
        of another kind); optional fields the API left out take the class's defaults."""
        from ._convert import typed_sink_configuration  # conversion stays out of models

        return typed_sink_configuration(self.sink_type, self.sink_configuration)


@attrs.frozen
class SinkTestResult:
    """The answer to a sink test: `result` is "submitted" when the test event was sent."""

    result: str | None = None


@attrs.frozen
class SinkValidateResult:
    """The answer to a sink validation: `result` is "valid" when the test id matched."""

    result: str | None = None


@attrs.frozen
class Subscription:
    """A selection of event types delivered to one sink."""

    sid: str
    sink_sid: str
    account_sid: str | None = None
    description: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None
    url: str | None = None
    links: dict[str, str] | None = None
    receive_events_from_subaccounts: bool | None = None


@attrs.frozen
class SubscribedEvent:
    """One event type (at one schema version) within a subscription."""

    type: str
    schema_version: int
    subscription_sid: str
    account_sid: str | None = None
    url: str | None = None


@attrs.frozen
class PageMeta:
    """The `meta` block of a list page; `next_page_url` is None on the last page."""

    page: int | None = None
    page_size: int | None = None
    first_page_url: str | None = None
    previous_page_url: str | None = None
    url: str | None = None
    next_page_url: str | None = None
    key: str | None = None


@attrs.frozen
class Page(Generic[T]):
    """One page of a list: its items and its `meta` block."""

    items: list[T]
    meta: PageMeta


@attrs.frozen
class CloudEvent:
    """One event Event Streams delivered: a CloudEvents 1.0 envelope, checked strictly.

    `data` is the payload, decoded from JSON (Kinesis sinks deliver an object or array
    as a JSON string; it is decoded, while any other string stays a string);
    `data_base64` is a binary payload's bytes. Attributes that are not in the spec are
    kept in `extensions`, by name.
    """

    id: str
    type: str
    source: str
    specversion: str
    time: datetime | None = None
    dataschema: str | None = None
    datacontenttype: str | None = None
    subject: str | None = None
    data: Any = None
    data_base64: bytes | None = None
    extensions: Mapping[str, Any] = attrs.field(factory=dict)


# Request-side values: what callers may pass to create sinks and subscriptions.


@attrs.frozen
class KinesisSinkConfiguration:
    """Delivery to an Amazon Kinesis stream, through a role Twilio assumes."""

    arn: str
    role_arn: str
    external_id: str


@attrs.frozen
class WebhookSinkConfiguration:
    """Delivery to an HTTP endpoint; `batch_events` sends several events per request."""

    destination: str
    method: str = "POST"
    batch_events: bool = True


@attrs.frozen
class SegmentSinkConfiguration:
    """Delivery to a Segment source, by its write key."""

    write_key: str


@attrs.frozen
class SubscribedType:
    """An event type to subscribe to; `schema_version` None means the latest."""

    type: str
    schema_version: int | None = None
