"""The fake's answers in Twilio's shape: its errors, aiohttp's own refusals, the answers
of injected faults, and the record of each exchange (`record=True`)."""

from __future__ import annotations

import attrs
from aiohttp import web

from .faults import Fault
from .state import FakeError

__all__ = ["Exchange", "error_response", "exchange", "http_refusal", "misbehave"]


@attrs.frozen
class Exchange:
    """One request the fake answered, as recorded with `record=True`."""

    method: str
    path: str
    query: dict[str, str]
    form: list[tuple[str, str]]
    status: int
    body: bytes


def error_response(error: FakeError, headers: dict[str, str] | None = None) -> web.Response:
    """A `FakeError` as Twilio's JSON error body, with its status."""
    return web.json_response(
        {
            "code": error.code,
            "message": error.message,
            "more_info": f"https://www.twilio.com/docs/errors/{error.code}",
            "status": error.status,
        },
        status=error.status,
        headers=headers,
    )


def http_refusal(request: web.Request, refused: web.HTTPException) -> web.Response:
    """aiohttp's own 4xx (no route, wrong method, body too large) in Twilio's shape."""
    if refused.status == 404:
        message = f"The requested resource {request.path} was not found"
        return error_response(FakeError(404, 20404, message))
    if isinstance(refused, web.HTTPMethodNotAllowed):
        allow = ", ".join(sorted(refused.allowed_methods))
        return error_response(FakeError(405, 20004, "Method not allowed"), {"Allow": allow})
    return error_response(FakeError(refused.status, 20001, refused.reason))


def misbehave(request: web.Request, fault: Fault) -> web.StreamResponse:
    """What an injected fault answers: a dropped connection, a malformed body, or an
    error status (with its `Retry-After`) in Twilio's shape."""
    if fault.drop:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)
    if fault.malformed:
        return web.Response(status=200, body=b'{"sid": "DG', content_type="application/json")
    status = fault.status or 500
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
    code = 20429 if status == 429 else 20500 if status >= 500 else 20001
    message = "Too Many Requests" if status == 429 else "Injected fault"
    return error_response(FakeError(status, code, message), headers)


async def exchange(request: web.Request, response: web.StreamResponse) -> Exchange:
    """The record of one request and the fake's answer to it."""
    form = await request.post() if request.method == "POST" else {}
    body = response.body if isinstance(response, web.Response) else b""
    return Exchange(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        form=[(k, v) for k, v in form.items() if isinstance(v, str)],
        status=response.status,
        body=body if isinstance(body, bytes) else b"",
    )
