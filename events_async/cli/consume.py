"""`events-async consume`: print, then acknowledge, each event of a Redis Stream.

The worker side of `listen --stream`: it reads through a consumer group, so several
`consume` processes share the stream's events between them; an event is acknowledged
only once it has been printed, and one whose line could not be written stays pending
for another worker. Ctrl-C stops it cleanly, leaving nothing half-acknowledged.
"""

from __future__ import annotations

import argparse
import contextlib

from .event_lines import Stop, log_warnings_in_one_line, printer, say
from .redis_options import REDIS_URL_OPTION, STREAM_OPTION, redis_client, redis_url, where
from .spec import POSITIVE, Arg, Command, Group, UsageError

__all__ = ["CONSUME"]

DEFAULT_STREAM = "events_async:events"
DEFAULT_GROUP = "events_async"


async def _consume(args: argparse.Namespace) -> int:
    url = redis_url(args.redis_url)
    if url is None:
        raise UsageError("consume needs --redis-url (or $EVENTS_ASYNC_REDIS_URL)")
    if args.idle <= 0:
        raise UsageError("--idle must be more than 0 seconds")
    stop = Stop()
    log_warnings_in_one_line(args.debug)
    from ..webhooks.consumer import StreamConsumer

    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(redis_client(url))
        consumer = StreamConsumer(
            client,
            args.stream,
            group=args.group,
            consumer=args.consumer,
            idle=args.idle,
            max_deliveries=args.max_deliveries,
        )
        say(f"consuming {args.stream} as {consumer.consumer} of group {args.group} "
            f"on Redis at {where(url)}; Ctrl-C stops")  # fmt: skip
        await consumer.run(printer(args.json, stop), stop=stop.event)
    if stop.pipe_closed:
        raise BrokenPipeError  # ends quietly, as every command does on a closed pipe
    say("stopped")
    return 0


CONSUME = Group(
    "consume",
    "print, then acknowledge, each event handed to a Redis Stream by `listen --stream`",
    (
        Command(
            "",
            "print, then acknowledge, each event of a Redis Stream (Ctrl-C stops it)",
            _consume,
            (
                REDIS_URL_OPTION,
                Arg(
                    STREAM_OPTION.flags,
                    f"the stream to read (default: {DEFAULT_STREAM})",
                    {"metavar": "NAME", "default": DEFAULT_STREAM},
                ),
                Arg(
                    ("--group",),
                    f"the consumer group; workers of one group share events "
                    f"(default: {DEFAULT_GROUP})",
                    {"default": DEFAULT_GROUP},
                ),
                Arg(("--consumer",), "this worker's name in the group (default: host-pid-random)"),
                Arg(
                    ("--idle",),
                    "seconds an event may stay unacknowledged before another worker takes it "
                    "(default: 30)",
                    {"type": float, "default": 30.0, "metavar": "SECONDS"},
                ),
                Arg(
                    ("--max-deliveries",),
                    "deliveries of one event before it goes to the dead-letter stream (default: 5)",
                    {"type": POSITIVE, "default": 5, "metavar": "N"},
                ),
                Arg(("--json",), "print each event as a JSON line", {"action": "store_true"}),
            ),
            connects=False,
        ),
    ),
)
