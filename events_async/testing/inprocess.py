"""The fake in process: a transport that hands each request to a `FakeEventsServer`'s
aiohttp application directly, with no socket and no port.

```python
fake = FakeEventsServer()
async with fake.client(transport=fake.transport()) as client:   # never started
    await client.sinks.list().collect()
```

Requests are built with aiohttp's own test tooling (`aiohttp.test_utils.
make_mocked_request`), routed by the application's router and answered by the same
handlers, faults and recording as on a socket; only the wire is missing. A fault that
drops the connection raises `aiohttp.ServerDisconnectedError`, as a dropped connection
does. The client's own timeouts belong to the aiohttp transport; `timeout` here bounds
each request in seconds (None: no bound).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.streams import EmptyStreamReader, StreamReader
from aiohttp.test_utils import make_mocked_request

from .._validate import check_seconds
from ..transport import Request, Response

if TYPE_CHECKING:
    from .server import FakeEventsServer

__all__ = ["IN_PROCESS_URL", "InProcessTransport"]

IN_PROCESS_URL = "http://fake-events.invalid"
"""The origin a client of a fake that was never started uses (`.invalid`: never a host)."""


class _Wire:
    """The request's transport as the handlers see it: it remembers being aborted."""

    __slots__ = ("aborted",)

    def __init__(self) -> None:
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.aborted

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class InProcessTransport:
    """An `AsyncTransport` answered by a `FakeEventsServer` in the same process."""

    def __init__(self, fake: FakeEventsServer, *, timeout: float | None = None) -> None:
        self.fake = fake
        self.timeout = None if timeout is None else check_seconds(timeout, "timeout")
        self._app = fake.application()

    def __repr__(self) -> str:
        return f"<InProcessTransport to {self.fake!r}>"

    async def handle_async_request(self, request: Request) -> Response:
        """The fake's answer to `request`, computed in this process."""
        if self.timeout is None:
            return await self._dispatch(request)
        return await asyncio.wait_for(self._dispatch(request), self.timeout)

    async def _dispatch(self, request: Request) -> Response:
        url = request.url
        headers = {**request.headers, "Host": url.raw_authority}
        target = url.raw_path_qs
        probe = make_mocked_request(request.method, target, headers, app=self._app)
        resolved = await self._app.router.resolve(probe)
        wire = _Wire()
        served = make_mocked_request(
            request.method,
            target,
            headers,
            match_info=dict(resolved),
            app=self._app,
            transport=wire,
            payload=_payload(request.body),
        )
        resource = resolved.route.resource
        route = resource.canonical if resource is not None else served.path
        try:
            answer = await self.fake.serve(served, resolved.handler, route)
        except web.HTTPException as exc:  # a status below 400, which the fake passes on
            return Response(exc.status, headers=exc.headers, body=(exc.text or "").encode())
        if wire.aborted:
            raise aiohttp.ServerDisconnectedError("the fake dropped the connection")
        if not isinstance(answer, web.Response):
            raise TypeError(f"the fake answered with a {type(answer).__name__}, not a Response")
        body = answer.body
        return Response(
            answer.status,
            headers=answer.headers,
            body=body if isinstance(body, (bytes, bytearray)) else b"",
        )


def _payload(body: bytes | None) -> StreamReader:
    if not body:
        return EmptyStreamReader()
    loop = asyncio.get_running_loop()
    reader = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    reader.feed_data(body)
    reader.feed_eof()
    return reader
