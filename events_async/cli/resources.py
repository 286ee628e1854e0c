"""The commands for the 22 operations: `types`, `schemas`, `sinks`, `subscriptions` and
`subscribed-events`, declared as tables."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable
from typing import Any

from ..models import SubscribedType
from .connection import api
from .spec import POSITIVE, Arg, Command, Group, OneOf, UsageError

__all__ = ["GROUPS"]


def _subscribed_type(text: str) -> SubscribedType:
    """TYPE or TYPE:VERSION, VERSION a whole number from 1 (event type names hold no colon)."""
    name, colon, version = text.rpartition(":")
    if not colon:
        name = text
    if not name.strip():
        raise argparse.ArgumentTypeError(f"TYPE:VERSION needs an event type, got {text!r}")
    if not colon:
        return SubscribedType(name)
    if not (version.isascii() and version.isdigit()) or int(version) < 1:
        raise argparse.ArgumentTypeError(
            f"the VERSION of TYPE:VERSION must be a whole number from 1, got {version!r}"
        )
    return SubscribedType(name, int(version))


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


async def _deleted(deletion: Awaitable[None], what: str) -> dict[str, str]:
    await deletion
    return {"deleted": what}


def _pages(args: argparse.Namespace) -> dict[str, Any]:
    return {"page_size": args.page_size, "limit": args.limit}


def _something_to_update(args: argparse.Namespace) -> None:
    if args.description is None and args.sink_sid is None:
        raise UsageError("subscriptions update needs --description or --sink-sid")


SINK_SID = Arg(("sid",), "the sink's SID (DG…)")
SUBSCRIPTION_SID = Arg(("sid",), "the subscription's SID (DF…)")
SUBSCRIPTION = Arg(("subscription",), "the subscription's SID (DF…)")
EVENT_TYPE = Arg(("type",), "an event type, e.g. com.twilio.messaging.message.delivered")
SCHEMA_ID = Arg(("id",), "a schema id, e.g. Messaging.MessageStatus")

TYPES = Group(
    "types",
    "event types that can be subscribed to",
    (
        Command(
            "list",
            "list event types",
            api(lambda c, a: c.event_types.list(schema_id=a.schema_id, **_pages(a)).collect()),
            (Arg(("--schema-id",), "only the types of this schema, e.g. Messaging.MessageStatus"),),
            lists=True,
        ),
        Command(
            "fetch",
            "fetch an event type",
            api(lambda c, a: c.event_types.fetch(a.type)),
            (EVENT_TYPE,),
        ),
    ),
)

SCHEMAS = Group(
    "schemas",
    "schemas and their versions",
    (
        Command("fetch", "fetch a schema", api(lambda c, a: c.schemas.fetch(a.id)), (SCHEMA_ID,)),
        Command(
            "versions",
            "list a schema's versions",
            api(lambda c, a: c.schemas.versions(a.id).list(**_pages(a)).collect()),
            (SCHEMA_ID,),
            lists=True,
        ),
        Command(
            "version",
            "fetch one version of a schema",
            api(lambda c, a: c.schemas.versions(a.id).fetch(a.version)),
            (SCHEMA_ID, Arg(("version",), "the version number", {"type": POSITIVE})),
        ),
    ),
)

SINKS = Group(
    "sinks",
    "destinations events are delivered to",
    (
        Command(
            "list",
            "list sinks",
            api(lambda c, a: c.sinks.list(in_use=a.in_use, status=a.status, **_pages(a)).collect()),
            (
                Arg(
                    ("--status",),
                    "only sinks in this status",
                    {"choices": ["initialized", "validating", "active", "failed"]},
                ),
                OneOf(
                    (
                        Arg(
                            ("--in-use",),
                            "only sinks a subscription delivers to",
                            {"dest": "in_use", "action": "store_true", "default": None},
                        ),
                        Arg(
                            ("--not-in-use",),
                            "only sinks no subscription delivers to",
                            {"dest": "in_use", "action": "store_false"},
                        ),
                    )
                ),
            ),
            lists=True,
        ),
        Command("fetch", "fetch a sink", api(lambda c, a: c.sinks.fetch(a.sid)), (SINK_SID,)),
        Command(
            "create",
            "create a sink",
            api(
                lambda c, a: c.sinks.create(
                    description=a.description, sink_type=a.type, sink_configuration=a.configuration
                )
            ),
            (
                Arg(("--description",), "what the sink is for", {"required": True}),
                Arg(("--type",), "kinesis, webhook, segment or email", {"required": True}),
                Arg(
                    ("--configuration",),
                    'the sink configuration as a JSON object, e.g. \'{"destination": "https://…"}\'',
                    {"required": True, "type": _json_object, "metavar": "JSON"},
                ),
            ),
        ),
        Command(
            "update",
            "change a sink's description",
            api(lambda c, a: c.sinks.update(a.sid, description=a.description)),
            (SINK_SID, Arg(("--description",), "the new description", {"required": True})),
        ),
        Command(
            "delete",
            "delete a sink",
            api(lambda c, a: _deleted(c.sinks.delete(a.sid), a.sid)),
            (SINK_SID,),
        ),
        Command(
            "test",
            "send a test event to a sink",
            api(lambda c, a: c.sinks.test(a.sid)),
            (SINK_SID,),
        ),
        Command(
            "validate",
            "validate a sink with the test event's id",
            api(lambda c, a: c.sinks.validate(a.sid, test_id=a.test_id)),
            (
                SINK_SID,
                Arg(("--test-id",), "data.test_id of the test event received", {"required": True}),
            ),
        ),
    ),
)

SUBSCRIPTIONS = Group(
    "subscriptions",
    "which event types go to which sink",
    (
        Command(
            "list",
            "list subscriptions",
            api(lambda c, a: c.subscriptions.list(sink_sid=a.sink_sid, **_pages(a)).collect()),
            (Arg(("--sink-sid",), "only subscriptions delivering to this sink (DG…)"),),
            lists=True,
        ),
        Command(
            "fetch",
            "fetch a subscription",
            api(lambda c, a: c.subscriptions.fetch(a.sid)),
            (SUBSCRIPTION_SID,),
        ),
        Command(
            "create",
            "create a subscription",
            api(
                lambda c, a: c.subscriptions.create(
                    description=a.description, sink_sid=a.sink_sid, types=a.types
                )
            ),
            (
                Arg(("--description",), "what the subscription is for", {"required": True}),
                Arg(("--sink-sid",), "the sink to deliver to (DG…)", {"required": True}),
                Arg(
                    ("--type",),
                    "TYPE or TYPE:VERSION; repeat for more",
                    {
                        "dest": "types",
                        "action": "append",
                        "required": True,
                        "type": _subscribed_type,
                    },
                ),
            ),
        ),
        Command(
            "update",
            "change a subscription's description or sink",
            api(
                lambda c, a: c.subscriptions.update(
                    a.sid, description=a.description, sink_sid=a.sink_sid
                ),
                check=_something_to_update,
            ),
            (
                SUBSCRIPTION_SID,
                Arg(("--description",), "the new description"),
                Arg(("--sink-sid",), "the new sink (DG…)"),
            ),
        ),
        Command(
            "delete",
            "delete a subscription",
            api(lambda c, a: _deleted(c.subscriptions.delete(a.sid), a.sid)),
            (SUBSCRIPTION_SID,),
        ),
    ),
)

SCHEMA_VERSION = Arg(
    ("--schema-version",), "the schema version to deliver (default: the latest)", {"type": POSITIVE}
)

SUBSCRIBED_EVENTS = Group(
    "subscribed-events",
    "the event types of one subscription",
    (
        Command(
            "list",
            "list a subscription's event types",
            api(
                lambda c, a: (
                    c.subscriptions.subscribed_events(a.subscription).list(**_pages(a)).collect()
                )
            ),
            (SUBSCRIPTION,),
            lists=True,
        ),
        Command(
            "fetch",
            "fetch one event type of a subscription",
            api(lambda c, a: c.subscriptions.subscribed_events(a.subscription).fetch(a.type)),
            (SUBSCRIPTION, EVENT_TYPE),
        ),
        Command(
            "create",
            "add an event type to a subscription",
            api(
                lambda c, a: c.subscriptions.subscribed_events(a.subscription).create(
                    type=a.type, schema_version=a.schema_version
                )
            ),
            (SUBSCRIPTION, EVENT_TYPE, SCHEMA_VERSION),
        ),
        Command(
            "update",
            "change the schema version an event type is delivered with",
            api(
                lambda c, a: c.subscriptions.subscribed_events(a.subscription).update(
                    a.type, schema_version=a.schema_version
                )
            ),
            (
                SUBSCRIPTION,
                EVENT_TYPE,
                Arg(
                    ("--schema-version",),
                    "the schema version to deliver",
                    {"type": POSITIVE, "required": True},
                ),
            ),
        ),
        Command(
            "delete",
            "remove an event type from a subscription",
            api(
                lambda c, a: _deleted(
                    c.subscriptions.subscribed_events(a.subscription).delete(a.type), a.type
                )
            ),
            (SUBSCRIPTION, EVENT_TYPE),
        ),
    ),
)

GROUPS = (TYPES, SCHEMAS, SINKS, SUBSCRIPTIONS, SUBSCRIBED_EVENTS)
