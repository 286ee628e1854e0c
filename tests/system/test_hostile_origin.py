"""Rules: only the configured origin sees credentials, and a list never loops.

`region`/`edge` are DNS labels; redirects are never followed; a `next_page_url` that
cannot be parsed, carries userinfo or names another origin is a `PaginationError`;
requests are compared as sent, and a chain of pages that does not advance stops.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest
from aiohttp import web

from events_async import ApiError, EventsClient, InvalidRequestError, PaginationError
from events_async.audit import audit_account, audit_accounts

from ..support import ACCOUNT_SID, AUTH_TOKEN, loopback_client, serve

HOSTILE_HOSTS = [
    "attacker.example/",
    "attacker.example",
    "a/b",
    "evil.com#",
    "x:1",
    "user@x",
    "-bad",
    "bad-",
    "",
    " us1",
    "us1\n",
    "ü",
    "a" * 64,
]


@pytest.mark.parametrize("value", HOSTILE_HOSTS)
@pytest.mark.parametrize("option", ["region", "edge"])
def test_region_and_edge_accept_one_dns_label_only(option: str, value: str) -> None:
    with pytest.raises(InvalidRequestError, match=option):
        EventsClient(ACCOUNT_SID, AUTH_TOKEN, **{option: value})


@pytest.mark.parametrize("value", HOSTILE_HOSTS[:4])
@pytest.mark.parametrize("variable", ["TWILIO_REGION", "TWILIO_EDGE"])
def test_the_environment_cannot_move_the_origin_either(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidRequestError):
        EventsClient(ACCOUNT_SID, AUTH_TOKEN)


def test_good_labels_make_twilio_hosts() -> None:
    client = EventsClient(ACCOUNT_SID, AUTH_TOKEN, region="IE1", edge="dublin")
    assert client.base_url == "https://events.dublin.ie1.twilio.com"


def _page_app(next_urls: list[str | None], seen: list[str], *, page: Any = None) -> web.Application:
    """A list endpoint that answers with the next of `next_urls` as next_page_url."""

    async def sinks(request: web.Request) -> web.Response:
        seen.append(str(request.rel_url))
        index = len(seen) - 1
        meta = {
            "page": index if page is None else page,
            "page_size": 1,
            "key": "sinks",
            "next_page_url": next_urls[min(index, len(next_urls) - 1)],
        }
        return web.json_response({"sinks": [{"sid": "DG" + "0" * 32}], "meta": meta})

    async def other(request: web.Request) -> web.Response:
        return web.json_response({"sinks": [], "meta": {"key": "sinks"}})

    app = web.Application()
    app.router.add_get("/v1/Sinks", sinks)
    app.router.add_get("/v1/Subscriptions", other)
    app.router.add_get("/v1/Types", other)
    return app


HOSTILE_NEXT = [
    ("http://user:pass@{host}/v1/Sinks?Page=1", "userinfo"),
    ("javascript:alert(1)", "not an http"),
    ("file:///etc/passwd", "not an http"),
    ("http://{hostname}:99999/v1/Sinks", "cannot be parsed"),
    ("http://[::1", "cannot be parsed"),
    ("http://ev\\il@{host}/v1/Sinks", "cannot be parsed"),
    ("http://\u2100/", "cannot be parsed"),
    ("https://{host}/v1/Sinks?Page=1", "another origin"),
    ("//attacker.example/v1/Sinks", "another origin"),
]


@pytest.mark.parametrize(("template", "reason"), HOSTILE_NEXT)
async def test_a_hostile_next_page_url_is_a_pagination_error(template: str, reason: str) -> None:
    seen: list[str] = []
    next_urls: list[str | None] = [None]
    async with serve(_page_app(next_urls, seen)) as url, loopback_client(url) as client:
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
    seen: list[str] = []
    async with serve(_page_app(next_urls, seen)) as url, loopback_client(url) as client:
        with pytest.raises(PaginationError, match="already read"):
            await client.sinks.list().collect()
    assert len(seen) == len(set(seen)) <= 3


async def test_a_chain_that_does_not_advance_is_a_pagination_error() -> None:
    # A throwaway parameter makes each URL new; the page number gives it away.
    seen: list[str] = []
    next_urls: list[str | None] = [f"/v1/Sinks?Page=0&x={n}" for n in range(2000)]
    async with serve(_page_app(next_urls, seen, page=0)) as url, loopback_client(url) as client:
        with pytest.raises(PaginationError, match="does not advance"):
            await client.sinks.list().collect()
    assert len(seen) == 2


async def test_an_audit_turns_a_hostile_list_into_a_finding() -> None:
    seen: list[str] = []
    app = _page_app(["http://[::1"], seen)
    async with serve(app) as url, loopback_client(url) as client:
        report = await audit_account(client)
    assert [(f.code, f.subject) for f in report.findings] == [("AUDIT_INCOMPLETE", "sinks")]
    assert "next_page_url cannot be parsed" in report.findings[0].message


async def test_audit_accounts_keeps_every_report_when_one_fails() -> None:
    seen: list[str] = []
    async with serve(_page_app(["javascript:x"], seen)) as url:
        reports = await audit_accounts(
            [(ACCOUNT_SID, AUTH_TOKEN), ("not-a-sid", "token"), (AUTH_TOKEN, ACCOUNT_SID)],
            base_url=url,
            max_retries=0,
        )
    assert [r.account_sid for r in reports] == [ACCOUNT_SID, "account #2", "account #3"]
    assert all(r.has_errors for r in reports)
    assert all(AUTH_TOKEN not in f.message for r in reports for f in r.findings)


async def _list_sinks_with_the_command(url: str) -> tuple[int | None, bytes]:
    """`events-async sinks list` against `url` in a subprocess: exit status and stderr."""
    env = {**os.environ, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "events_async", "sinks", "list", "--base-url", url),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    return process.returncode, stderr


async def test_the_command_prints_one_line_for_a_hostile_list() -> None:
    seen: list[str] = []
    async with serve(_page_app(["http://\u2100/\n\x1b[31m"], seen)) as url:
        returncode, stderr = await _list_sinks_with_the_command(url)
    assert returncode == 1
    lines = stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("events-async: error: next_page_url cannot be parsed")
    assert "\x1b" not in stderr.decode()


async def test_redirects_are_never_followed() -> None:
    elsewhere: list[str] = []

    async def other(request: web.Request) -> web.Response:
        elsewhere.append(request.headers.get("Authorization", ""))
        return web.json_response({})

    other_app = web.Application()
    other_app.router.add_get("/{tail:.*}", other)
    async with serve(other_app) as other_url:

        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound(f"{other_url}/v1/Sinks/{request.match_info['sid']}")

        app = web.Application()
        app.router.add_get("/v1/Sinks/{sid}", redirect)
        async with serve(app) as url, loopback_client(url) as client:
            with pytest.raises(ApiError) as raised:
                await client.sinks.fetch("DG" + "0" * 32)
    assert raised.value.status == 302
    assert elsewhere == []


async def test_the_command_escapes_what_the_server_says() -> None:
    async def refuse(request: web.Request) -> web.Response:
        message = "bad\nevents-async: all good\x1b[2J\u202eevil"
        return web.json_response({"code": 20001, "message": message, "status": 400}, status=400)

    app = web.Application()
    app.router.add_get("/v1/Sinks", refuse)
    async with serve(app) as url:
        returncode, stderr = await _list_sinks_with_the_command(url)
    text = stderr.decode()
    assert returncode == 1
    assert text.count("\n") == 1
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "bad\\x0aevents-async: all good\\x1b[2J\\u202eevil" in text
