"""Subaccount discovery: the 2010 Accounts API, its paging, its filters and its guards."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from aiohttp import web
from aioresponses import aioresponses

from events_async.accounts import AccountsClient
from events_async.errors import (
    ApiError,
    AuthenticationError,
    EventsTimeoutError,
    InvalidRequestError,
    PaginationError,
    ResponseDecodeError,
)
from events_async.models import AccountStatus
from events_async.testing import FakeEventsServer

from ..support import ACCOUNT_SID, AUTH_TOKEN, basic_auth, decode_basic_auth, serve

PATH = "/2010-04-01/Accounts.json"
OTHER_SID = "AC" + "1" * 32


def _account(sid: str, owner: str = ACCOUNT_SID, status: str = "active") -> dict[str, object]:
    return {
        "sid": sid,
        "friendly_name": f"name of {sid}",
        "status": status,
        "owner_account_sid": owner,
        "auth_token": f"token-of-{sid}",
        "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
        "type": "Full",
    }


def parent_client(fake: FakeEventsServer, **options: object) -> AccountsClient:
    parent = fake.account
    return AccountsClient(parent.sid, parent.auth_token, base_url=fake.url, **options)  # type: ignore[arg-type]


async def test_the_owner_sees_every_subaccount_across_pages_in_order() -> None:
    async with FakeEventsServer() as fake:
        made = [fake.add_subaccount(friendly_name=f"customer {n}") for n in range(7)]
        async with parent_client(fake) as accounts:
            found = [a async for a in accounts.subaccounts(page_size=2)]
        assert [a.sid for a in found] == [a.sid for a in made]
        assert [a.auth_token for a in found] == [a.auth_token for a in made]
        assert all(a.owner_account_sid == fake.account.sid for a in found)
        assert found[0].friendly_name == "customer 0"
        assert found[0].date_created is not None
        assert found[0].date_created.tzinfo is not None
        # the parent and 7 subaccounts, two a page: four pages, each asked for once
        assert fake.request_count("GET /2010-04-01/Accounts.json") == 4


async def test_the_parent_comes_first_when_asked_for() -> None:
    async with FakeEventsServer() as fake:
        child = fake.add_subaccount()
        async with parent_client(fake) as accounts:
            found = [a async for a in accounts.subaccounts(include_parent=True)]
    assert [a.sid for a in found] == [fake.account.sid, child.sid]
    assert not found[0].is_subaccount
    assert found[1].is_subaccount


async def test_status_filters_and_all_statuses_with_none() -> None:
    async with FakeEventsServer() as fake:
        active = fake.add_subaccount()
        suspended = fake.add_subaccount(status="suspended")
        closed = fake.add_subaccount(status="closed")
        async with parent_client(fake) as accounts:
            default = [a.sid async for a in accounts.subaccounts()]
            only_suspended = [a.sid async for a in accounts.subaccounts(status="suspended")]
            every = [a.sid async for a in accounts.subaccounts(status=None)]
    assert default == [active.sid]
    assert only_suspended == [suspended.sid]
    assert every == [active.sid, suspended.sid, closed.sid]


async def test_a_subaccount_sees_only_itself() -> None:
    async with FakeEventsServer() as fake:
        child = fake.add_subaccount()
        fake.add_subaccount()
        async with AccountsClient(child.sid, child.auth_token, base_url=fake.url) as accounts:
            assert [a.sid async for a in accounts.list()] == [child.sid]
            assert [a.sid async for a in accounts.subaccounts()] == []


async def test_wrong_parent_credentials_raise_authentication_error() -> None:
    async with (
        FakeEventsServer() as fake,
        AccountsClient(fake.account.sid, "wrong", base_url=fake.url) as accounts,
    ):
        with pytest.raises(AuthenticationError):
            [a async for a in accounts.subaccounts()]


def test_the_auth_token_never_shows_in_a_repr() -> None:
    from events_async.models import Account

    account = Account(sid=OTHER_SID, auth_token="very-secret-token-value")
    assert "very-secret-token-value" not in repr(account)
    assert "very-secret-token-value" not in str(account)


async def test_wire_format_status_page_size_and_basic_auth() -> None:
    with aioresponses() as mocked:
        pattern = re.compile(r"^https://api\.twilio\.com/2010-04-01/Accounts\.json.*$")
        mocked.get(pattern, payload={"accounts": [_account(OTHER_SID)], "next_page_uri": None})
        async with AccountsClient(ACCOUNT_SID, AUTH_TOKEN) as accounts:
            found = [a async for a in accounts.subaccounts(status=AccountStatus.SUSPENDED)]
        assert found == []  # listed as active: the status is checked on what comes back
        (method, url), calls = next(iter(mocked.requests.items()))
    assert method == "GET"
    assert url.path == PATH
    assert dict(url.query) == {"Status": "suspended", "PageSize": "1000"}
    assert decode_basic_auth(calls[0].kwargs["headers"]["Authorization"]) == (
        ACCOUNT_SID,
        AUTH_TOKEN,
    )


@pytest.mark.parametrize("status", ["frozen", "ACTIVE", ""])
def test_an_unknown_status_is_refused_before_sending(status: str) -> None:
    client = AccountsClient(ACCOUNT_SID, AUTH_TOKEN)
    with pytest.raises(InvalidRequestError, match="status"):
        client.subaccounts(status=status)


def _lying_app(next_uri: str, seen: list[str]) -> web.Application:
    async def accounts(request: web.Request) -> web.Response:
        seen.append(str(request.rel_url))
        if request.headers.get("Authorization") != basic_auth(ACCOUNT_SID, AUTH_TOKEN):
            return web.json_response({"code": 20003}, status=401)
        page = int(request.query.get("Page", "0"))
        body = {"accounts": [_account(f"AC{page:032d}")], "page": 0, "next_page_uri": next_uri}
        return web.json_response(body)

    app = web.Application()
    app.router.add_get(PATH, accounts)
    return app


@pytest.mark.parametrize(
    "next_uri",
    [
        "https://attacker.example/2010-04-01/Accounts.json?Page=1",
        "//attacker.example/2010-04-01/Accounts.json?Page=1",
        "http://user:pw@127.0.0.1/2010-04-01/Accounts.json?Page=1",
        "javascript:alert(1)",
        "http://[::1",
    ],
)
async def test_next_page_uri_is_followed_only_on_the_accounts_origin(next_uri: str) -> None:
    seen: list[str] = []
    async with (
        serve(_lying_app(next_uri, seen)) as url,
        AccountsClient(ACCOUNT_SID, AUTH_TOKEN, base_url=url) as accounts,
    ):
        listed = accounts.list(status=None)
        first = await anext(listed)
        with pytest.raises(PaginationError, match="next_page_uri"):
            await anext(listed)
    assert first.sid == f"AC{0:032d}"
    assert len(seen) == 1  # nothing was sent anywhere else


async def test_a_next_page_uri_that_loops_is_refused() -> None:
    seen: list[str] = []
    async with (
        serve(_lying_app(PATH + "?PageSize=1000", seen)) as url,
        AccountsClient(ACCOUNT_SID, AUTH_TOKEN, base_url=url) as accounts,
    ):
        with pytest.raises(PaginationError, match="loops"):
            [a async for a in accounts.list(status=None)]
    assert len(seen) == 1


async def test_a_page_that_does_not_advance_is_refused() -> None:
    seen: list[str] = []
    async with (
        serve(_lying_app(PATH + "?Page=1&PageToken=x", seen)) as url,
        AccountsClient(ACCOUNT_SID, AUTH_TOKEN, base_url=url) as accounts,
    ):
        with pytest.raises(PaginationError, match="does not advance"):
            [a async for a in accounts.list(status=None)]
    assert len(seen) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"next_page_uri": None},
        {"accounts": {"sid": OTHER_SID}},
        {"accounts": [{"friendly_name": "no sid"}]},
        {"accounts": [], "next_page_uri": 7},
    ],
)
async def test_a_page_that_is_not_an_accounts_page_is_a_decode_error(body: object) -> None:
    async def accounts(request: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_get(PATH, accounts)
    async with (
        serve(app) as url,
        AccountsClient(ACCOUNT_SID, AUTH_TOKEN, base_url=url) as accounts_client,
    ):
        with pytest.raises(ResponseDecodeError):
            [a async for a in accounts_client.list()]


def test_the_accounts_origin_comes_from_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_ASYNC_ACCOUNTS_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("EVENTS_ASYNC_BASE_URL", "http://127.0.0.1:8")
    assert AccountsClient(ACCOUNT_SID, AUTH_TOKEN).base_url == "http://127.0.0.1:9"
    assert AccountsClient(ACCOUNT_SID, AUTH_TOKEN, base_url="https://api.example").base_url == (
        "https://api.example"
    )
    monkeypatch.delenv("EVENTS_ASYNC_ACCOUNTS_BASE_URL")
    assert AccountsClient(ACCOUNT_SID, AUTH_TOKEN).base_url == "https://api.twilio.com"


async def test_a_hostile_accounts_api_is_held_to_every_limit() -> None:
    """The Accounts API gets the Events API's limits: body cap, deadline, no redirects."""
    reached: list[str] = []

    async def huge(request: web.Request) -> web.Response:
        return web.json_response({"accounts": [_account(OTHER_SID)] * 50})

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"accounts": []})

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere/2010-04-01/Accounts.json")

    async def elsewhere(request: web.Request) -> web.Response:
        reached.append(request.path)
        return web.json_response({"accounts": []})

    cases: list[tuple[Any, type[Exception], dict[str, Any]]] = [
        (huge, ResponseDecodeError, {"max_response_bytes": 2048}),
        (slow, EventsTimeoutError, {"timeout": 0.2}),
        (redirect, ApiError, {}),
    ]
    for handler, error, options in cases:
        app = web.Application()
        app.router.add_get(PATH, handler)
        app.router.add_get("/elsewhere" + PATH, elsewhere)
        async with (
            serve(app) as url,
            AccountsClient(
                ACCOUNT_SID, AUTH_TOKEN, base_url=url, max_retries=0, **options
            ) as accounts,
        ):
            with pytest.raises(error):
                [a async for a in accounts.subaccounts()]
    assert reached == []  # the redirect was never followed
