"""One paginator for every list: the Events API's and the 2010 Accounts API's pages, each
read by its own `PageFormat`, with the same `.pages()`, `.collect()`, `limit` and guards."""

from __future__ import annotations

from typing import Any

import pytest
from yarl import URL

from events_async import AsyncPaginator, EventsClient, MockTransport, Request, Response
from events_async.accounts import AccountsClient, AccountsPageFormat
from events_async.errors import PaginationError

from ..support import ACCOUNT_SID, AUTH_TOKEN

ACCOUNTS = "https://api.twilio.com/2010-04-01/Accounts.json"


def _account(n: int, status: str = "active", owner: str = ACCOUNT_SID) -> dict[str, Any]:
    sid = ACCOUNT_SID if n == 0 else "AC" + f"{n:032d}"
    return {"sid": sid, "status": status, "owner_account_sid": owner, "auth_token": f"t{n}"}


def accounts_server(pages: list[list[dict[str, Any]]], seen: list[Request]) -> MockTransport:
    """The Accounts API: page `n` links to `n + 1` by a relative `next_page_uri`."""

    def handler(request: Request) -> Response:
        seen.append(request)
        number = int(request.url.query.get("Page", "0"))
        last = number == len(pages) - 1
        link = None if last else f"/2010-04-01/Accounts.json?Page={number + 1}"
        body = {"accounts": pages[number], "page": number, "next_page_uri": link, "uri": "/u"}
        return Response(200, json=body)

    return MockTransport(handler)


def accounts_client(transport: MockTransport) -> AccountsClient:
    return AccountsClient(ACCOUNT_SID, AUTH_TOKEN, transport=transport)


async def test_the_accounts_list_has_pages_with_their_meta() -> None:
    seen: list[Request] = []
    pages = [[_account(0), _account(1)], [_account(2)]]
    async with accounts_client(accounts_server(pages, seen)) as client:
        listed = client.list()
        assert isinstance(listed, AsyncPaginator)
        got = [page async for page in listed.pages()]
    assert [[a.sid for a in page.items] for page in got] == [
        [a["sid"] for a in page] for page in pages
    ]
    assert got[0].meta.page == 0
    assert got[0].meta.next_page_url == "/2010-04-01/Accounts.json?Page=1"
    assert got[1].meta.next_page_url is None
    assert got[0].meta.key == "accounts"
    assert [str(r.url) for r in seen] == [
        f"{ACCOUNTS}?Status=active&PageSize=1000",
        f"{ACCOUNTS}?Page=1",
    ]


async def test_a_limit_on_subaccounts_counts_only_the_subaccounts_and_asks_for_less() -> None:
    seen: list[Request] = []
    pages = [[_account(0), _account(1), _account(2, "suspended")], [_account(3), _account(4)]]
    async with accounts_client(accounts_server(pages, seen)) as client:
        found = await client.subaccounts(limit=2).collect()
    assert [a.sid for a in found] == [_account(1)["sid"], _account(3)["sid"]]
    assert len(seen) == 2  # no third page: the limit was reached
    assert seen[0].url.query["PageSize"] == "2"


async def test_a_limit_stops_before_the_next_page_is_asked_for() -> None:
    seen: list[Request] = []
    pages = [[_account(0), _account(1)], [_account(2)]]
    async with accounts_client(accounts_server(pages, seen)) as client:
        assert len(await client.list(limit=2, page_size=5).collect()) == 2
    assert len(seen) == 1
    assert seen[0].url.query["PageSize"] == "5"


async def test_the_accounts_list_keeps_the_guards_of_every_list() -> None:
    def looping(request: Request) -> Response:
        body = {"accounts": [], "next_page_uri": "/2010-04-01/Accounts.json?Status=active"}
        return Response(200, json=body)

    async with accounts_client(MockTransport(looping)) as client:
        with pytest.raises(PaginationError, match="next_page_uri"):
            await client.list().collect()


async def test_anext_walks_one_iteration_and_async_for_starts_over() -> None:
    seen: list[Request] = []
    pages = [[_account(0), _account(1)], [_account(2)]]
    async with accounts_client(accounts_server(pages, seen)) as client:
        listed = client.list()
        assert (await anext(listed)).sid == ACCOUNT_SID
        assert (await anext(listed)).sid == _account(1)["sid"]
        assert len([a async for a in listed]) == 3
        assert (await anext(listed)).sid == _account(2)["sid"]
        with pytest.raises(StopAsyncIteration):
            await anext(listed)


def test_the_accounts_format_filters_before_it_cuts() -> None:
    page = AccountsPageFormat("active", owned_by=ACCOUNT_SID).read(
        {"accounts": [_account(0), _account(1, "closed"), _account(2), _account(3)], "page": 0},
        URL(ACCOUNTS),
        1,
    )
    assert [a.sid for a in page.items] == [_account(2)["sid"]]


async def test_events_lists_and_accounts_share_the_paginator_class() -> None:
    def handler(request: Request) -> Response:
        return Response(200, json={"sinks": [], "meta": {"key": "sinks", "page": 0}})

    async with EventsClient(ACCOUNT_SID, AUTH_TOKEN, transport=MockTransport(handler)) as c:
        sinks, accounts = c.sinks.list(), accounts_client(MockTransport(handler)).list()
        assert type(sinks) is AsyncPaginator
        assert type(accounts) is AsyncPaginator
