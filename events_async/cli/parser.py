"""The argument parser, built from the command tables, and how its messages name flags.

A library error names the argument at fault (`InvalidRequestError.param`, as the call
spells it); each command maps those names to what its user typed. Most map by themselves:
an option's destination is the parameter it feeds (`--sink-sid` → `sink_sid`). The rest
are in `PARAM_FLAGS`, by command. A value the command took from the environment because
the flag was absent is named by its variable (`$TWILIO_REGION`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any

from .._version import __version__
from ..errors import InvalidRequestError
from .audit import AUDIT
from .connection import CONNECTION_OPTIONS, ENVIRONMENT
from .consume import CONSUME
from .desired import APPLY, EXPORT, PLAN
from .emit import EMIT
from .fake_server import FAKE_SERVER
from .listen import LISTEN
from .resources import GROUPS
from .spec import LIST_OPTIONS, Arg, Command, Group, OneLineParser, OneOf, each_arg

__all__ = ["ALL_GROUPS", "EXIT_STATUSES", "GLOBAL_OPTIONS", "PARAM_FLAGS", "build_parser", "named"]

ALL_GROUPS: tuple[Group, ...] = (
    *GROUPS,
    AUDIT,
    PLAN,
    APPLY,
    EXPORT,
    LISTEN,
    CONSUME,
    FAKE_SERVER,
    EMIT,
)

GLOBAL_OPTIONS = (
    Arg(("-v", "--verbose"), "log requests and retry decisions to stderr (secrets masked)"),
    Arg(("--debug",), "print the traceback of an unexpected error"),
)

# Library parameters a command's flag or positional names differently, by command
# ("group action", or a group for all its commands): parameter -> what the user types.
PARAM_FLAGS: Mapping[str, Mapping[str, str]] = {
    "schemas version": {"schema_version": "version"},
    "sinks create": {"sink_type": "--type", "sink_configuration": "--configuration"},
    "subscriptions create": {"types": "--type"},  # a VERSION in TYPE:VERSION too
    "subscribed-events": {"subscription_sid": "subscription"},
    "listen": {"auth_tokens": "--auth-token"},
}

EXIT_STATUSES = (
    "Exit status: 0 success, 1 API, network or audit errors (or an account plan or apply "
    "could not do), 2 usage or sign-in (plan --detailed-exitcode: changes), "
    "74 the output could not be written (a full disk), 130 interrupted, 141 stdout closed."
)


def _param_names(path: str, args: tuple[Arg, ...]) -> dict[str, tuple[str, str]]:
    """Each parameter the command's arguments feed: (its destination, how it is shown)."""
    names = {arg.dest: (arg.dest, arg.shown) for arg in reversed(args)}  # the first wins
    by_shown = {arg.shown: arg.dest for arg in args}
    group = path.split(" ")[0]
    for param, shown in {**PARAM_FLAGS.get(group, {}), **PARAM_FLAGS.get(path, {})}.items():
        if shown not in by_shown:
            raise LookupError(f"PARAM_FLAGS: {path} has no {shown}")
        names[param] = (by_shown[shown], shown)
    return names


def named(error: InvalidRequestError, args: argparse.Namespace) -> str:
    """The error's message with its parameter named as the user gave it: the flag
    (`--region must be one DNS label …`), or the environment variable the value came from
    when the flag was absent; the library's message when no argument of the command
    feeds that parameter."""
    names: dict[str, tuple[str, str]] = getattr(args, "param_names", {})
    if error.param not in names:
        return str(error)
    dest, shown = names[error.param]
    variable = ENVIRONMENT.get(dest)
    if variable and getattr(args, dest, None) is None and os.environ.get(variable):
        shown = f"${variable}"
    if error.detail == str(error):  # a message without a detail of its own: quote it whole
        return f"{shown}: {error}"
    return f"{shown} {error.detail}"


def _add(target: Any, arg: Arg) -> None:
    target.add_argument(*arg.flags, help=arg.help, **arg.options)


def _add_command(subparsers: Any, path: str, command: Command) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        path.split(" ")[-1], help=command.help, description=command.help
    )
    for item in command.args:
        if isinstance(item, OneOf):
            exclusive = parser.add_mutually_exclusive_group()
            for arg in item.args:
                _add(exclusive, arg)
        else:
            _add(parser, item)
    args = each_arg(command.args)
    if command.lists:
        for arg in LIST_OPTIONS:
            _add(parser, arg)
        args += LIST_OPTIONS
    if command.connects:
        connection = parser.add_argument_group("connection and output")
        for arg in CONNECTION_OPTIONS:
            _add(connection, arg)
        args += CONNECTION_OPTIONS
    for arg in GLOBAL_OPTIONS:  # also accepted after the command; the top level's default
        parser.add_argument(
            *arg.flags, help=arg.help, action="store_true", default=argparse.SUPPRESS
        )
    parser.set_defaults(handler=command.handler, param_names=_param_names(path, args))


def build_parser() -> argparse.ArgumentParser:
    """`events-async`: a group per resource (a command per operation), audit, fake-server."""
    parser = OneLineParser(
        prog="events-async",
        description="Twilio Events API (Event Streams) from the command line.",
        epilog=EXIT_STATUSES,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    for arg in GLOBAL_OPTIONS:
        parser.add_argument(*arg.flags, help=arg.help, action="store_true")
    groups = parser.add_subparsers(
        dest="group",
        required=True,
        metavar="COMMAND",
        parser_class=OneLineParser,
        help="what to work with",
    )
    for group in ALL_GROUPS:
        if len(group.commands) == 1 and not group.commands[0].name:
            _add_command(groups, group.name, group.commands[0])
            continue
        commands = groups.add_parser(
            group.name, help=group.help, description=group.help
        ).add_subparsers(
            dest="action",
            required=True,
            metavar="ACTION",
            parser_class=OneLineParser,
            help="what to do",
        )
        for command in group.commands:
            _add_command(commands, f"{group.name} {command.name}", command)
    return parser
