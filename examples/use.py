"""Event types, schemas, a sink, a subscription, pages: the client in one tour.

Credentials come from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN (or an API key pair) and
the origin from EVENTS_ASYNC_BASE_URL when set, e.g. by `eval` of `events-async
fake-server` output; or pass them: EventsClient("AC…", "auth token").
"""

import asyncio

from events_async import EventsClient, SubscribedType, WebhookSinkConfiguration


async def main() -> None:
    async with EventsClient() as client:
        # Event types and schemas
        async for event_type in client.event_types.list(schema_id="Messaging.MessageStatus"):
            print(event_type.type, event_type.description)
        schema = await client.schemas.fetch("Messaging.MessageStatus")
        latest = await client.schemas.versions(schema.id).fetch(schema.latest_version)
        print(latest.id, latest.schema_version, latest.raw)

        # A webhook sink (Twilio starts webhooks active; see examples/fake.py for
        # test -> validate, the flow of sinks that start `initialized`)
        sink = await client.sinks.create(
            description="orders webhook",
            sink_type="webhook",
            sink_configuration=WebhookSinkConfiguration("https://example.com/events"),
        )

        # Subscriptions and their event types
        subscription = await client.subscriptions.create(
            description="delivery receipts",
            sink_sid=sink.sid,
            types=[
                SubscribedType("com.twilio.messaging.message.delivered", schema_version=1),
                "com.twilio.messaging.message.failed",
            ],
        )
        events = client.subscriptions.subscribed_events(subscription.sid)
        for event in await events.list().collect():
            print(event.type, event.schema_version)

        # Pages, limits
        active = await client.sinks.list(status="active", limit=10).collect()
        print(len(active), "active sinks")
        async for page in client.subscriptions.list(page_size=100).pages():
            print(page.meta.page, len(page.items))


asyncio.run(main())
