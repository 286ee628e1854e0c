"""`events-async listen`: run a receiver and print each verified event; Ctrl-C stops it.

With `--redis-url`, several `listen` processes share one dedupe store: between them each
event is printed once. With `--stream`, events are handed to a Redis Stream instead of
printed, for `events-async consume` (or any `StreamConsumer`) to handle. With
`--metrics-port`, Prometheus metrics are served on that port.

With `--fake`, it also starts the fake Events API, proves a webhook sink pointing at
itself, subscribes it to a few message events and emits some, so the whole loop —
create, test, validate, subscribe, deliver, verify — runs in one command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..webhooks.dedupe import DedupeStore
from ..webhooks.receiver import EventReceiver
from .event_lines import Stop, log_warnings_in_one_line, printer, say
from .ports import cannot_listen
from .redis_options import REDIS_URL_OPTION, STREAM_OPTION, redis_client, redis_url, where
from .spec import HOST_OPTION, PORT, PORT_OPTION, Arg, Command, Group, UsageError

if TYPE_CHECKING:
    from ..testing import FakeEventsServer
    from ..webhooks.stream import RedisStream

__all__ = ["LISTEN"]

DEMO_TYPES = (
    "com.twilio.messaging.message.queued",
    "com.twilio.messaging.message.sent",
    "com.twilio.messaging.message.delivered",
)


@contextlib.asynccontextmanager
async def _serving(app: web.Application, host: str, port: int, path: str) -> AsyncIterator[str]:
    """`app` on host:port; yields the URL of `path` on it."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as error:
            raise UsageError(cannot_listen(host, port, error)) from None
        bound, actual = runner.addresses[0][:2]
        shown = f"[{bound}]" if ":" in bound else bound
        yield f"http://{shown}:{actual}{path}"
    finally:
        await runner.cleanup()


async def _shared(
    stack: contextlib.AsyncExitStack, args: argparse.Namespace
) -> tuple[DedupeStore | None, RedisStream | None]:
    """The Redis dedupe store, or the stream, that `--redis-url` and `--stream` ask for."""
    url = redis_url(args.redis_url)
    if url is None:
        if args.stream is not None:
            raise UsageError("--stream needs --redis-url (or $EVENTS_ASYNC_REDIS_URL)")
        return None, None
    client = await stack.enter_async_context(redis_client(url))
    if args.stream is not None:
        from ..webhooks.stream import RedisStream

        say(f"handing events to the stream {args.stream} on Redis at {where(url)}")
        return None, RedisStream(client, args.stream)
    from ..webhooks.redis_dedupe import RedisDedupe

    say(f"sharing deduplication through Redis at {where(url)}")
    return RedisDedupe(client), None


async def _serve_metrics(
    stack: contextlib.AsyncExitStack, receiver: EventReceiver, args: argparse.Namespace
) -> None:
    try:
        from prometheus_client import CollectorRegistry

        from ..webhooks.metrics import ReceiverCollector, metrics_app
    except ImportError:
        raise UsageError("--metrics-port needs prometheus_client: "
                         "pip install 'events-async[metrics]'") from None  # fmt: skip
    registry = CollectorRegistry()
    registry.register(ReceiverCollector(receiver.stats))
    app = metrics_app(registry)
    url = await stack.enter_async_context(_serving(app, args.host, args.metrics_port, "/metrics"))
    say(f"metrics on {url}")


def _tokens(args: argparse.Namespace) -> list[str]:
    tokens = args.auth_token or [t for t in [os.environ.get("TWILIO_AUTH_TOKEN", "")] if t]
    if not tokens:
        raise UsageError("no auth token: pass --auth-token (twice during a rotation) or set "
                         "TWILIO_AUTH_TOKEN")  # fmt: skip
    return list(tokens)


async def _demo(fake: FakeEventsServer, receiver: EventReceiver, url: str) -> None:
    """A sink proven at `url`, subscribed to `DEMO_TYPES`, and an event of each emitted."""
    from ..webhooks.prove import prove_sink

    async with fake.client() as client:
        sink = await prove_sink(client, receiver, url, description="listen --fake")
        say(f"sink {sink.sid} proven: Test, the signed test event, Validate: {sink.status}")
        await client.subscriptions.create(
            description="listen --fake", sink_sid=sink.sid, types=list(DEMO_TYPES)
        )
    for event_type in DEMO_TYPES:
        fake.emit(event_type, {"messageSid": "SM" + "0" * 32, "to": "+15005550006"})
    await fake.deliveries_settled()
    say("demo events delivered")


async def _listen(args: argparse.Namespace) -> int:
    if not args.path.startswith("/"):
        raise UsageError("--path must start with /")
    if args.metrics_port is not None and args.metrics_port == args.port != 0:
        raise UsageError("--metrics-port must differ from --port")
    stop = Stop()  # first, so Ctrl-C at any moment is a clean stop
    log_warnings_in_one_line(args.debug)
    async with contextlib.AsyncExitStack() as stack:
        dedupe, stream = await _shared(stack, args)
        fake: FakeEventsServer | None = None
        if args.fake:
            from ..testing import FakeEventsServer

            fake = await stack.enter_async_context(FakeEventsServer())
        receiver = EventReceiver(
            printer(args.json, stop) if stream is None else None,
            auth_tokens=[fake.account.auth_token] if fake is not None else _tokens(args),
            public_url=args.public_url,
            trust_forwarded=args.trust_forwarded,
            dedupe=dedupe,
            stream=stream,
        )
        url = await stack.enter_async_context(
            _serving(receiver.app(args.path), args.host, args.port, args.path)
        )
        signed_as = f" (signed as {args.public_url})" if args.public_url else ""
        say(f"listening on {url}{signed_as}; Ctrl-C stops")
        if args.metrics_port is not None:
            await _serve_metrics(stack, receiver, args)
        if fake is not None:
            await _until_either(_demo(fake, receiver, url), stop.event)
        await stop.event.wait()
    if stop.pipe_closed:
        raise BrokenPipeError  # ends quietly, as every command does on a closed pipe
    say("stopped")
    return 0


async def _until_either(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """`await work`, unless `stop` is set first: then `work` is cancelled."""
    task = asyncio.create_task(work)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


LISTEN = Group(
    "listen",
    "receive Event Streams deliveries: verify each and print its events",
    (
        Command(
            "",
            "run a receiver and print each verified event (Ctrl-C stops it)",
            _listen,
            (
                HOST_OPTION,
                PORT_OPTION,
                Arg(("--path",), "path to receive on (default: /events)", {"default": "/events"}),
                Arg(
                    ("--auth-token",),
                    "the account's Auth Token; twice during a rotation "
                    "(default: $TWILIO_AUTH_TOKEN)",
                    {"action": "append"},
                ),
                Arg(
                    ("--public-url",),
                    "the URL Twilio delivers to, when a proxy stands in front (no query)",
                    {"metavar": "URL"},
                ),
                Arg(
                    ("--trust-forwarded",),
                    "take the scheme and host from X-Forwarded-Proto/-Host (behind a proxy)",
                    {"action": "store_true"},
                ),
                Arg(("--json",), "print each event as a JSON line", {"action": "store_true"}),
                REDIS_URL_OPTION,
                Arg(
                    STREAM_OPTION.flags,
                    "hand events to this Redis Stream instead of printing them "
                    "(for `events-async consume`; needs --redis-url)",
                    STREAM_OPTION.options,
                ),
                Arg(
                    ("--metrics-port",),
                    "serve Prometheus metrics at /metrics on this port (same --host)",
                    {"type": PORT, "metavar": "PORT"},
                ),
                Arg(
                    ("--fake",),
                    "start the fake Events API, prove a sink pointing here, emit demo events",
                    {"action": "store_true"},
                ),
            ),
            connects=False,
        ),
    ),
)
