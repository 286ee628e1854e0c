"""`events-async listen`: run a receiver and print each verified event; Ctrl-C stops it.

With `--fake`, it also starts the fake Events API, proves a webhook sink pointing at
itself, subscribes it to a few message events and emits some, so the whole loop —
create, test, validate, subscribe, deliver, verify — runs in one command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from .._text import fit, printable
from ..models import CloudEvent
from ..webhooks.cloudevents import event_to_json
from ..webhooks.events import TEST_EVENT_TYPE
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


class _Stop:
    """Why the command stops: Ctrl-C or SIGTERM, or the reader of stdout went away."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.pipe_closed = False
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.event.set)


def _printer(as_json: bool, stop: _Stop) -> EventHandler:
    """A handler that prints each event: a JSON line, or one line of a table. When the
    reader of stdout goes away (`| head`), it sets `stop` and fails the delivery, which
    then answers 500: Twilio delivers that event again later, to a receiver that can
    still show it."""
    width = None if as_json else output_width()

    async def print_event(event: CloudEvent) -> None:
        if as_json:
            line = orjson.dumps(event_to_json(event)).decode()
        else:
            when = event.time.isoformat() if event.time else "-"
            test_id = event.data.get("test_id") if isinstance(event.data, dict) else None
            shown = f"test_id={test_id}" if event.type == TEST_EVENT_TYPE else event.source
            line = fit(printable(f"{when}  {event.type}  {event.id}  {shown}"), width)
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            stop.pipe_closed = True
            stop.event.set()
            raise

    return print_event


def _log_warnings_in_one_line(debug: bool) -> None:
    """The receiver's warnings (a handler that failed) on stderr, one line each; the
    traceback only with --debug."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine() if not debug else logging.Formatter("%(message)s"))
    handler.setLevel(logging.WARNING)
    handler.addFilter(_not_a_closed_pipe)
    logger = logging.getLogger("events_async.webhooks")
    logger.addHandler(handler)
    logger.propagate = False


def _not_a_closed_pipe(record: logging.LogRecord) -> bool:
    """A delivery failed because stdout's reader left: the command is ending quietly."""
    return not (record.exc_info and isinstance(record.exc_info[1], BrokenPipeError))


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        reason = ""
        if record.exc_info and record.exc_info[1] is not None:
            reason = f" ({type(record.exc_info[1]).__name__})"
        return printable(f"events-async: warning: {record.getMessage()}{reason}")


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
    stop = _Stop()  # first, so Ctrl-C at any moment is a clean stop
    _log_warnings_in_one_line(args.debug)
    async with contextlib.AsyncExitStack() as stack:
        fake: FakeEventsServer | None = None
        if args.fake:
            from ..testing import FakeEventsServer

            fake = await stack.enter_async_context(FakeEventsServer())
        receiver = EventReceiver(
            _printer(args.json, stop),
            auth_tokens=[fake.account.auth_token] if fake is not None else _tokens(args),
            public_url=args.public_url,
            trust_forwarded=args.trust_forwarded,
        )
        url = await stack.enter_async_context(_serving(receiver, args))
        signed_as = f" (signed as {args.public_url})" if args.public_url else ""
        _say(f"listening on {url}{signed_as}; Ctrl-C stops")
        if fake is not None:
            await _until_either(_demo(fake, receiver, url), stop.event)
        await stop.event.wait()
    if stop.pipe_closed:
        raise BrokenPipeError  # ends quietly, as every command does on a closed pipe
    _say("stopped")
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
