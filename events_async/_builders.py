"""Generated builders for the response models: one function per model class, and one per
list of them, compiled once. Models are built once per item of every page, so this is the
library's hottest code; `_convert` registers `response_model_hook` with the converter."""

from __future__ import annotations

import enum
import operator
import sys
import textwrap
import types
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs
import cattrs

from ._hooks import (
    ISO_ACCEPTS_Z,
    PLAIN_HOOKS,
    is_lenient_enum,
    nullable_inner,
    required_hook,
    union_args,
)

__all__ = ["LIST_BUILDERS", "builder_class", "response_model_hook"]


def field_lines(name: str, tp: Any, namespace: dict[str, Any], conv: cattrs.Converter) -> str:
    """Code that checks (and converts) field `name`, already read into the local `f_<name>`.

    Kinds are compared with `kind_of(x) is ...` (`kind_of` is the builtin `type`, which
    the interpreter calls without a frame) rather than `x.__class__`, an attribute
    lookup each time."""
    local = f"f_{name}"
    read = ""  # every field is read at once, before these lines
    if tp is Any:  # any JSON value, as decoded (a CloudEvent's data)
        return read
    inner = nullable_inner(tp)
    if tp in (str, int) or inner in (str, int, bool):  # inline; the hook only to raise
        required = inner is None  # a required field: present and of exactly this kind
        kind = tp if required else inner
        namespace[f"type_{name}"] = kind
        namespace[f"hook_{name}"] = required_hook(kind, name) if required else PLAIN_HOOKS[kind]
        present = "" if required else f"{local} is not None and "
        return (
            f"{read}    if {present}kind_of({local}) is not type_{name}:\n"
            f"        hook_{name}({local}, None)\n"
        )
    if inner is datetime and ISO_ACCEPTS_Z:
        # The common case inline: an ISO 8601 string (Twilio's `...Z`), parsed by
        # fromisoformat without the two calls of the hook; anything else (RFC 2822, a
        # datetime, a wrong kind) goes to the hook, which parses or raises as before.
        namespace[f"hook_{name}"] = PLAIN_HOOKS[datetime]
        namespace.setdefault("fromisoformat", datetime.fromisoformat)
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
        namespace[f"hook_{name}"] = PLAIN_HOOKS[inner]
        return (
            f"{read}    if {local} is not None and kind_of({local}) is not dict:\n"
            f"        {local} = hook_{name}({local}, None)\n"
        )
    if inner == dict[str, str]:  # as `structure_str_dict`, its common case inline
        namespace[f"hook_{name}"] = PLAIN_HOOKS[inner]
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
        namespace[f"hook_{name}"] = PLAIN_HOOKS[inner]
        return f"{read}    if {local} is not None:\n        {local} = hook_{name}({local}, None)\n"
    namespace[f"hook_{name}"] = conv.get_structure_hook(tp)
    if is_lenient_enum(tp):
        enum_cls = next(
            a for a in union_args(tp) if isinstance(a, type) and issubclass(a, enum.Enum)
        )
        namespace[f"members_{name}"] = {m.value: m for m in enum_cls}
        return f"{read}    {local} = members_{name}.get({local}) or hook_{name}({local}, None)\n"
    return f"{read}    {local} = hook_{name}({local}, None)\n"


def plain_slots(cls: Any) -> bool:
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


def builder_class(cls: Any) -> type | None:
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
    except Exception:  # TypeError, or an audit hook refusing `object.__setattr__`
        return None
    return builder


def response_model_hook(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    """Response models (fields optional or required plain values) get a generated function:
    each field read with `dict.get` and checked inline, then the instance built with no
    call per field. Models are built once per item of every page, so this is the
    library's hottest code."""

    def factory(cls: Any) -> Callable[[Any, Any], Any]:
        attrs.resolve_types(cls)
        fields = attrs.fields(cls)
        names = tuple(f.name for f in fields)
        namespace: dict[str, Any] = {"model": cls, "new": object.__new__, "kind_of": type}
        body = "".join(field_lines(f.name, f.type, namespace, conv) for f in fields)
        builder = builder_class(cls) if plain_slots(cls) else None
        if builder is not None:
            namespace["builder"] = builder
            build = "".join(f"    instance.{name} = f_{name}\n" for name in names)
            # An audit hook sees each `__class__` assignment (`object.__setattr__`) and
            # may refuse it: then the class's own __init__ builds the instance, as before.
            args = ", ".join(f"f_{name}" for name in names)
            build = (
                f"    instance = new(builder)\n{build}"
                f"    try:\n        instance.__class__ = model\n"
                f"    except Exception:\n        instance = model({args})\n"
            )
        elif plain_slots(cls):
            # attrs' frozen __init__ would only assign each slot; its bound-setattr calls
            # cost more than the slot descriptors' own setters, so call those directly.
            for name in names:
                namespace[f"set_{name}"] = cls.__dict__[name].__set__
            build = "".join(f"    set_{name}(instance, f_{name})\n" for name in names)
            build = f"    instance = new(model)\n{build}"
        else:
            build = f"    instance = model({', '.join(f'f_{name}' for name in names)})\n"
        # Every field read in one C call: a Twilio response holds them all (null when
        # unset). A dict lacking one (KeyError), or not exactly a dict, is read by `get`.
        namespace["NAMES"] = names
        namespace["itemgetter"] = operator.itemgetter
        namespace["getter"] = operator.itemgetter(*names) if len(names) > 1 else None
        locals_ = ", ".join(f"f_{name}" for name in names) + ","
        read = (
            f"    try:\n"
            f"        {locals_} = getter(data) if kind_of(data) is dict else read_all(data)\n"
            f"    except KeyError:\n"
            f"        {locals_} = read_all(data)\n"
            if len(names) > 1
            else f"    {locals_} = read_all(data)\n"
        )
        one = f"{read}{body}{build}"
        # A page's getter looks its keys up by the first item's own key objects: orjson
        # hands every item of a page the same (cached) ones, so each lookup is matched by
        # identity, not by comparing the text (orjson's dicts take the general lookup).
        source = (
            f"def read_all(data):\n    return tuple(map(data.get, NAMES))\n\n"
            f"def page_getter(items):\n"
            f"    if getter is not None and items and kind_of(items[0]) is dict:\n"
            f"        own = {{key: key for key in items[0]}}\n"
            f"        return itemgetter(*[own.get(name, name) for name in NAMES])\n"
            f"    return getter\n\n"
            f"def structure_{cls.__name__}(data, _):\n{one}    return instance\n\n"
            f"def structure_list_{cls.__name__}(items):\n"
            f"    getter = page_getter(items)\n"
            f"    models = []\n    append = models.append\n    for data in items:\n"
            f"        if kind_of(data) is not dict:\n            continue\n"
            f"{textwrap.indent(one, '    ')}        append(instance)\n    return models\n"
        )
        exec(compile(source, f"<events_async structure {cls.__name__}>", "exec"), namespace)
        function: Callable[[Any, Any], Any] = namespace[f"structure_{cls.__name__}"]
        LIST_BUILDERS[function] = namespace[f"structure_list_{cls.__name__}"]
        return function

    return factory


# A generated model hook -> its list function (every dict item of a list built in one
# loop, other items skipped, so no call per item); see `structure_list`.
LIST_BUILDERS: dict[Callable[[Any, Any], Any], Callable[[list[Any]], list[Any]]] = {}
