"""Hostile servers for the limit tests: raw asyncio sockets that trickle, flood and drop.

aiohttp.web is polite by construction (it frames, it answers); these speak HTTP/1.1 by
hand so a test can send exactly the bytes, at exactly the pace, a broken or malicious
server would.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

Conversation = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

PAGE_JSON = b'{"sinks": [], "meta": {"page": 0, "page_size": 50, "key": "sinks"}}'


@contextlib.asynccontextmanager
async def raw_server(conversation: Conversation) -> AsyncIterator[str]:
    """Serve each connection with `conversation`; yields the origin (http://127.0.0.1:port)."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await conversation(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client hung up, or the test is over
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The request line and headers of the next request (its body is ignored: GETs)."""
    return await reader.readuntil(b"\r\n\r\n")


def head(status: str = "200 OK", **headers: str | int) -> bytes:
    """A status line and headers, ready to write."""
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_response(body: bytes, status: str = "200 OK") -> bytes:
    """A whole keep-alive JSON response."""
    return head(status, Content_Type="application/json", Content_Length=len(body)) + body


def gzip_bomb(inflated: int) -> bytes:
    """`inflated` bytes of JSON-looking whitespace, gzip-compressed (about 1000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    parts = [compressor.compress(b"{")]
    for _ in range(inflated // len(block)):
        parts.append(compressor.compress(block))
    parts.append(compressor.compress(b"}") + compressor.flush())
    return b"".join(parts)


def trickle(before: bytes, drip: bytes, *, interval: float, forever: bool = True) -> Conversation:
    """Answer with `before`, then `drip` one byte every `interval` seconds."""

    async def conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(before)
        await writer.drain()
        while True:
            for byte in drip:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(interval)
            if not forever:
                return

    return conversation
