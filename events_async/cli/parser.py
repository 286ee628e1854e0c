"""The argument parser, built from the command tables."""

from __future__ import annotations

import argparse
import re
from typing import Any

from .._version import __version__
from .audit import AUDIT
from .connection import CONNECTION_OPTIONS
from .consume import CONSUME
from .emit import EMIT
from .fake_server import FAKE_SERVER
from .listen import LISTEN
from .resources import GROUPS
from .spec import LIST_OPTIONS, Arg, Command, Group, OneLineParser

__all__ = ["ALL_GROUPS", "GLOBAL_OPTIONS", "build_parser", "name_flags"]

ALL_GROUPS: tuple[Group, ...] = (*GROUPS, AUDIT, LISTEN, CONSUME, FAKE_SERVER, EMIT)

GLOBAL_OPTIONS = (
    Arg(("-v", "--verbose"), "log requests and retry decisions to stderr (secrets masked)"),
    Arg(("--debug",), "print the traceback of an unexpected error"),
)


def _add(target: Any, arg: Arg) -> None:
    target.add_argument(*arg.flags, help=arg.help, **arg.options)


def _add_command(subparsers: Any, name: str, command: Command) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=command.help, description=command.help
    )
    for arg in command.args:
        _add(parser, arg)
    if command.lists:
        for arg in LIST_OPTIONS:
            _add(parser, arg)
    if command.connects:
        connection = parser.add_argument_group("connection and output")
        for arg in CONNECTION_OPTIONS:
            _add(connection, arg)
    for arg in GLOBAL_OPTIONS:  # also accepted after the command; the top level's default
        parser.add_argument(
            *arg.flags, help=arg.help, action="store_true", default=argparse.SUPPRESS
        )
    parser.set_defaults(handler=command.handler)


def build_parser() -> argparse.ArgumentParser:
    """`events-async`: a group per resource (a command per operation), audit, fake-server."""
    parser = OneLineParser(
        prog="events-async",
        description="Twilio Events API (Event Streams) from the command line.",
        epilog="Exit status: 0 success, 1 API, network or audit errors, 2 usage or sign-in.",
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
            _add_command(commands, command.name, command)
    return parser


def _flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's destination and its flag, across every subcommand."""
    flags: dict[str, str] = {}
    for action in parser._actions:  # argparse offers no public walk of its tree
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flags.update(_flags(sub))
        elif action.option_strings and "_" in action.dest:
            flags[action.dest] = action.option_strings[-1]
    return flags


def name_flags(message: str, parser: argparse.ArgumentParser) -> str:
    """A library message with its parameter names (`sink_sid`) turned into flags."""
    flags = _flags(parser)
    return re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", lambda m: flags.get(m[0], m[0]), message)
