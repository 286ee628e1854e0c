"""Input checks made before anything is sent; each raises `InvalidRequestError`."""

from __future__ import annotations

import re

from .errors import InvalidRequestError

__all__ = ["check_positive_int", "check_sid", "check_text"]

_SID_KINDS = {
    "AC": "an Account SID",
    "SK": "an API key SID",
    "DG": "a DG SID",
    "DF": "a DF SID",
}
_SID_PATTERNS = {prefix: re.compile(rf"^{prefix}[0-9a-fA-F]{{32}}\Z") for prefix in _SID_KINDS}


def check_sid(value: object, prefix: str, name: str) -> str:
    """`value` if it is a SID with `prefix` (AC, SK, DG sink, DF subscription), else raise."""
    if not isinstance(value, str) or not _SID_PATTERNS[prefix].match(value):
        raise InvalidRequestError(
            f"{name} must be {_SID_KINDS[prefix]} ({prefix} and 32 hex digits), got {value!r}"
        )
    return value


def check_text(value: object, name: str) -> str:
    """`value` if it is a non-empty string, else raise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{name} must be a non-empty string, got {value!r}")
    return value


def check_positive_int(value: object, name: str, maximum: int | None = None) -> int:
    """`value` if it is an integer from 1 to `maximum` (booleans are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(f"{name} must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise InvalidRequestError(f"{name} must be at most {maximum}, got {value!r}")
    return value
