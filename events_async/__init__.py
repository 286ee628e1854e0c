"""events_async: an asyncio client for the Twilio Events API v1 (Event Streams)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import __version__

if TYPE_CHECKING:
    from .client import EventsClient
    from .errors import (
        ApiError,
        AuthenticationError,
        BadRequestError,
        ClientClosedError,
        EventsError,
        EventsTimeoutError,
        InvalidRequestError,
        NotFoundError,
        PaginationError,
        PermissionDeniedError,
        RateLimitError,
        ResponseDecodeError,
        ServerError,
        TransportError,
    )
    from .models import (
        EventType,
        KinesisSinkConfiguration,
        Page,
        PageMeta,
        Schema,
        SchemaVersion,
        SegmentSinkConfiguration,
        Sink,
        SinkStatus,
        SinkTestResult,
        SinkType,
        SinkValidateResult,
        SubscribedEvent,
        SubscribedType,
        Subscription,
        WebhookSinkConfiguration,
    )
    from .pagination import AsyncPaginator

__all__ = [
    "ApiError",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "EventType",
    "EventsClient",
    "EventsError",
    "EventsTimeoutError",
    "InvalidRequestError",
    "KinesisSinkConfiguration",
    "NotFoundError",
    "Page",
    "PageMeta",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "Schema",
    "SchemaVersion",
    "SegmentSinkConfiguration",
    "ServerError",
    "Sink",
    "SinkStatus",
    "SinkTestResult",
    "SinkType",
    "SinkValidateResult",
    "SubscribedEvent",
    "SubscribedType",
    "Subscription",
    "TransportError",
    "WebhookSinkConfiguration",
    "__version__",
]

# Imported on first use, so importing the package (the pytest plugin does) stays cheap.
_HOMES = {
    "ApiError": ".errors",
    "AsyncPaginator": ".pagination",
    "AuthenticationError": ".errors",
    "BadRequestError": ".errors",
    "ClientClosedError": ".errors",
    "EventType": ".models",
    "EventsClient": ".client",
    "EventsError": ".errors",
    "EventsTimeoutError": ".errors",
    "InvalidRequestError": ".errors",
    "KinesisSinkConfiguration": ".models",
    "NotFoundError": ".errors",
    "Page": ".models",
    "PageMeta": ".models",
    "PaginationError": ".errors",
    "PermissionDeniedError": ".errors",
    "RateLimitError": ".errors",
    "ResponseDecodeError": ".errors",
    "Schema": ".models",
    "SchemaVersion": ".models",
    "SegmentSinkConfiguration": ".models",
    "ServerError": ".errors",
    "Sink": ".models",
    "SinkStatus": ".models",
    "SinkTestResult": ".models",
    "SinkType": ".models",
    "SinkValidateResult": ".models",
    "SubscribedEvent": ".models",
    "SubscribedType": ".models",
    "Subscription": ".models",
    "TransportError": ".errors",
    "WebhookSinkConfiguration": ".models",
}

__getattr__ = lazy_exports(__name__, _HOMES)
