"""An aiohttp service that receives Event Streams deliveries: each verified, then handled once."""

import os
import sys

from aiohttp import web

from events_async.webhooks import CloudEvent, EventReceiver

receiver = EventReceiver(
    auth_tokens=[os.environ["TWILIO_AUTH_TOKEN"]],  # and the secondary, during a rotation
    public_url=os.environ.get("PUBLIC_URL"),  # the sink's destination, if a proxy is in front
    handler_timeout=4.0,  # all of one delivery; Twilio waits 5 s
)


@receiver.on("com.twilio.messaging.message.delivered")
async def delivered(event: CloudEvent) -> None:
    print("delivered", event.id, event.data)  # raise, and Twilio retries (500)


@receiver.on("com.twilio.messaging.message.failed")
async def failed(event: CloudEvent) -> None:
    print("failed", event.id, event.data)


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_post("/twilio/events", receiver.handle)  # or add_subapp(receiver.app())
    return app


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8081"))  # 0: any free port, printed on start
    try:
        web.run_app(make_app(), host="127.0.0.1", port=port)
    except OSError as error:  # most often: the port is in use
        reason = os.strerror(error.errno) if error.errno else error
        sys.exit(f"receive.py: cannot listen on port {port}: {reason} (PORT=0 picks a free one)")
