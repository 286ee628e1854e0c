"""The command line as data: groups of commands, each with its options and its handler.

The parser is built from these tables (`parser.py`); command modules only declare.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

import attrs

__all__ = [
    "HOST_OPTION",
    "LIST_OPTIONS",
    "PORT",
    "PORT_OPTION",
    "POSITIVE",
    "Arg",
    "Command",
    "Group",
    "Handler",
    "OneLineParser",
    "OneOf",
    "UsageError",
    "each_arg",
]

Handler = Callable[[argparse.Namespace], Awaitable[int]]


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


class UsageError(Exception):
    """The command line asks for something impossible: exit status 2, one line."""


@attrs.frozen
class Arg:
    """One argument: its flags (or positional name), help text and `add_argument` options."""

    flags: tuple[str, ...]
    help: str
    options: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def dest(self) -> str:
        """Where argparse stores the value: `dest`, else the first long flag (`--sink-sid`
        → `sink_sid`), or a positional's name."""
        if "dest" in self.options:
            dest: str = self.options["dest"]
            return dest
        long = [flag for flag in self.flags if flag.startswith("--")]
        return (long or list(self.flags))[0].lstrip("-").replace("-", "_")

    @property
    def shown(self) -> str:
        """How messages name it: its long flag (`--sink-sid`), or a positional as the
        usage line shows it (`sid`)."""
        if self.flags[0].startswith("-"):
            return self.flags[-1]
        shown: str = self.options.get("metavar", self.flags[0])
        return shown


@attrs.frozen
class OneOf:
    """Options a command takes at most one of: argparse refuses two (exit status 2)."""

    args: tuple[Arg, ...]


def each_arg(args: tuple[Arg | OneOf, ...]) -> tuple[Arg, ...]:
    """Every `Arg` of a command, those of its `OneOf`s included, in order."""
    return tuple(a for item in args for a in (item.args if isinstance(item, OneOf) else (item,)))


@attrs.frozen
class Command:
    """One subcommand: `events-async GROUP NAME ARGS`."""

    name: str
    help: str
    handler: Handler
    args: tuple[Arg | OneOf, ...] = ()
    connects: bool = True  # takes the connection and output options
    lists: bool = False  # takes --page-size and --limit


@attrs.frozen
class Group:
    """A command group (`sinks`), or a command of its own when it has one unnamed command."""

    name: str
    help: str
    commands: tuple[Command, ...]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {value}")
    return value


POSITIVE = _positive
PORT = _port

HOST_OPTION = Arg(
    ("--host",), "address to listen on (default: 127.0.0.1)", {"default": "127.0.0.1"}
)
PORT_OPTION = Arg(
    ("--port",),
    "port to listen on, 0 for any free one (default: 8080)",
    {"type": _port, "default": 8080},
)

LIST_OPTIONS = (
    Arg(
        ("--page-size",),
        "items per page asked of the API (1-1000)",
        {"type": _positive, "metavar": "N"},
    ),
    Arg(("--limit",), "stop after N items", {"type": _positive, "metavar": "N"}),
)
