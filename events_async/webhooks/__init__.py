"""The receive side of Event Streams: verify, parse and receive deliveries.

```python
from aiohttp import web
from events_async.webhooks import CloudEvent, EventReceiver

receiver = EventReceiver(auth_tokens=["primary token", "secondary token"])

@receiver.on("com.twilio.messaging.message.delivered")
async def delivered(event: CloudEvent) -> None:
    ...

app = web.Application()
app.router.add_post("/events", receiver.handle)
```

The pure core needs no server: `verify_delivery` (the signature, failing closed),
`parse_events` (CloudEvents from the raw body), `MemoryDedupe` / `DedupeStore`.
With redis-py (`pip install 'events-async[redis]'`), `RedisStream` hands verified events
to a Redis Stream and `StreamConsumer` workers handle them from it.
`prove_sink` takes a sink from created to verified end to end in one await.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ..errors import PayloadError, SignatureError, SinkProofError, WebhookError
    from ..models import CloudEvent
    from .consumer import StreamConsumer, StreamMessage
    from .dedupe import Claim, DedupeStore, MemoryDedupe
    from .events import TEST_EVENT_TYPE, Malformed, ParsedDelivery, parse_delivery, parse_events
    from .prove import prove_sink
    from .receiver import PROBE_PARAMETER, EventReceiver
    from .redis_dedupe import RedisDedupe
    from .signature import (
        SIGNATURE_HEADER,
        body_sha256,
        signature_for,
        signed_url,
        verify_delivery,
    )
    from .stream import EnqueueResult, RedisStream, StreamEntry

__all__ = [
    "PROBE_PARAMETER",
    "SIGNATURE_HEADER",
    "TEST_EVENT_TYPE",
    "Claim",
    "CloudEvent",
    "DedupeStore",
    "EnqueueResult",
    "EventReceiver",
    "Malformed",
    "MemoryDedupe",
    "ParsedDelivery",
    "PayloadError",
    "RedisDedupe",
    "RedisStream",
    "SignatureError",
    "SinkProofError",
    "StreamConsumer",
    "StreamEntry",
    "StreamMessage",
    "WebhookError",
    "body_sha256",
    "parse_delivery",
    "parse_events",
    "prove_sink",
    "signature_for",
    "signed_url",
    "verify_delivery",
]

_HOMES = {
    "PROBE_PARAMETER": "events_async.webhooks.receiver",
    "SIGNATURE_HEADER": "events_async.webhooks.signature",
    "TEST_EVENT_TYPE": "events_async.webhooks.events",
    "Claim": "events_async.webhooks.dedupe",
    "CloudEvent": "events_async.models",
    "DedupeStore": "events_async.webhooks.dedupe",
    "EnqueueResult": "events_async.webhooks.stream",
    "EventReceiver": "events_async.webhooks.receiver",
    "Malformed": "events_async.webhooks.events",
    "MemoryDedupe": "events_async.webhooks.dedupe",
    "ParsedDelivery": "events_async.webhooks.events",
    "PayloadError": "events_async.errors",
    "RedisDedupe": "events_async.webhooks.redis_dedupe",
    "RedisStream": "events_async.webhooks.stream",
    "SignatureError": "events_async.errors",
    "SinkProofError": "events_async.errors",
    "StreamConsumer": "events_async.webhooks.consumer",
    "StreamEntry": "events_async.webhooks.stream",
    "StreamMessage": "events_async.webhooks.consumer",
    "WebhookError": "events_async.errors",
    "body_sha256": "events_async.webhooks.signature",
    "parse_delivery": "events_async.webhooks.events",
    "parse_events": "events_async.webhooks.events",
    "prove_sink": "events_async.webhooks.prove",
    "signature_for": "events_async.webhooks.signature",
    "signed_url": "events_async.webhooks.signature",
    "verify_delivery": "events_async.webhooks.signature",
}

__getattr__ = lazy_exports(__name__, _HOMES)
