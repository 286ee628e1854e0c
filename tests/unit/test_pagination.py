"""Pagination over a real loopback server: pages, limits, PageSize, origin and loop guards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from aiohttp import web

from events_async import (
    AsyncPaginator,
    EventsClient,
    InvalidRequestError,
    PaginationError,
    ResponseDecodeError,
    Sink,
)

from ..support import loopback_client, serve


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
    with pytest.raises(InvalidRequestError, match="page_size"):
        client.sinks.list(page_size=page_size)
    assert pages.requests == []


@pytest.mark.parametrize("limit", [0, -5, False])
def test_limit_must_be_positive(client: EventsClient, limit: Any) -> None:
    with pytest.raises(InvalidRequestError, match="limit"):
        client.sinks.list(limit=limit)


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


async def test_same_host_other_port_counts_as_foreign(
    client: EventsClient, pages: SinkPages
) -> None:
    pages.next_page_url = "http://127.0.0.1:1/v1/Sinks?PageToken=50"

    with pytest.raises(PaginationError):
        await client.sinks.list(page_size=50).collect()


async def test_a_next_page_already_read_is_a_loop(client: EventsClient, pages: SinkPages) -> None:
    pages.next_page_url = "{origin}/v1/Sinks?PageSize=50&PageToken=50"

    with pytest.raises(PaginationError, match="already read"):
        await client.sinks.list(page_size=50).collect()
    assert len(pages.requests) == 2


async def test_a_relative_next_page_resolves_on_the_same_origin(
    client: EventsClient, pages: SinkPages
) -> None:
    pages.count = 60
    pages.next_page_url = "/v1/Sinks?PageSize=50&PageToken=50"

    with pytest.raises(PaginationError, match="already read"):
        await client.sinks.list(page_size=50).collect()
    assert [r.get("PageToken") for r in pages.requests] == [None, "50"]


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
