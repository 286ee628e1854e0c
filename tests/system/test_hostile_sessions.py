"""Rules: the library behaves the same on any session, owns every resend, and fails as
an `EventsError` — closed mid-request, moved to another loop, or its answer lost."""

from __future__ import annotations

import asyncio
import gc
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from events_async import (
    ClientClosedError,
    EventsClient,
    EventsError,
    InvalidRequestError,
    NotFoundError,
    TransportError,
)
from events_async.audit import audit_accounts
from events_async.testing import FakeEventsServer, Fault

from ..hostile import json_response, raw_server, read_request
from ..support import (
    ACCOUNT_SID,
    API_SECRET,
    AUTH_TOKEN,
    SINK_SID,
    basic_auth,
    loopback_client,
    serve,
)

OTHER_SID = "AC" + "f" * 32


def _echo_app(seen: list[dict[str, str]]) -> web.Application:
    """Fetch answers with the sink; every answer sets a cookie; 404 for an unknown SID."""

    async def fetch(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        if request.match_info["sid"] != SINK_SID:
            return web.json_response({"code": 20404, "status": 404}, status=404)
        response = web.json_response({"sid": SINK_SID})
        response.set_cookie("session", request.headers.get("Authorization", "")[-12:])
        return response

    app = web.Application()
    app.router.add_get("/v1/Sinks/{sid}", fetch)
    return app


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # users may still build one
async def test_a_session_with_a_default_auth_sends_the_clients_credentials() -> None:
    seen: list[dict[str, str]] = []
    async with (
        serve(_echo_app(seen)) as url,
        aiohttp.ClientSession(auth=aiohttp.BasicAuth("someone", "else")) as session,
        loopback_client(url, session=session) as client,
    ):
        await client.sinks.fetch(SINK_SID)
    assert seen[0]["Authorization"] == basic_auth(ACCOUNT_SID, AUTH_TOKEN)


async def test_a_session_that_raises_for_status_still_gets_our_errors() -> None:
    seen: list[dict[str, str]] = []
    async with (
        serve(_echo_app(seen)) as url,
        aiohttp.ClientSession(raise_for_status=True) as session,
        loopback_client(url, session=session, max_retries=2) as client,
    ):
        with pytest.raises(NotFoundError):
            await client.sinks.fetch("DG" + "b" * 32)
    assert len(seen) == 1  # a 404, not a retried transport failure


async def test_no_cookie_goes_back_to_the_api_on_any_session() -> None:
    seen: list[dict[str, str]] = []
    async with serve(_echo_app(seen)) as served:
        url = served.replace("127.0.0.1", "localhost")  # jars refuse cookies from IPs
        async with aiohttp.ClientSession() as session, loopback_client(url, session=session) as c:
            await c.sinks.fetch(SINK_SID)
            await c.sinks.fetch(SINK_SID)
        async with loopback_client(url) as client:
            await client.sinks.fetch(SINK_SID)
            await client.sinks.fetch(SINK_SID)
        await audit_accounts([(ACCOUNT_SID, AUTH_TOKEN), (OTHER_SID, AUTH_TOKEN)], base_url=url)
    assert seen
    assert all("Cookie" not in headers for headers in seen)


async def test_closing_the_client_during_a_request_raises_an_events_error() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(30)

    async with raw_server(stall) as url:
        client = loopback_client(url, max_retries=2)
        request = asyncio.ensure_future(client.sinks.fetch(SINK_SID))
        await asyncio.sleep(0.2)  # let it reach the server
        await client.close()
        with pytest.raises(EventsError) as raised:
            await request
    assert isinstance(raised.value, (ClientClosedError, TransportError))
    with pytest.raises(ClientClosedError):
        await client.sinks.fetch(SINK_SID)


async def test_a_closed_injected_session_raises_client_closed() -> None:
    session = aiohttp.ClientSession()
    await session.close()
    client = EventsClient(ACCOUNT_SID, AUTH_TOKEN, session=session)
    with pytest.raises(ClientClosedError):
        await client.sinks.fetch(SINK_SID)


@pytest.fixture
def threaded_api() -> Iterator[str]:
    """A keep-alive HTTP/1.1 API on a thread, alive across several `asyncio.run`s."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = json.dumps({"sid": SINK_SID}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_client_used_in_a_second_asyncio_run_works_and_leaks_nothing(
    threaded_api: str,
) -> None:
    client = loopback_client(threaded_api)

    async def fetch() -> str:
        return (await client.sinks.fetch(SINK_SID)).sid

    assert asyncio.run(fetch()) == SINK_SID  # leaves a pooled keep-alive connection
    assert asyncio.run(fetch()) == SINK_SID
    asyncio.run(client.close())
    gc.collect()  # an unclosed socket would warn here, and warnings are errors


def test_a_client_used_from_a_second_open_loop_is_refused_clearly(threaded_api: str) -> None:
    first = asyncio.new_event_loop()  # stays open while the second loop runs

    async def opened() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    session = first.run_until_complete(opened())
    client = loopback_client(threaded_api, session=session)

    async def fetch() -> str:
        return (await client.sinks.fetch(SINK_SID)).sid

    try:
        assert first.run_until_complete(fetch()) == SINK_SID
        with pytest.raises(ClientClosedError, match="another event loop"):
            asyncio.run(fetch())
        assert first.run_until_complete(fetch()) == SINK_SID  # still fine in its own loop
        first.run_until_complete(client.close())
        first.run_until_complete(session.close())
    finally:
        first.close()


def test_an_injected_session_never_moves_even_once_its_loop_is_closed(threaded_api: str) -> None:
    first = asyncio.new_event_loop()

    async def opened() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    session = first.run_until_complete(opened())
    client = loopback_client(threaded_api, session=session)

    async def fetch() -> str:
        return (await client.sinks.fetch(SINK_SID)).sid

    try:
        assert first.run_until_complete(fetch()) == SINK_SID
        first.run_until_complete(session.close())
    finally:
        first.close()
    with pytest.raises(ClientClosedError, match="another event loop"):
        asyncio.run(fetch())  # the owner's session is not the client's to remake


async def test_a_delete_whose_answer_was_lost_and_then_404_counts_as_done() -> None:
    async with FakeEventsServer() as fake, fake.client(max_retries=2) as client:
        sink = await client.sinks.create(
            description="gone",
            sink_type="kinesis",
            sink_configuration={"arn": "arn:x", "role_arn": "arn:y", "external_id": "z"},
        )
        fake.inject(Fault("DELETE /v1/Sinks/{Sid}", drop=True, after=True))
        assert await client.sinks.delete(sink.sid) is None  # type: ignore[arg-type]
        assert fake.request_count("DELETE /v1/Sinks/{Sid}") == 2
        with pytest.raises(NotFoundError):  # a plain 404 still raises
            await client.sinks.delete(sink.sid)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "secret"),
    [
        ({"account_sid": AUTH_TOKEN, "auth_token": ACCOUNT_SID}, AUTH_TOKEN),
        ({"api_key": API_SECRET, "api_secret": "x"}, API_SECRET),
        ({"account_sid": "AC" + "0" * 31 + "g", "auth_token": AUTH_TOKEN}, "0" * 31 + "g"),
    ],
)
def test_a_credential_that_fails_its_check_is_never_echoed(
    kwargs: dict[str, str], secret: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        EventsClient(**kwargs)
    assert secret not in str(raised.value)
    assert secret not in repr(raised.value)


def _stale_keep_alive(requests: list[bytes]) -> Any:
    """Answers the first request on each connection, then drops the next one unanswered:
    a keep-alive connection the server closed while it sat in the client's pool."""

    async def conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await read_request(reader))
        writer.write(json_response(b'{"sid": "' + SINK_SID.encode() + b'"}'))
        await writer.drain()
        requests.append(await read_request(reader))  # and hang up without a word

    return conversation


@pytest.mark.parametrize("own", [True, False], ids=["own session", "injected session"])
async def test_a_dropped_keep_alive_connection_is_never_resent_silently(own: bool) -> None:
    requests: list[bytes] = []
    async with (
        raw_server(_stale_keep_alive(requests)) as url,
        aiohttp.ClientSession() as mine,
        loopback_client(url, max_retries=0, session=None if own else mine) as client,
    ):
        await client.sinks.fetch(SINK_SID)
        with pytest.raises(TransportError):
            await client.sinks.fetch(SINK_SID)
    assert len(requests) == 2  # max_retries=0: exactly one attempt on the wire each
