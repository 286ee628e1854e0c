"""How the fake reads Basic credentials and compares secrets (as Twilio: in constant time)."""

from __future__ import annotations

import base64
import binascii
import secrets

__all__ = ["basic_credentials", "same_secret"]


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(login, password) from a Basic `Authorization` header, or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, colon, password = decoded.partition(":")
    return (login, password) if colon else None


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of any text (compare_digest refuses non-ASCII str)."""
    return secrets.compare_digest(given.encode(), expected.encode())
