"""Twilio-style pagination for the fake: PageSize, Page, signed PageTokens and `meta`.

A PageToken names the item a page starts after (or ends before) and the list it belongs
to, signed with the server's secret: a forged token, or one from another list, account
or page size, is refused with a 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from .state import bad_request, parse_int

__all__ = ["Pager"]

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class Pager:
    """Cuts lists into pages and signs the tokens that lead between them."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()[:24]

    def _token(self, scope: str, direction: str, anchor: int, page: int) -> str:
        payload = json.dumps([scope, direction, anchor, page]).encode()
        encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"PT{encoded}.{self._sign(payload)}"

    def _read_token(self, token: str, scope: str) -> tuple[str, int, int]:
        fields = self._decode(token)
        if fields is None:
            raise bad_request("PageToken is not valid")
        token_scope, direction, anchor, page = fields
        if token_scope != scope:
            raise bad_request("PageToken belongs to another list; start again from the first page")
        return direction, anchor, page

    def _decode(self, token: str) -> tuple[str, str, int, int] | None:
        if not token.startswith("PT"):
            return None
        try:
            encoded, signature = token[2:].split(".")
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            if not hmac.compare_digest(signature, self._sign(payload)):
                return None
            scope, direction, anchor, page = json.loads(payload)
        except (ValueError, TypeError):
            return None
        return scope, direction, anchor, page

    def page(
        self,
        *,
        items: Sequence[T],
        seq: Callable[[T], int],
        render: Callable[[T], dict[str, Any]],
        key: str,
        origin: str,
        path: str,
        filters: Mapping[str, str],
        query: Mapping[str, str],
        scope: str,
    ) -> dict[str, Any]:
        """The JSON body of one page of `items` (ordered by `seq`) for this request."""
        size = _int_param(query, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        page = _int_param(query, "Page", 0, 0, None)
        scope = f"{scope}|{path}|{sorted(filters.items())}|{size}"
        token = query.get("PageToken")
        ordered = sorted(items, key=seq)
        if token:
            direction, anchor, token_page = self._read_token(token, scope)
            if "Page" in query and token_page != page:
                raise bad_request("Page does not match PageToken")
            page = token_page
            if direction == "next":
                chosen = [i for i in ordered if seq(i) > anchor][:size]
            else:
                chosen = [i for i in ordered if seq(i) < anchor][-size:]
        else:
            chosen = ordered[page * size : (page + 1) * size]
        following = bool(chosen) and seq(chosen[-1]) < seq(ordered[-1])
        preceding = bool(chosen) and seq(chosen[0]) > seq(ordered[0])

        def url(page_number: int, page_token: str | None = None) -> str:
            params = {**filters, "PageSize": str(size), "Page": str(page_number)}
            if page_token:
                params["PageToken"] = page_token
            return f"{origin}{path}?{urlencode(params)}"

        meta = {
            "page": page,
            "page_size": size,
            "first_page_url": url(0),
            "previous_page_url": (
                url(page - 1, self._token(scope, "previous", seq(chosen[0]), page - 1))
                if preceding and page > 0
                else None
            ),
            "url": url(page, token),
            "next_page_url": (
                url(page + 1, self._token(scope, "next", seq(chosen[-1]), page + 1))
                if following
                else None
            ),
            "key": key,
        }
        return {key: [render(i) for i in chosen], "meta": meta}


def _int_param(
    query: Mapping[str, str], name: str, default: int, low: int, high: int | None
) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    value = parse_int(raw, name)
    if value < low or (high is not None and value > high):
        limit = f"{low} to {high}" if high is not None else f"at least {low}"
        raise bad_request(f"{name} must be {limit}, got {value}")
    return value
