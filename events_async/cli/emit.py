"""`events-async emit`: ask a running fake to publish events to its subscribed webhook sinks.

With `fake-server` in one terminal and `listen` in another (a webhook sink pointing at
`listen`, and a subscription to the type, created with `sinks create` and `subscriptions
create` against the fake), `emit --type T` shows the whole loop: the fake signs and
delivers, `listen` verifies and prints. The fake is the one `EVENTS_ASYNC_BASE_URL` (or
`--base-url`) names; Twilio itself is never asked (it has no such path).

One line per delivery: how it ended, the sink, its destination and the events it carried;
`--json` prints the fake's answer. Exit status 1 when no sink received the events or a
delivery did not succeed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._text import printable
from .connection import CONNECTION_OPTIONS
from .spec import POSITIVE, Arg, Command, Group, UsageError

__all__ = ["EMIT"]

_CONNECTION_FLAGS = (
    "--account-sid",
    "--auth-token",
    "--api-key",
    "--api-secret",
    "--base-url",
    "--timeout",
    "--json",
)


def _data(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise UsageError('--data must be JSON, e.g. \'{"to": "+15005550006"}\'') from None
    if not isinstance(data, dict):
        raise UsageError('--data must be a JSON object, e.g. \'{"to": "+15005550006"}\'')
    return data


async def _emit(args: argparse.Namespace) -> int:
    from ..testing.control import FakeControl

    data = _data(args.data)
    async with FakeControl(
        args.account_sid,
        args.auth_token,
        api_key=args.api_key,
        api_secret=args.api_secret,
        base_url=args.base_url,
        timeout=args.timeout,
    ) as control:
        result = await control.emit(args.type, data, count=args.count)
    if args.json:
        print(json.dumps(result.to_json()))
    for delivery in result.deliveries if not args.json else ():
        events = len(delivery.event_ids)
        answered = f" (HTTP {delivery.status})" if delivery.status is not None else ""
        print(
            f"{delivery.outcome}{answered}  {delivery.sink_sid}  "
            f"{printable(delivery.destination)}  {events} event{'s' * (events != 1)}"
        )
    if not result.deliveries:
        print(
            f"events-async: no active webhook sink subscribes to {printable(args.type)}: "
            "nothing was delivered (see `sinks list` and `subscriptions list`)",
            file=sys.stderr,
        )
        return 1
    return 0 if all(d.delivered for d in result.deliveries) else 1


EMIT = Group(
    "emit",
    "ask a running fake (fake-server) to deliver events to its subscribed webhook sinks",
    (
        Command(
            "",
            "ask a running fake (fake-server) to deliver events to its subscribed webhook "
            "sinks; exit 1 if none received them",
            _emit,
            (
                Arg(
                    ("--type",),
                    "the event type, e.g. com.twilio.messaging.message.delivered",
                    {"required": True},
                ),
                Arg(
                    ("--count",),
                    "how many events (default: 1)",
                    {"type": POSITIVE, "default": 1, "metavar": "N"},
                ),
                Arg(("--data",), "each event's data: a JSON object", {"metavar": "JSON"}),
                *(arg for arg in CONNECTION_OPTIONS if arg.flags[0] in _CONNECTION_FLAGS),
            ),
            connects=False,
        ),
    ),
)
