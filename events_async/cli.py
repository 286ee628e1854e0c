"""The `events-async` command: every operation, the audit and the fake, over the library.

Exit status: 0 on success (for `audit`: no errors found), 1 when the audit found errors or
an API or network error stopped a command, 2 for usage and authentication failures.
Errors print one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ._cli_render import ProgressBar, render
from ._text import printable
from .audit import audit_account
from .client import EventsClient
from .errors import AuthenticationError, EventsError, InvalidRequestError
from .models import SubscribedType

__all__ = ["build_parser", "main"]

Command = Callable[[EventsClient, argparse.Namespace], Awaitable[Any]]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _subscribed_type(text: str) -> SubscribedType:
    """TYPE or TYPE:VERSION."""
    name, colon, version = text.rpartition(":")
    if colon and version.isdigit():
        return SubscribedType(name, int(version))
    return SubscribedType(text)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument("--account-sid", help="Account SID (default: $TWILIO_ACCOUNT_SID)")
    group.add_argument("--auth-token", help="Auth Token (default: $TWILIO_AUTH_TOKEN)")
    group.add_argument("--api-key", help="API key SID (default: $TWILIO_API_KEY)")
    group.add_argument("--api-secret", help="API key secret (default: $TWILIO_API_SECRET)")
    group.add_argument("--base-url", help="API origin, e.g. for a fake server")
    group.add_argument("--region", help="Twilio region (default: $TWILIO_REGION)")
    group.add_argument("--edge", help="Twilio edge location (default: $TWILIO_EDGE)")
    group.add_argument("--timeout", type=float, help="seconds to connect and per read")
    group.add_argument("--max-retries", type=int, default=2, help="retries per request")
    group.add_argument(
        "--fake", action="store_true", help="run against an in-process fake demo account"
    )
    common.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return common


def _add(
    group: Any, common: argparse.ArgumentParser, name: str, command: Command, help: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, parents=[common], help=help)
    parser.set_defaults(command=command)
    return parser


async def _deleted(deletion: Awaitable[None], what: str) -> dict[str, str]:
    await deletion
    return {"deleted": what}


def _resource_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    types = commands.add_parser("types", help="event types").add_subparsers(required=True)
    p = _add(
        types,
        common,
        "list",
        lambda c, a: c.event_types.list(schema_id=a.schema_id, limit=a.limit).collect(),
        "list event types",
    )
    p.add_argument("--schema-id")
    p.add_argument("--limit", type=int)
    p = _add(
        types, common, "fetch", lambda c, a: c.event_types.fetch(a.type), "fetch an event type"
    )
    p.add_argument("type")

    schemas = commands.add_parser("schemas", help="schemas and versions").add_subparsers(
        required=True
    )
    p = _add(schemas, common, "fetch", lambda c, a: c.schemas.fetch(a.id), "fetch a schema")
    p.add_argument("id")
    p = _add(
        schemas,
        common,
        "versions",
        lambda c, a: c.schemas.versions(a.id).list().collect(),
        "list a schema's versions",
    )
    p.add_argument("id")
    p = _add(
        schemas,
        common,
        "version",
        lambda c, a: c.schemas.versions(a.id).fetch(a.version),
        "fetch one version",
    )
    p.add_argument("id")
    p.add_argument("version", type=int)

    sinks = commands.add_parser("sinks", help="sinks").add_subparsers(required=True)
    p = _add(
        sinks,
        common,
        "list",
        lambda c, a: c.sinks.list(in_use=a.in_use, status=a.status, limit=a.limit).collect(),
        "list sinks",
    )
    p.add_argument("--status", choices=["initialized", "validating", "active", "failed"])
    p.add_argument("--in-use", dest="in_use", action="store_true", default=None)
    p.add_argument("--not-in-use", dest="in_use", action="store_false")
    p.add_argument("--limit", type=int)
    p = _add(sinks, common, "fetch", lambda c, a: c.sinks.fetch(a.sid), "fetch a sink")
    p.add_argument("sid")
    p = _add(
        sinks,
        common,
        "create",
        lambda c, a: c.sinks.create(
            description=a.description, sink_type=a.type, sink_configuration=a.configuration
        ),
        "create a sink",
    )
    p.add_argument("--description", required=True)
    p.add_argument("--type", required=True, help="kinesis, webhook, segment or email")
    p.add_argument("--configuration", required=True, type=_json_object, help="JSON object")
    p = _add(
        sinks,
        common,
        "update",
        lambda c, a: c.sinks.update(a.sid, description=a.description),
        "change a sink's description",
    )
    p.add_argument("sid")
    p.add_argument("--description", required=True)
    p = _add(
        sinks,
        common,
        "delete",
        lambda c, a: _deleted(c.sinks.delete(a.sid), a.sid),
        "delete a sink",
    )
    p.add_argument("sid")
    p = _add(sinks, common, "test", lambda c, a: c.sinks.test(a.sid), "send a test event to a sink")
    p.add_argument("sid")
    p = _add(
        sinks,
        common,
        "validate",
        lambda c, a: c.sinks.validate(a.sid, test_id=a.test_id),
        "validate a sink",
    )
    p.add_argument("sid")
    p.add_argument("--test-id", required=True)

    subs = commands.add_parser("subscriptions", help="subscriptions").add_subparsers(required=True)
    p = _add(
        subs,
        common,
        "list",
        lambda c, a: c.subscriptions.list(sink_sid=a.sink_sid, limit=a.limit).collect(),
        "list subscriptions",
    )
    p.add_argument("--sink-sid")
    p.add_argument("--limit", type=int)
    p = _add(
        subs, common, "fetch", lambda c, a: c.subscriptions.fetch(a.sid), "fetch a subscription"
    )
    p.add_argument("sid")
    p = _add(
        subs,
        common,
        "create",
        lambda c, a: c.subscriptions.create(
            description=a.description, sink_sid=a.sink_sid, types=a.types
        ),
        "create a subscription",
    )
    p.add_argument("--description", required=True)
    p.add_argument("--sink-sid", required=True)
    p.add_argument(
        "--type",
        dest="types",
        action="append",
        required=True,
        type=_subscribed_type,
        help="TYPE or TYPE:VERSION; repeat for more",
    )
    p = _add(
        subs,
        common,
        "update",
        lambda c, a: c.subscriptions.update(a.sid, description=a.description, sink_sid=a.sink_sid),
        "change a subscription",
    )
    p.add_argument("sid")
    p.add_argument("--description")
    p.add_argument("--sink-sid")
    p = _add(
        subs,
        common,
        "delete",
        lambda c, a: _deleted(c.subscriptions.delete(a.sid), a.sid),
        "delete a subscription",
    )
    p.add_argument("sid")

    events = commands.add_parser(
        "subscribed-events", help="event types of a subscription"
    ).add_subparsers(required=True)
    p = _add(
        events,
        common,
        "list",
        lambda c, a: c.subscriptions.subscribed_events(a.subscription).list().collect(),
        "list them",
    )
    p.add_argument("subscription")
    for name, help, command in (
        (
            "fetch",
            "fetch one",
            lambda c, a: c.subscriptions.subscribed_events(a.subscription).fetch(a.type),
        ),
        (
            "delete",
            "remove one",
            lambda c, a: _deleted(
                c.subscriptions.subscribed_events(a.subscription).delete(a.type), a.type
            ),
        ),
    ):
        p = _add(events, common, name, command, help)
        p.add_argument("subscription")
        p.add_argument("type")
    for name, help, command in (
        (
            "create",
            "add one",
            lambda c, a: c.subscriptions.subscribed_events(a.subscription).create(
                type=a.type, schema_version=a.schema_version
            ),
        ),
        (
            "update",
            "change its schema version",
            lambda c, a: c.subscriptions.subscribed_events(a.subscription).update(
                a.type, schema_version=a.schema_version
            ),
        ),
    ):
        p = _add(events, common, name, command, help)
        p.add_argument("subscription")
        p.add_argument("type")
        p.add_argument("--schema-version", type=int)


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per operation, plus audit and fake-server."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="events-async",
        description="Twilio Events API (Event Streams) from the command line.",
    )
    commands = parser.add_subparsers(dest="group", required=True)
    _resource_commands(commands, common)
    audit = commands.add_parser("audit", parents=[common], help="audit the account's set-up")
    audit.add_argument("--concurrency", type=int, default=10, help="reads in flight at once")
    audit.set_defaults(command=None)
    serve = commands.add_parser("fake-server", help="serve a fake Events API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--demo", action="store_true", help="seed the demo account")
    return parser


@contextlib.asynccontextmanager
async def _client(args: argparse.Namespace) -> AsyncIterator[EventsClient]:
    options: dict[str, Any] = {"timeout": args.timeout, "max_retries": args.max_retries}
    if not args.fake:
        async with EventsClient(
            args.account_sid,
            args.auth_token,
            api_key=args.api_key,
            api_secret=args.api_secret,
            base_url=args.base_url,
            region=args.region,
            edge=args.edge,
            **options,
        ) as client:
            yield client
        return
    from .testing import FakeEventsServer
    from .testing.demo import seed_demo_account

    async with FakeEventsServer() as fake:
        seed_demo_account(fake.account)
        async with fake.client(**options) as client:
            yield client


async def _audit(args: argparse.Namespace) -> int:
    bar = ProgressBar()
    async with _client(args) as client:
        try:
            report = await audit_account(client, concurrency=args.concurrency, progress=bar)
        finally:
            bar.finish()
    render(report.to_json() if args.json else report.summary(), as_json=args.json)
    if report.authentication_failed:
        print("events-async: error: authentication failed", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_FAILED if report.has_errors else EXIT_OK


async def _run(args: argparse.Namespace) -> int:
    if args.group == "fake-server":
        from .testing.__main__ import serve

        await serve(args.host, args.port, demo=args.demo)
        return EXIT_OK
    if args.group == "audit":
        return await _audit(args)
    async with _client(args) as client:
        result = await args.command(client, args)
    render(result, as_json=args.json)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130
    except (AuthenticationError, InvalidRequestError) as error:
        print(f"events-async: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except EventsError as error:
        print(f"events-async: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_FAILED
