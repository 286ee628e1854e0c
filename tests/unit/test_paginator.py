"""One paginator for every list (events_async/pagination.py): the Events API's pages and
the 2010 Accounts API's, each read by its own `PageFormat`, with the same `.pages()`,
`.collect()`, `limit` and guards — PageSize, limits, and a `next_page_url` that is never
followed off the list's origin, never twice, and never round a chain that does not advance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from aiohttp import web
from yarl import URL

from events_async import (
    AsyncPaginator,
    EventsClient,
    InvalidRequestError,
    MockTransport,
    PaginationError,
    Request,
    Response,
    ResponseDecodeError,
    Sink,
)
from events_async.accounts import AccountsClient, AccountsPageFormat

from ..support import ACCOUNT_SID, AUTH_TOKEN, linked_pages, loopback_client, serve

# --- the Events API's lists, over loopback ------------------------------------------


def _sink(n: int) -> dict[str, Any]:
    return {"sid": f"DG{n:032x}", "description": f"sink {n}", "status": "active"}


@attrs.define
class SinkPages:
    """A /v1/Sinks that pages `count` sinks by PageSize (default 50) and PageToken."""

    count: int
    requests: list[dict[str, str]] = attrs.field(factory=list)
    next_page_url: str | None = None  # overrides the real next page when set

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        size = int(request.query.get("PageSize", "50"))
        start = int(request.query.get("PageToken", "0"))
        end = min(start + size, self.count)
        base = f"{request.url.origin()}/v1/Sinks"
        next_url = f"{base}?PageSize={size}&PageToken={end}" if end < self.count else None
        if self.next_page_url is not None:
            next_url = self.next_page_url.replace("{origin}", str(request.url.origin()))
        return web.json_response(
            {
                "sinks": [_sink(n) for n in range(start, end)],
                "meta": {
                    "page": start // size,
                    "page_size": size,
                    "first_page_url": f"{base}?PageSize={size}",
                    "previous_page_url": None,
                    "url": str(request.url),
                    "next_page_url": next_url,
                    "key": "sinks",
                },
            }
        )


async def _drain(paginator: AsyncPaginator[Sink], *, into: list[Sink]) -> None:
    async for sink in paginator:
        into.append(sink)


@pytest.fixture
def pages() -> SinkPages:
    return SinkPages(count=120)


@pytest.fixture
async def client(pages: SinkPages) -> AsyncIterator[EventsClient]:
    app = web.Application()
    app.router.add_get("/v1/Sinks", pages.handle)
    async with serve(app) as origin, loopback_client(origin) as events:
        yield events


async def test_iterates_every_item_across_pages(client: EventsClient, pages: SinkPages) -> None:
    sids = [sink.sid async for sink in client.sinks.list(page_size=50)]

    assert sids == [f"DG{n:032x}" for n in range(120)]
    assert [r.get("PageToken") for r in pages.requests] == [None, "50", "100"]
    assert all(r["PageSize"] == "50" for r in pages.requests)


async def test_pages_yield_items_and_meta(client: EventsClient) -> None:
    seen = [
        (len(page.items), page.meta.next_page_url is None)
        async for page in client.sinks.list(page_size=50).pages()
    ]

    assert seen == [(50, False), (50, False), (20, True)]


async def test_collect_returns_models(client: EventsClient) -> None:
    sinks = await client.sinks.list(page_size=100).collect()

    assert len(sinks) == 120
    assert all(isinstance(s, Sink) for s in sinks)


async def test_an_empty_list_yields_nothing(client: EventsClient, pages: SinkPages) -> None:
    pages.count = 0

    assert await client.sinks.list().collect() == []
    assert len(pages.requests) == 1


async def test_limit_across_a_page_boundary_stops_fetching(
    client: EventsClient, pages: SinkPages
) -> None:
    sinks = await client.sinks.list(page_size=50, limit=70).collect()

    assert [s.description for s in sinks] == [f"sink {n}" for n in range(70)]
    assert len(pages.requests) == 2


async def test_limit_sets_page_size_when_none_is_given(
    client: EventsClient, pages: SinkPages
) -> None:
    assert len(await client.sinks.list(limit=7).collect()) == 7
    assert pages.requests == [{"PageSize": "7"}]


async def test_page_size_is_capped_at_1000_for_large_limits(
    client: EventsClient, pages: SinkPages
) -> None:
    pages.count = 10
    await client.sinks.list(limit=5000).collect()

    assert pages.requests == [{"PageSize": "1000"}]


@pytest.mark.parametrize("page_size", [0, -1, 1001, True, 2.5, "50"])
def test_page_size_out_of_range_is_refused_before_sending(
    client: EventsClient, pages: SinkPages, page_size: Any
) -> None:
    with pytest.raises(InvalidRequestError, match="page_size") as caught:
        client.sinks.list(page_size=page_size)
    assert caught.value.param == "page_size"
    assert pages.requests == []


@pytest.mark.parametrize("limit", [0, -5, False])
def test_limit_must_be_positive(client: EventsClient, limit: Any) -> None:
    with pytest.raises(InvalidRequestError, match="limit") as caught:
        client.sinks.list(limit=limit)
    assert caught.value.param == "limit"


def test_list_returns_a_paginator_without_sending(client: EventsClient, pages: SinkPages) -> None:
    paginator = client.sinks.list()

    assert isinstance(paginator, AsyncPaginator)
    assert "Sink" in repr(paginator)
    assert pages.requests == []


async def test_foreign_origin_next_page_is_never_contacted(
    client: EventsClient, pages: SinkPages
) -> None:
    contacted: list[str | None] = []

    async def record(request: web.Request) -> web.Response:
        contacted.append(request.headers.get("Authorization"))
        return web.json_response({"sinks": [], "meta": {"next_page_url": None}})

    foreign = web.Application()
    foreign.router.add_get("/v1/Sinks", record)
    async with serve(foreign) as foreign_origin:
        pages.next_page_url = f"{foreign_origin}/v1/Sinks?PageToken=50"
        received: list[Sink] = []
        with pytest.raises(PaginationError, match="another origin"):
            await _drain(client.sinks.list(page_size=50), into=received)

    assert len(received) == 50  # the first page is still delivered
    assert contacted == []


async def test_breaking_out_early_fetches_no_more_pages(
    client: EventsClient, pages: SinkPages
) -> None:
    async for sink in client.sinks.list(page_size=50):
        if sink.description == "sink 3":
            break

    assert len(pages.requests) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sinks": []}, "without a meta block"),
        ({"meta": {"key": "sinks"}}, "without 'sinks'"),
        ({"sinks": {"sid": "x"}, "meta": {}}, "expected a list"),
        ({"sinks": [1, 2], "meta": {}}, "expected a list of Sink objects"),
    ],
)
async def test_malformed_pages_raise_decode_errors(body: dict[str, Any], message: str) -> None:
    async def handler(_: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/v1/Sinks", handler)
    async with serve(app) as origin, loopback_client(origin) as events:
        with pytest.raises(ResponseDecodeError, match=message):
            await events.sinks.list().collect()


async def test_items_are_read_from_meta_key_first() -> None:
    async def handler(_: web.Request) -> web.Response:
        return web.json_response({"items": [_sink(1)], "meta": {"key": "items"}})

    app = web.Application()
    app.router.add_get("/v1/Sinks", handler)
    async with serve(app) as origin, loopback_client(origin) as events:
        assert [s.sid for s in await events.sinks.list().collect()] == [f"DG{1:032x}"]


# --- where a next page may lead ----------------------------------------------------


HOSTILE_NEXT = [
    ("http://user:pass@{host}/v1/Sinks?Page=1", "userinfo"),
    ("javascript:alert(1)", "not an http"),
    ("file:///etc/passwd", "not an http"),
    ("http://{hostname}:99999/v1/Sinks", "cannot be parsed"),
    ("http://[::1", "cannot be parsed"),
    ("http://ev\\il@{host}/v1/Sinks", "cannot be parsed"),
    ("http://\u2100/", "cannot be parsed"),
    ("https://][x@/v1/Sinks", "cannot be parsed"),  # yarl raises IndexError on it
    ("https://{host}/v1/Sinks?Page=1", "another origin"),
    ("//attacker.example/v1/Sinks", "another origin"),
    ("http://{hostname}:1/v1/Sinks", "another origin"),  # the same host, another port
]


@pytest.mark.parametrize(("template", "reason"), HOSTILE_NEXT)
async def test_a_hostile_next_page_url_is_a_pagination_error(template: str, reason: str) -> None:
    seen: list[str] = []
    next_urls: list[str | None] = [None]
    async with serve(linked_pages(next_urls, seen)) as url, loopback_client(url) as client:
        host = url.removeprefix("http://")
        next_urls[0] = template.format(host=host, hostname=host.split(":")[0])
        with pytest.raises(PaginationError, match=reason):
            await client.sinks.list().collect()
    assert len(seen) == 1  # nothing more was sent


@pytest.mark.parametrize(
    "next_urls",
    [
        [f"/v1/Sinks?Page=0#{n}" for n in range(2000)],  # a new fragment each time
        ["/v1/Sinks?Page=0&PageToken=PT0"] * 2000,  # the same request again
    ],
    ids=["fragment", "repeat"],
)
async def test_the_same_request_is_never_sent_twice(next_urls: list[str | None]) -> None:
    """A relative next page is resolved on the list's origin; one already read is a loop."""
    seen: list[str] = []
    async with serve(linked_pages(next_urls, seen)) as url, loopback_client(url) as client:
        with pytest.raises(PaginationError, match="already read: the list loops"):
            await client.sinks.list().collect()
    assert seen == ["/v1/Sinks", next_urls[0].partition("#")[0]]


async def test_a_chain_that_does_not_advance_is_a_pagination_error() -> None:
    # A throwaway parameter makes each URL new; the page number gives it away.
    seen: list[str] = []
    next_urls: list[str | None] = [f"/v1/Sinks?Page=0&x={n}" for n in range(2000)]
    async with serve(linked_pages(next_urls, seen, page=0)) as url, loopback_client(url) as client:
        with pytest.raises(PaginationError, match="does not advance"):
            await client.sinks.list().collect()
    assert len(seen) == 2


# --- the 2010 Accounts API's list, through the same paginator -----------------------

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
