"""The one cattrs converter between JSON values and the models, and its hooks.

Responses are read leniently: unknown fields are ignored, unknown enum values are kept as
plain strings, and date-times become timezone-aware. A value of the wrong shape raises
`ResponseDecodeError`, never a bare `TypeError`/`KeyError`.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import cattrs

from .errors import ResponseDecodeError

T = TypeVar("T")

__all__ = ["converter", "parse_datetime", "structure", "structure_list", "unstructure"]


def parse_datetime(value: str) -> datetime:
    """An aware datetime from ISO 8601 (a trailing `Z` included) or RFC 2822 text."""
    if value.endswith("Z"):  # Python 3.10's fromisoformat rejects "Z"
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise ValueError(f"not a date-time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        raise TypeError(f"expected a date-time string, got {type(value).__name__}")
    return parse_datetime(value)


def _union_args(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return ()


def _is_lenient_enum(tp: Any) -> bool:
    """`SomeEnum | str` (optionally `| None`): an enum that tolerates new values."""
    args = _union_args(tp)
    enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.Enum)]
    return len(enums) == 1 and str in args


def _lenient_enum_hook(tp: Any) -> Callable[[Any, Any], Any]:
    enum_cls = next(a for a in _union_args(tp) if isinstance(a, type) and issubclass(a, enum.Enum))
    members: dict[Any, Any] = {m.value: m for m in enum_cls}
    nullable = type(None) in _union_args(tp)

    def structure_enum_or_str(value: Any, _: Any) -> Any:
        member = members.get(value)
        if member is not None:
            return member
        if isinstance(value, str) or (value is None and nullable):
            return value
        raise TypeError(f"expected a string for {enum_cls.__name__}, got {type(value).__name__}")

    return structure_enum_or_str


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _structure_bool(value: Any, _: Any) -> bool:
    if type(value) is bool:
        return value
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


def _structure_any_dict(value: Any, _: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=False)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook_factory(_is_lenient_enum, _lenient_enum_hook)
    conv.register_structure_hook_func(lambda tp: tp == dict[str, Any], _structure_any_dict)
    return conv


converter = _make_converter()


def structure(data: Any, cls: type[T]) -> T:
    """Build a model from decoded JSON, raising `ResponseDecodeError` on a bad shape."""
    if not isinstance(data, dict):
        raise ResponseDecodeError(f"expected a {cls.__name__} object, got {type(data).__name__}")
    try:
        return converter.structure(data, cls)
    except Exception as exc:  # cattrs raises many types; the caller needs exactly one
        raise ResponseDecodeError(f"cannot read {cls.__name__} from the response: {exc}") from exc


def structure_list(items: Any, cls: type[T]) -> list[T]:
    """Build a list of models from a decoded JSON array."""
    if not isinstance(items, list):
        raise ResponseDecodeError(f"expected a list of {cls.__name__}, got {type(items).__name__}")
    hook = converter.get_structure_hook(cls)
    try:
        models = [hook(item, cls) for item in items if type(item) is dict]
    except Exception as exc:
        raise ResponseDecodeError(f"cannot read {cls.__name__} from the response: {exc}") from exc
    if len(models) != len(items):
        raise ResponseDecodeError(f"expected a list of {cls.__name__} objects")
    return models


def unstructure(value: Any) -> Any:
    """Plain JSON-ready values from a model (None fields dropped) or anything else."""
    if isinstance(value, type) or not hasattr(type(value), "__attrs_attrs__"):
        return value
    return {k: v for k, v in converter.unstructure(value).items() if v is not None}
