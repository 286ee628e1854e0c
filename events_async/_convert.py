"""The one cattrs converter between JSON values and the models, and its hooks.

Responses are read leniently: unknown fields are ignored, unknown enum values are kept as
plain strings, and date-times become timezone-aware. A value of the wrong shape raises
`ResponseDecodeError`, never a bare `TypeError`/`KeyError`.
"""

from __future__ import annotations

import enum
import sys
import types
import typing
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import attrs
import cattrs

from .errors import ResponseDecodeError
from .models import (
    KinesisSinkConfiguration,
    SegmentSinkConfiguration,
    SinkType,
    WebhookSinkConfiguration,
)

T = TypeVar("T")

__all__ = [
    "converter",
    "parse_datetime",
    "structure",
    "structure_hook",
    "structure_list",
    "typed_sink_configuration",
    "unstructure",
]


_fromisoformat = datetime.fromisoformat
_ISO_ACCEPTS_Z = sys.version_info >= (3, 11)


def parse_datetime(value: str) -> datetime:
    """An aware datetime from ISO 8601 (a trailing `Z` included) or RFC 2822 text."""
    if not _ISO_ACCEPTS_Z and value.endswith("Z"):  # Python 3.10's fromisoformat rejects "Z"
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


def _structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is str:
        return parse_datetime(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    raise TypeError(f"expected a date-time string, got {type(value).__name__}")


def _union_args(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return ()


def _enums_in(tp: Any) -> list[type[enum.Enum]]:
    return [a for a in _union_args(tp) if isinstance(a, type) and issubclass(a, enum.Enum)]


def _is_lenient_enum(tp: Any) -> bool:
    """`SomeEnum | str` (optionally `| None`): an enum that tolerates new values."""
    return len(_enums_in(tp)) == 1 and str in _union_args(tp)


def _members_by_value(tp: Any) -> dict[Any, Any]:
    """The members of a lenient enum type's enum, by value."""
    return {m.value: m for m in _enums_in(tp)[0]}


def _lenient_enum_hook(tp: Any) -> Callable[[Any, Any], Any]:
    enum_cls = _enums_in(tp)[0]
    members = _members_by_value(tp)
    nullable = type(None) in _union_args(tp)

    def structure_enum_or_str(value: Any, _: Any) -> Any:
        member = members.get(value)
        if member is not None:
            return member
        if isinstance(value, str) or (value is None and nullable):
            return value
        raise TypeError(f"expected a string for {enum_cls.__name__}, got {type(value).__name__}")

    return structure_enum_or_str


def _exactly(kind: type, what: str) -> Callable[[Any, Any], Any]:
    """A hook accepting values of exactly `kind` (so no bool for int, no int for str)."""

    def structure_exactly(value: Any, _: Any) -> Any:
        if value.__class__ is kind:
            return value
        raise TypeError(f"expected {what}, got {type(value).__name__}")

    return structure_exactly


def _structure_any_dict(value: Any, _: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def _structure_str_dict(value: Any, _: Any) -> dict[str, str] | None:
    """A link map, read leniently (the spec types `links` as a free object): values that
    are not strings are dropped, and a `links` that is not an object reads as None."""
    if type(value) is not dict:
        return None
    for item in value.values():
        if type(item) is not str:
            return {k: v for k, v in value.items() if type(v) is str}
    return value


_PLAIN_HOOKS: dict[Any, Callable[[Any, Any], Any]] = {
    str: _exactly(str, "a string"),
    int: _exactly(int, "an integer"),
    bool: _exactly(bool, "a boolean"),
    datetime: _structure_datetime,
    dict[str, str]: _structure_str_dict,
    dict[str, Any]: _structure_any_dict,
}


def _nullable_inner(tp: Any) -> Any:
    args = _union_args(tp)
    if len(args) == 2 and type(None) in args:
        inner = args[0] if args[1] is type(None) else args[1]
        if inner in _PLAIN_HOOKS:
            return inner
    return None


def _is_response_model(cls: Any) -> bool:
    """An attrs class whose fields are optional (default None) or required plain values."""
    return attrs.has(cls) and all(
        f.default is None or (f.default is attrs.NOTHING and f.type in _REQUIRED_KINDS)
        for f in attrs.fields(cls)
    )


_REQUIRED_KINDS = (str, int, "str", "int")


def _required_hook(kind: type, name: str) -> Callable[[Any, Any], Any]:
    """Raises for a required field that is missing or of the wrong kind."""
    check = _PLAIN_HOOKS[kind]

    def structure_required(value: Any, _: Any) -> Any:
        if value is None:
            raise TypeError(f"the required field {name!r} is missing")
        return check(value, None)

    return structure_required


def _field_lines(name: str, tp: Any, namespace: dict[str, Any], conv: cattrs.Converter) -> str:
    """Code that reads field `name` from `get` into the local `f_<name>`, checked.

    Kinds are compared with `kind_of(x) is ...` (`kind_of` is the builtin `type`, which
    the interpreter calls without a frame) rather than `x.__class__`, an attribute
    lookup each time."""
    local = f"f_{name}"
    read = f"    {local} = get({name!r})\n"
    if tp is Any:  # any JSON value, as decoded (a CloudEvent's data)
        return read
    inner = _nullable_inner(tp)
    if tp in (str, int) or inner in (str, int, bool):  # inline; the hook only to raise
        required = inner is None  # a required field: present and of exactly this kind
        kind = tp if required else inner
        namespace[f"type_{name}"] = kind
        namespace[f"hook_{name}"] = _required_hook(kind, name) if required else _PLAIN_HOOKS[kind]
        present = "" if required else f"{local} is not None and "
        return (
            f"{read}    if {present}kind_of({local}) is not type_{name}:\n"
            f"        hook_{name}({local}, None)\n"
        )
    if inner is datetime and _ISO_ACCEPTS_Z:
        # The common case inline: an ISO 8601 string (Twilio's `...Z`), parsed by
        # fromisoformat without the two calls of the hook; anything else (RFC 2822, a
        # datetime, a wrong kind) goes to the hook, which parses or raises as before.
        namespace[f"hook_{name}"] = _PLAIN_HOOKS[datetime]
        namespace.setdefault("fromisoformat", _fromisoformat)
        namespace.setdefault("utc", timezone.utc)
        return (
            f"{read}    if kind_of({local}) is str:\n"
            f"        try:\n"
            f"            {local} = fromisoformat({local})\n"
            f"        except ValueError:\n"
            f"            {local} = hook_{name}({local}, None)\n"
            f"        else:\n"
            f"            if {local}.tzinfo is None:\n"
            f"                {local} = {local}.replace(tzinfo=utc)\n"
            f"    elif {local} is not None:\n"
            f"        {local} = hook_{name}({local}, None)\n"
        )
    if inner == dict[str, Any]:  # a plain dict as is; anything else to the hook
        namespace[f"hook_{name}"] = _PLAIN_HOOKS[inner]
        return (
            f"{read}    if {local} is not None and kind_of({local}) is not dict:\n"
            f"        {local} = hook_{name}({local}, None)\n"
        )
    if inner == dict[str, str]:  # as `_structure_str_dict`, its common case inline
        namespace[f"hook_{name}"] = _PLAIN_HOOKS[inner]
        return (
            f"{read}    if kind_of({local}) is dict:\n"
            f"        for value in {local}.values():\n"
            f"            if kind_of(value) is not str:\n"
            f"                {local} = hook_{name}({local}, None)\n"
            f"                break\n"
            f"    else:\n"
            f"        {local} = None\n"
        )
    if inner is not None:
        namespace[f"hook_{name}"] = _PLAIN_HOOKS[inner]
        return f"{read}    if {local} is not None:\n        {local} = hook_{name}({local}, None)\n"
    namespace[f"hook_{name}"] = conv.get_structure_hook(tp)
    if _is_lenient_enum(tp):
        enum_cls = next(
            a for a in _union_args(tp) if isinstance(a, type) and issubclass(a, enum.Enum)
        )
        namespace[f"members_{name}"] = {m.value: m for m in enum_cls}
        return f"{read}    {local} = members_{name}.get({local}) or hook_{name}({local}, None)\n"
    return f"{read}    {local} = hook_{name}({local}, None)\n"


def _plain_slots(cls: Any) -> bool:
    """True when `cls.__init__` does nothing but assign its slots."""
    return (
        "__slots__" in cls.__dict__
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(
            f.validator is None
            and f.converter is None
            and f.on_setattr is None
            and f.init
            and isinstance(cls.__dict__.get(f.name), types.MemberDescriptorType)
            for f in attrs.fields(cls)
        )
    )


def _builder_class(cls: Any) -> type | None:
    """A private subclass of the frozen slotted `cls`, with no slots of its own and plain
    attribute assignment, so an instance is filled by plain stores to the slots `cls`
    declares, then becomes a `cls` by `__class__` assignment (same layout: allowed).

    A frozen class's `__setattr__` refuses, so its `__init__` calls `object.__setattr__`
    once per field, as the slot descriptors' own `__set__` would: each a call through a
    C wrapper with an argument tuple (~650 instructions on CPython 3.11), where a plain
    store to a slot is a few dozen. None where this cannot be done: the class refuses the
    assignment, or a free-threaded build (where `__class__` assignment stops the world)."""
    gil_enabled = getattr(sys, "_is_gil_enabled", None)
    if gil_enabled is not None and not gil_enabled():
        return None
    builder = type(
        f"_{cls.__name__}Builder",
        (cls,),
        {
            "__slots__": (),
            "__setattr__": object.__setattr__,  # both: the type's own setter is then
            "__delattr__": object.__delattr__,  # the generic one, which stores directly
            "__module__": __name__,
            "__qualname__": f"_{cls.__name__}Builder",
        },
    )
    try:
        probe: Any = object.__new__(builder)
        probe.__class__ = cls
    except TypeError:
        return None
    return builder


def _response_model_hook(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    """Response models (fields optional or required plain values) get a generated function:
    each field read with `dict.get` and checked inline, then the instance built with no
    call per field. Models are built once per item of every page, so this is the
    library's hottest code."""

    def factory(cls: Any) -> Callable[[Any, Any], Any]:
        attrs.resolve_types(cls)
        fields = attrs.fields(cls)
        namespace: dict[str, Any] = {"model": cls, "new": object.__new__, "kind_of": type}
        body = "".join(_field_lines(f.name, f.type, namespace, conv) for f in fields)
        builder = _builder_class(cls) if _plain_slots(cls) else None
        if builder is not None:
            namespace["builder"] = builder
            build = "".join(f"    instance.{f.name} = f_{f.name}\n" for f in fields)
            build = (
                f"    instance = new(builder)\n{build}"
                f"    instance.__class__ = model\n    return instance\n"
            )
        elif _plain_slots(cls):
            # attrs' frozen __init__ would only assign each slot; its bound-setattr calls
            # cost more than the slot descriptors' own setters, so call those directly.
            for f in fields:
                namespace[f"set_{f.name}"] = cls.__dict__[f.name].__set__
            build = "".join(f"    set_{f.name}(instance, f_{f.name})\n" for f in fields)
            build = f"    instance = new(model)\n{build}    return instance\n"
        else:
            build = f"    return model({', '.join(f'f_{f.name}' for f in fields)})\n"
        source = f"def structure_{cls.__name__}(data, _):\n    get = data.get\n{body}{build}"
        exec(compile(source, f"<events_async structure {cls.__name__}>", "exec"), namespace)
        function: Callable[[Any, Any], Any] = namespace[f"structure_{cls.__name__}"]
        return function

    return factory


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=False)
    for kind in (str, int, bool, datetime):
        conv.register_structure_hook(kind, _PLAIN_HOOKS[kind])
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook_factory(_is_lenient_enum, _lenient_enum_hook)
    conv.register_structure_hook_func(lambda tp: tp == dict[str, Any], _structure_any_dict)
    conv.register_structure_hook_func(lambda tp: tp == dict[str, str], _structure_str_dict)
    conv.register_structure_hook_factory(_is_response_model, _response_model_hook(conv))
    return conv


converter = _make_converter()
_hooks: dict[type, Callable[[Any, Any], Any]] = {}  # per model class, skipping cattrs' dispatch


def structure_hook(cls: type[T]) -> Callable[[Any, Any], T]:
    """The converter's hook for `cls`, looked up once: `hook(data, cls)` builds a model
    or raises whatever cattrs raises (the caller says what went wrong where)."""
    return _hooks.get(cls) or _hooks.setdefault(cls, converter.get_structure_hook(cls))


def structure(data: Any, cls: type[T]) -> T:
    """Build a model from decoded JSON, raising `ResponseDecodeError` on a bad shape."""
    if not isinstance(data, dict):
        raise ResponseDecodeError(f"expected a {cls.__name__} object, got {type(data).__name__}")
    hook = structure_hook(cls)
    try:
        return hook(data, cls)
    except Exception as exc:  # cattrs raises many types; the caller needs exactly one
        raise ResponseDecodeError(f"cannot read {cls.__name__} from the response: {exc}") from exc


def structure_list(items: Any, cls: type[T]) -> list[T]:
    """Build a list of models from a decoded JSON array."""
    if not isinstance(items, list):
        raise ResponseDecodeError(f"expected a list of {cls.__name__}, got {type(items).__name__}")
    hook = _hooks.get(cls) or _hooks.setdefault(cls, converter.get_structure_hook(cls))
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


_TYPED_SINK_CONFIGURATIONS: dict[SinkType, type[Any]] = {
    SinkType.KINESIS: KinesisSinkConfiguration,
    SinkType.WEBHOOK: WebhookSinkConfiguration,
    SinkType.SEGMENT: SegmentSinkConfiguration,
}


def typed_sink_configuration(
    sink_type: object, raw: object
) -> KinesisSinkConfiguration | WebhookSinkConfiguration | SegmentSinkConfiguration | None:
    """A sink's configuration as the typed class of its `sink_type`, read leniently:
    keys the class lacks are left out (the raw mapping keeps them), missing optional
    fields take the class's defaults. None for a type without a typed class (email, or
    one newer than this library), or a configuration that lacks a field the class needs
    or holds one of another kind."""
    cls = _TYPED_SINK_CONFIGURATIONS.get(sink_type) if isinstance(sink_type, SinkType) else None
    if cls is None or not isinstance(raw, dict):
        return None
    try:
        typed: KinesisSinkConfiguration | WebhookSinkConfiguration | SegmentSinkConfiguration = (
            converter.structure(raw, cls)
        )
    except Exception:  # cattrs raises many types; each means "not this class"
        return None
    return typed
