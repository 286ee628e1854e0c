"""What every resource manager shares: request helpers and input checks.

Managers build a request (path, query, form), hand it to the client's policy (which
sends it through the transport), and turn the JSON it returns into a model. They never
touch aiohttp.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from .._convert import structure
from ..errors import InvalidRequestError, ResponseDecodeError
from ..pagination import AsyncPaginator

if TYPE_CHECKING:
    from .._transport import Params, Policy

__all__ = ["Resource", "json_text", "wire_pairs"]

T = TypeVar("T")


class Resource:
    """Base of the resource managers: the client's policy, a few typed request helpers."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    async def _call(
        self, method: str, model: type[T], *segments: str, form: Params | None = None
    ) -> T:
        url = self._policy.url_for("v1", *segments)
        data = await self._policy.request(method, url, form=form)
        if data is None:
            raise ResponseDecodeError(f"{method} {url} returned no body; expected {model.__name__}")
        return structure(data, model)

    async def _delete(self, *segments: str) -> None:
        await self._policy.request("DELETE", self._policy.url_for("v1", *segments))

    def _list(
        self,
        model: type[T],
        key: str,
        *segments: str,
        params: Params = (),
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[T]:
        return AsyncPaginator.for_events(
            self._policy,
            self._policy.url_for("v1", *segments),
            params,
            key=key,
            model=model,
            page_size=page_size,
            limit=limit,
        )


def wire_pairs(**fields: Any) -> list[tuple[str, str]]:
    """Query or form pairs from keyword fields: None left out, booleans as true/false."""
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        pairs.append((name, str(value)))
    return pairs


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_non_finite(item) for item in value)
    return False


def json_text(value: Any, name: str, *, param: str | None = None) -> str:
    """`value` as one JSON form value: refused if it cannot be sent exactly as given.

    orjson refuses lone surrogates, non-string keys and nesting past 254 levels; NaN and
    infinities (which it would quietly send as null) are refused here. The error names
    the value `name` and blames argument `param` (default: `name`).
    """
    param = name if param is None else param
    try:
        text = orjson.dumps(value).decode()
    except TypeError as exc:
        raise InvalidRequestError.for_param(
            param, f"is not JSON-serialisable: {exc}", subject=name
        ) from None
    if _has_non_finite(value):  # safe to recurse: orjson has bounded the depth
        raise InvalidRequestError.for_param(
            param, "holds NaN or an infinity, which JSON cannot carry", subject=name
        )
    return text
