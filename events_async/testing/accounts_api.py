"""The fake's slice of Twilio's 2010 Accounts API: `GET /2010-04-01/Accounts.json`.

As on Twilio, the credentials of an account see that account and the subaccounts it
owns, each with its auth token; a subaccount's credentials see only itself. Pages link
to the next by a relative `next_page_uri`; `Status` and `FriendlyName` filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from .state import SUBACCOUNT_STATUSES, FakeAccount, bad_request, parse_int

if TYPE_CHECKING:
    from .server import FakeEventsServer

__all__ = ["ACCOUNTS_PATH", "AccountsApi"]

ACCOUNTS_PATH = "/2010-04-01/Accounts.json"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _rfc2822(moment: datetime) -> str:
    """The 2010 API's dates: `Thu, 30 Jul 2015 20:00:00 +0000`."""
    return format_datetime(moment).replace("-0000", "+0000")


def render_account(account: FakeAccount) -> dict[str, Any]:
    """One account as the 2010 API renders it to its owner."""
    uri = f"/2010-04-01/Accounts/{account.sid}.json"
    return {
        "auth_token": account.token_in_listing,
        "date_created": _rfc2822(account.date_created),
        "date_updated": _rfc2822(account.date_created),
        "friendly_name": account.friendly_name,
        "owner_account_sid": account.owner_sid or account.sid,
        "sid": account.sid,
        "status": account.status,
        "subresource_uris": {"events": f"/2010-04-01/Accounts/{account.sid}/Events.json"},
        "type": "Full",
        "uri": uri,
    }


class AccountsApi:
    """The Accounts list, bound to one fake server."""

    def __init__(self, server: FakeEventsServer) -> None:
        self.server = server

    def routes(self) -> list[web.RouteDef]:
        """The one route this fake serves of the 2010 API."""
        return [web.get(ACCOUNTS_PATH, self.list_accounts)]

    def visible_to(self, account: FakeAccount) -> list[FakeAccount]:
        """The account itself, then (for a parent) the subaccounts it owns, oldest first."""
        owned = [a for a in self.server.accounts.values() if a.owner_sid == account.sid]
        return [account, *owned]

    async def list_accounts(self, request: web.Request) -> web.Response:
        """`GET /2010-04-01/Accounts.json`: one page of the accounts these credentials see."""
        account = self.server.authenticate(request)
        query = request.query
        status = query.get("Status")
        if status is not None and status not in SUBACCOUNT_STATUSES:
            raise bad_request(f"Status must be one of {', '.join(SUBACCOUNT_STATUSES)}")
        name = query.get("FriendlyName")
        listed = [
            a
            for a in self.visible_to(account)
            if (status is None or a.status == status) and (name is None or a.friendly_name == name)
        ]
        size = _bounded(query, "PageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        page = _bounded(query, "Page", 0, None)
        return web.json_response(_page(listed, size, page, _filters(status, name)))


def _bounded(query: Mapping[str, str], name: str, default: int, maximum: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    value = parse_int(raw, name)
    if maximum is not None and not 1 <= value <= maximum:
        raise bad_request(f"{name} is out of range")
    return value


def _filters(status: str | None, name: str | None) -> list[tuple[str, str]]:
    filters = [("Status", status)] if status is not None else []
    return filters + ([("FriendlyName", name)] if name is not None else [])


def _page(
    listed: list[FakeAccount], size: int, page: int, filters: list[tuple[str, str]]
) -> dict[str, Any]:
    start = page * size
    chunk = listed[start : start + size]

    def uri(number: int) -> str:
        params = [*filters, ("PageSize", str(size)), ("Page", str(number))]
        if number:
            params.append(("PageToken", f"PA{number * size}"))
        return f"{ACCOUNTS_PATH}?{urlencode(params)}"

    return {
        "accounts": [render_account(a) for a in chunk],
        "end": start + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if start + size < len(listed) else None,
        "page": page,
        "page_size": size,
        "previous_page_uri": uri(page - 1) if page else None,
        "start": start,
        "uri": uri(page),
    }
