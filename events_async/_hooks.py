"""The converter's hooks for plain values: strings, integers and booleans read strictly,
lenient enums, date-times made aware, link maps read leniently; and the predicates that
say which types get which hook."""

from __future__ import annotations

import enum
import sys
import types
import typing
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import attrs

__all__ = [
    "ISO_ACCEPTS_Z",
    "PLAIN_HOOKS",
    "is_lenient_enum",
    "is_response_model",
    "lenient_enum_hook",
    "nullable_inner",
    "parse_datetime",
    "required_hook",
    "structure_any_dict",
    "structure_str_dict",
    "union_args",
]


_fromisoformat = datetime.fromisoformat
ISO_ACCEPTS_Z = sys.version_info >= (3, 11)


def parse_datetime(value: str) -> datetime:
    """An aware datetime from ISO 8601 (a trailing `Z` included) or RFC 2822 text."""
    if not ISO_ACCEPTS_Z and value.endswith("Z"):  # Python 3.10's fromisoformat rejects "Z"
        value = value[:-1] + "+00:00"
    try:
        parsed = _fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise ValueError(f"not a date-time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is str:
        return parse_datetime(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    raise TypeError(f"expected a date-time string, got {type(value).__name__}")


def union_args(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return ()


def enums_in(tp: Any) -> list[type[enum.Enum]]:
    return [a for a in union_args(tp) if isinstance(a, type) and issubclass(a, enum.Enum)]


def is_lenient_enum(tp: Any) -> bool:
    """`SomeEnum | str` (optionally `| None`): an enum that tolerates new values."""
    return len(enums_in(tp)) == 1 and str in union_args(tp)


def members_by_value(tp: Any) -> dict[Any, Any]:
    """The members of a lenient enum type's enum, by value."""
    return {m.value: m for m in enums_in(tp)[0]}


def lenient_enum_hook(tp: Any) -> Callable[[Any, Any], Any]:
    enum_cls = enums_in(tp)[0]
    members = members_by_value(tp)
    nullable = type(None) in union_args(tp)

    def structure_enum_or_str(value: Any, _: Any) -> Any:
        member = members.get(value)
        if member is not None:
            return member
        if isinstance(value, str) or (value is None and nullable):
            return value
        raise TypeError(f"expected a string for {enum_cls.__name__}, got {type(value).__name__}")

    return structure_enum_or_str


def exactly(kind: type, what: str) -> Callable[[Any, Any], Any]:
    """A hook accepting values of exactly `kind` (so no bool for int, no int for str)."""

    def structure_exactly(value: Any, _: Any) -> Any:
        if value.__class__ is kind:
            return value
        raise TypeError(f"expected {what}, got {type(value).__name__}")

    return structure_exactly


def structure_any_dict(value: Any, _: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def structure_str_dict(value: Any, _: Any) -> dict[str, str] | None:
    """A link map, read leniently (the spec types `links` as a free object): values that
    are not strings are dropped, and a `links` that is not an object reads as None."""
    if type(value) is not dict:
        return None
    for item in value.values():
        if type(item) is not str:
            return {k: v for k, v in value.items() if type(v) is str}
    return value


PLAIN_HOOKS: dict[Any, Callable[[Any, Any], Any]] = {
    str: exactly(str, "a string"),
    int: exactly(int, "an integer"),
    bool: exactly(bool, "a boolean"),
    datetime: structure_datetime,
    dict[str, str]: structure_str_dict,
    dict[str, Any]: structure_any_dict,
}


def nullable_inner(tp: Any) -> Any:
    args = union_args(tp)
    if len(args) == 2 and type(None) in args:
        inner = args[0] if args[1] is type(None) else args[1]
        if inner in PLAIN_HOOKS:
            return inner
    return None


def is_response_model(cls: Any) -> bool:
    """An attrs class whose fields are optional (default None) or required plain values."""
    return attrs.has(cls) and all(
        f.default is None or (f.default is attrs.NOTHING and f.type in REQUIRED_KINDS)
        for f in attrs.fields(cls)
    )


REQUIRED_KINDS = (str, int, "str", "int")


def required_hook(kind: type, name: str) -> Callable[[Any, Any], Any]:
    """Raises for a required field that is missing or of the wrong kind."""
    check = PLAIN_HOOKS[kind]

    def structure_required(value: Any, _: Any) -> Any:
        if value is None:
            raise TypeError(f"the required field {name!r} is missing")
        return check(value, None)

    return structure_required
