"""`events-async listen`: run a receiver and print each verified event; Ctrl-C stops it.

With `--fake`, it also starts the fake Events API, proves a webhook sink pointing at
itself, subscribes it to a few message events and emits some, so the whole loop —
create, test, validate, subscribe, deliver, verify — runs in one command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from .._convert import converter
from .._text import fit, printable
from ..models import CloudEvent
from ..webhooks.receiver import EventHandler, EventReceiver
from .connection import output_width
from .spec import HOST_OPTION, PORT_OPTION, Arg, Command, Group, UsageError

if TYPE_CHECKING:
    from ..testing import FakeEventsServer

__all__ = ["LISTEN"]

DEMO_TYPES = (
    "com.twilio.messaging.message.queued",
    "com.twilio.messaging.message.sent",
    "com.twilio.messaging.message.delivered",
)


def _printer(as_json: bool) -> EventHandler:
    """A handler that prints each event: a JSON line, or one line of a table."""
    width = None if as_json else output_width()

    async def print_event(event: CloudEvent) -> None:
        if as_json:
            line = json.dumps(converter.unstructure(event), separators=(",", ":"))
        else:
            when = event.time.isoformat().replace("+00:00", "Z") if event.time else "-"
            line = fit(printable(f"{when}  {event.type}  {event.id}  {event.source}"), width)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    return print_event


@contextlib.asynccontextmanager
async def _serving(receiver: EventReceiver, args: argparse.Namespace) -> AsyncIterator[str]:
    """The receiver on host:port/path; yields the URL it listens on."""
    runner = web.AppRunner(receiver.app(args.path), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, args.host, args.port)
        try:
            await site.start()
        except OSError as error:
            reason = error.strerror or str(error)
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{port}{args.path}"
    finally:
        await runner.cleanup()


def _stop_on_signals() -> asyncio.Event:
    """An event set by Ctrl-C or SIGTERM, for a clean stop rather than a traceback."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    return stop


def _tokens(args: argparse.Namespace) -> list[str]:
    tokens = args.auth_token or [t for t in [os.environ.get("TWILIO_AUTH_TOKEN", "")] if t]
    if not tokens:
        raise UsageError("no auth token: pass --auth-token (twice during a rotation) or set "
                         "TWILIO_AUTH_TOKEN")  # fmt: skip
    return list(tokens)


def _say(message: str) -> None:
    print(f"events-async: {message}", file=sys.stderr, flush=True)


async def _demo(fake: FakeEventsServer, receiver: EventReceiver, url: str) -> None:
    """A sink proven at `url`, subscribed to `DEMO_TYPES`, and an event of each emitted."""
    from ..webhooks.prove import prove_sink

    async with fake.client() as client:
        sink = await prove_sink(client, receiver, url, description="listen --fake")
        _say(f"sink {sink.sid} proven: Test, the signed test event, Validate: {sink.status}")
        await client.subscriptions.create(
            description="listen --fake", sink_sid=sink.sid, types=list(DEMO_TYPES)
        )
    for event_type in DEMO_TYPES:
        fake.emit(event_type, {"messageSid": "SM" + "0" * 32, "to": "+15005550006"})
    await fake.deliveries_settled()
    _say("demo events delivered")


async def _listen(args: argparse.Namespace) -> int:
    if not args.path.startswith("/"):
        raise UsageError("--path must start with /")
    stop = _stop_on_signals()
    async with contextlib.AsyncExitStack() as stack:
        fake: FakeEventsServer | None = None
        if args.fake:
            from ..testing import FakeEventsServer

            fake = await stack.enter_async_context(FakeEventsServer())
        receiver = EventReceiver(
            _printer(args.json),
            auth_tokens=[fake.account.auth_token] if fake is not None else _tokens(args),
            public_url=args.public_url,
            trust_forwarded=args.trust_forwarded,
        )
        url = await stack.enter_async_context(_serving(receiver, args))
        signed_as = f" (signed as {args.public_url})" if args.public_url else ""
        _say(f"listening on {url}{signed_as}; Ctrl-C stops")
        if fake is not None:
            await _demo(fake, receiver, url)
        await stop.wait()
    _say("stopped")
    return 0


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
