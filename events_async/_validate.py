"""Input checks made before anything is sent; each raises `InvalidRequestError`.

Messages quote a bad value only when it cannot be a secret: a credential that fails its
check is described, never echoed. Each error's `param` names the argument at fault and its
`detail` says what is wrong without naming it (the command line names its flag instead).
"""

from __future__ import annotations

import math
import re
from typing import TypeGuard

from .errors import InvalidRequestError

__all__ = [
    "check_dns_label",
    "check_positive_int",
    "check_seconds",
    "check_sid",
    "check_text",
    "check_wire_text",
    "is_sid",
]

_SID_KINDS = {
    "AC": "an Account SID",
    "SK": "an API key SID",
    "DG": "a DG SID",
    "DF": "a DF SID",
}
_SID_PATTERNS = {prefix: re.compile(rf"^{prefix}[0-9a-fA-F]{{32}}\Z") for prefix in _SID_KINDS}
_DNS_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


def _described(value: object) -> str:
    """What a value is, without what it says: for credentials that failed a check."""
    if isinstance(value, str):
        return f"a {len(value)}-character string"
    return type(value).__name__


def _refused(name: str, param: str | None, detail: str) -> InvalidRequestError:
    """The error for a value called `name` in messages; `param` (the argument at fault)
    defaults to `name` when that is an argument's name ("timeout", not "timeout.connect")."""
    if param is None and name.isidentifier():
        param = name
    return InvalidRequestError.for_param(param, detail, subject=name)


def is_sid(value: object, *prefixes: str) -> TypeGuard[str]:
    """Whether `value` is a SID with one of `prefixes`."""
    return isinstance(value, str) and any(_SID_PATTERNS[p].match(value) for p in prefixes)


def check_sid(
    value: object, prefix: str, name: str, *, secret: bool = False, param: str | None = None
) -> str:
    """`value` if it is a SID with `prefix` (AC, SK, DG sink, DF subscription), else raise.

    With `secret`, a value that fails is not quoted: a token passed as a SID stays hidden.
    Every check names the value `name` in its message, and sets the error's `param` to
    `param`, or to `name` when that is an argument's name.
    """
    if not isinstance(value, str) or not _SID_PATTERNS[prefix].match(value):
        got = _described(value) if secret else repr(value)
        raise _refused(
            name, param, f"must be {_SID_KINDS[prefix]} ({prefix} and 32 hex digits), got {got}"
        )
    return value


def check_wire_text(value: str, name: str, *, param: str | None = None) -> str:
    """`value` if it can be sent as UTF-8 (no lone surrogates), else raise."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _refused(name, param, "is not valid Unicode (a lone surrogate)") from None
    return value


def check_text(value: object, name: str, *, param: str | None = None) -> str:
    """`value` if it is a non-empty string that can be sent, else raise."""
    if not isinstance(value, str) or not value.strip():
        raise _refused(name, param, f"must be a non-empty string, got {value!r}")
    return check_wire_text(value, name, param=param)


def check_positive_int(
    value: object, name: str, maximum: int | None = None, *, param: str | None = None
) -> int:
    """`value` if it is an integer from 1 to `maximum` (booleans are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _refused(name, param, f"must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise _refused(name, param, f"must be at most {maximum}, got {value!r}")
    return value


def check_seconds(value: object, name: str, *, param: str | None = None) -> float:
    """`value` as float if it is a finite, positive number of seconds (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise _refused(name, param, f"must be a finite, positive number, got {value!r}")
    return float(value)


def check_dns_label(value: object, name: str, *, param: str | None = None) -> str:
    """`value` if it is one DNS label (letters, digits, inner hyphens), else raise.

    Region and edge go into the API's host name; nothing else may move the origin.
    """
    if not isinstance(value, str) or not _DNS_LABEL.match(value):
        raise _refused(
            name, param, f"must be one DNS label (letters, digits and hyphens), got {value!r}"
        )
    return value.lower()
