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

import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from yarl import URL

from ._convert import structure_list
from ._settings import DEFAULT_MAX_RESPONSE_BYTES, base_url_for, credentials_for
from ._validate import check_positive_int
from .client import TwilioApiClient
from .errors import InvalidRequestError, ResponseDecodeError
from .models import Account, AccountStatus
from .pagination import MAX_PAGE_SIZE, advanced, next_page

__all__ = [
    "ACCOUNTS_BASE_URL",
    "ACCOUNTS_BASE_URL_VARIABLE",
    "Account",
    "AccountStatus",
    "AccountsClient",
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


class AccountsClient(TwilioApiClient):
    """A client of Twilio's 2010 Accounts API, for listing a parent's subaccounts.

    Credentials, `session`, `timeout`, `max_retries`, `max_concurrency` and
    `max_response_bytes` are as for `EventsClient` (the same environment variables fill
    what no argument gave). `base_url` defaults to `EVENTS_ASYNC_ACCOUNTS_BASE_URL`, then
    `https://api.twilio.com`; a fake serves it at its own origin.
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
    ) -> None:
        super().__init__(
            credentials_for(account_sid, auth_token, api_key, api_secret, os.environ),
            accounts_base_url(base_url, os.environ),
            session=session,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            max_response_bytes=max_response_bytes,
        )

    def list(
        self,
        *,
        status: AccountStatus | str | None = AccountStatus.ACTIVE,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[Account]:
        """Every account these credentials see (the parent and its subaccounts), lazily.

        `status` keeps only accounts in that standing (None: all); it is sent as the
        `Status` filter and checked again on what comes back.
        """
        wanted = _status_value(status)
        check_positive_int(page_size, "page_size", MAX_PAGE_SIZE)
        params = [("PageSize", str(page_size))]
        if wanted is not None:
            params.insert(0, ("Status", wanted))
        url = self._transport.url_for("2010-04-01", "Accounts.json").extend_query(params)
        return self._accounts(url, wanted)

    def subaccounts(
        self,
        *,
        status: AccountStatus | str | None = AccountStatus.ACTIVE,
        include_parent: bool = False,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[Account]:
        """The subaccounts the signed-in account owns (and itself first, with
        `include_parent`). Signed in as a subaccount, there are none."""
        listed = self.list(status=status, page_size=page_size)
        return listed if include_parent else self._owned(listed)

    async def _owned(self, listed: AsyncIterator[Account]) -> AsyncIterator[Account]:
        async for account in listed:
            if account.is_subaccount and account.sid != self.account_sid:
                yield account

    async def _accounts(self, url: URL, status: str | None) -> AsyncIterator[Account]:
        seen: set[URL] = set()
        last_page: int | None = None
        next_url: URL | None = url
        while next_url is not None:
            seen.add(next_url)
            data = await self._transport.request("GET", next_url)
            accounts, page, link = _read_page(data, next_url)
            last_page = advanced(next_url, page, last_page)
            for account in accounts:
                if status is None or account.status == status:
                    yield account
            next_url = (
                None
                if not link
                else next_page(link, next_url, self._transport.origin, seen, "next_page_uri")
            )


def _read_page(data: dict[str, Any] | None, url: URL) -> tuple[list[Account], int | None, Any]:
    """One page's accounts, its page number and its `next_page_uri`."""
    if data is None or not isinstance(data.get("accounts"), list):
        raise ResponseDecodeError(f"GET {url} returned a page without an accounts list")
    page = data.get("page")
    link = data.get("next_page_uri")
    if link is not None and not isinstance(link, str):
        raise ResponseDecodeError(f"GET {url} returned a next_page_uri that is not text")
    number = page if isinstance(page, int) and not isinstance(page, bool) else None
    return structure_list(data["accounts"], Account), number, link
