"""Subaccount discovery over Twilio's 2010 Accounts API, for fleet audits.

```python
async with AccountsClient("AC…parent", "parent token") as accounts:
    async for account in accounts.subaccounts():          # active ones, lazily
        ...  # account.sid, account.auth_token (never in a repr)
```

`GET /2010-04-01/Accounts.json` with a parent's credentials lists the parent and every
subaccount it owns, each with its own auth token; pages link to the next by a relative
`next_page_uri`, which is followed only on this API's origin and never twice.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from ._convert import structure_list
from ._settings import DEFAULT_MAX_RESPONSE_BYTES, base_url_for, credentials_for
from .client import TwilioApiClient
from .errors import InvalidRequestError, ResponseDecodeError
from .models import Account, AccountStatus, Page, PageMeta
from .pagination import MAX_PAGE_SIZE, AsyncPaginator, page_size_for
from .transport import AsyncTransport

__all__ = [
    "ACCOUNTS_BASE_URL",
    "ACCOUNTS_BASE_URL_VARIABLE",
    "Account",
    "AccountStatus",
    "AccountsClient",
    "AccountsPageFormat",
]

ACCOUNTS_BASE_URL = "https://api.twilio.com"
ACCOUNTS_BASE_URL_VARIABLE = "EVENTS_ASYNC_ACCOUNTS_BASE_URL"


def accounts_base_url(base_url: str | None, environ: Mapping[str, str]) -> URL:
    """The Accounts API's origin: `base_url`, else `EVENTS_ASYNC_ACCOUNTS_BASE_URL`, else
    Twilio's `https://api.twilio.com`."""
    chosen = base_url or environ.get(ACCOUNTS_BASE_URL_VARIABLE) or ACCOUNTS_BASE_URL
    return base_url_for(chosen, None, None)


def _status_value(status: AccountStatus | str | None) -> str | None:
    if status is None:
        return None
    try:
        return AccountStatus(status).value
    except ValueError:
        known = ", ".join(s.value for s in AccountStatus)
        raise InvalidRequestError.for_param(
            "status", f"must be one of {known} or None, got {status!r}"
        ) from None


class AccountsPageFormat:
    """The 2010 Accounts API's pages: `{"accounts": [...], "page", "page_size", "uri",
    "next_page_uri", ...}`. Keeps only accounts in `status` (None: all) and, with
    `owned_by`, only the subaccounts that account owns (itself left out)."""

    link_name = "next_page_uri"
    model = Account

    def __init__(self, status: str | None, owned_by: str | None = None) -> None:
        self.status = status
        self.owned_by = owned_by

    def read(self, data: dict[str, Any] | None, url: URL, wanted: int | None) -> Page[Account]:
        """The page's accounts that pass the filters (no more than `wanted`), and its
        links as a `PageMeta`."""
        if data is None or not isinstance(data.get("accounts"), list):
            raise ResponseDecodeError(f"GET {url} returned a page without an accounts list")
        link = data.get("next_page_uri")
        if link is not None and not isinstance(link, str):
            raise ResponseDecodeError(f"GET {url} returned a next_page_uri that is not text")
        accounts = [a for a in structure_list(data["accounts"], Account) if self._keeps(a)]
        if wanted is not None:
            del accounts[wanted:]
        meta = PageMeta(
            page=_number(data.get("page")),
            page_size=_number(data.get("page_size")),
            first_page_url=_text(data.get("first_page_uri")),
            previous_page_url=_text(data.get("previous_page_uri")),
            url=_text(data.get("uri")),
            next_page_url=link,
            key="accounts",
        )
        return Page(items=accounts, meta=meta)

    def _keeps(self, account: Account) -> bool:
        if self.status is not None and account.status != self.status:
            return False
        owner = self.owned_by
        return owner is None or (account.is_subaccount and account.sid != owner)


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


class AccountsClient(TwilioApiClient):
    """A client of Twilio's 2010 Accounts API, for listing a parent's subaccounts.

    Credentials, `session`, `timeout`, `max_retries`, `max_concurrency`,
    `max_response_bytes`, `transport` and `limiter` are as for `EventsClient` (the same
    environment variables fill what no argument gave). `base_url` defaults to
    `EVENTS_ASYNC_ACCOUNTS_BASE_URL`, then `https://api.twilio.com`; a fake serves it at
    its own origin.
    """

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        base_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: aiohttp.ClientTimeout | float | None = None,
        max_retries: int = 2,
        max_concurrency: int | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: AsyncTransport | None = None,
        limiter: asyncio.Semaphore | None = None,
    ) -> None:
        super().__init__(
            credentials_for(account_sid, auth_token, api_key, api_secret, os.environ),
            accounts_base_url(base_url, os.environ),
            session=session,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            max_response_bytes=max_response_bytes,
            transport=transport,
            limiter=limiter,
        )

    def list(
        self,
        *,
        status: AccountStatus | str | None = AccountStatus.ACTIVE,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Account]:
        """Every account these credentials see (the parent and its subaccounts), lazily.

        `status` keeps only accounts in that standing (None: all); it is sent as the
        `Status` filter and checked again on what comes back. `PageSize` is `page_size`,
        else `min(limit, 1000)`, else 1000; `limit` stops after that many accounts.
        """
        return self._listing(_status_value(status), None, page_size, limit)

    def subaccounts(
        self,
        *,
        status: AccountStatus | str | None = AccountStatus.ACTIVE,
        include_parent: bool = False,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Account]:
        """The subaccounts the signed-in account owns (and itself first, with
        `include_parent`). Signed in as a subaccount, there are none."""
        owned_by = None if include_parent else self.account_sid
        return self._listing(_status_value(status), owned_by, page_size, limit)

    def _listing(
        self, status: str | None, owned_by: str | None, page_size: int | None, limit: int | None
    ) -> AsyncPaginator[Account]:
        size = page_size_for(page_size, limit) or MAX_PAGE_SIZE
        params = [("PageSize", str(size))]
        if status is not None:
            params.insert(0, ("Status", status))
        url = self._url_for("2010-04-01", "Accounts.json")
        return self._paginate(url, params, AccountsPageFormat(status, owned_by), limit=limit)
