"""Rules: only the configured origin sees credentials, as the audit and the command see it.

Redirects are never followed; a hostile list is an audit finding, never a lost report,
and the command's one line of error. (The pagination guards themselves are pinned in
tests/unit/test_paginator.py; `region` and `edge` in tests/unit/test_client.py.)
"""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from aiohttp import web

from events_async import ApiError
from events_async.audit import audit_account, audit_accounts

from ..support import ACCOUNT_SID, AUTH_TOKEN, linked_pages, loopback_client, serve


async def test_an_audit_turns_a_hostile_list_into_a_finding() -> None:
    seen: list[str] = []
    app = linked_pages(["http://[::1"], seen)
    async with serve(app) as url, loopback_client(url) as client:
        report = await audit_account(client)
    assert [(f.code, f.subject) for f in report.findings] == [("AUDIT_INCOMPLETE", "sinks")]
    assert "next_page_url cannot be parsed" in report.findings[0].message


async def test_audit_accounts_keeps_every_report_when_one_fails() -> None:
    seen: list[str] = []
    async with serve(linked_pages(["javascript:x"], seen)) as url:
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
    async with serve(linked_pages(["http://\u2100/\n\x1b[31m"], seen)) as url:
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
