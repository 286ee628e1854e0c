"""The one cattrs converter between JSON values and the models, and its hooks.

Responses are read leniently: unknown fields are ignored, unknown enum values are kept as
plain strings, and date-times become timezone-aware. A value of the wrong shape raises
`ResponseDecodeError`, never a bare `TypeError`/`KeyError`. The value hooks live in
`_hooks`, the generated model builders in `_builders`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import cattrs

from ._builders import LIST_BUILDERS, response_model_hook
from ._hooks import (
    PLAIN_HOOKS,
    is_lenient_enum,
    is_response_model,
    lenient_enum_hook,
    parse_datetime,
    structure_any_dict,
    structure_str_dict,
)
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
    "make_converter",
    "parse_datetime",
    "structure",
    "structure_hook",
    "structure_list",
    "typed_sink_configuration",
    "unstructure",
]


def make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=False)
    for kind in (str, int, bool, datetime):
        conv.register_structure_hook(kind, PLAIN_HOOKS[kind])
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook_factory(is_lenient_enum, lenient_enum_hook)
    conv.register_structure_hook_func(lambda tp: tp == dict[str, Any], structure_any_dict)
    conv.register_structure_hook_func(lambda tp: tp == dict[str, str], structure_str_dict)
    conv.register_structure_hook_factory(is_response_model, response_model_hook(conv))
    return conv


converter = make_converter()
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
    many = LIST_BUILDERS.get(hook)
    try:
        models = many(items) if many else [hook(item, cls) for item in items if type(item) is dict]
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
