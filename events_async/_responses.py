"""What the transport makes of an answer: the body read under a cap, JSON, or an error.

Sans models: success bodies become decoded JSON objects, failures become the exception
tree's `ApiError`s and `ResponseDecodeError`s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from yarl import URL

from .errors import ApiError, ResponseDecodeError, error_class_for, undecodable_error_class_for

if TYPE_CHECKING:
    from ._deadline import Watch

__all__ = ["Answer", "api_error", "decode_success", "read_capped"]

SNIPPET_LENGTH = 200
# Parsed JSON outweighs its text: `{}` is 2 bytes on the wire and 64 in memory. A page
# holds at most 1,000 items of a few objects each, so a large body with more brackets
# than this is refused before it is parsed (a bracket inside a string counts too).
MAX_JSON_CONTAINERS = 200_000
_SCAN_CONTAINERS_ABOVE = 1 << 20


class Answer:
    """What came back for one attempt: status, the header we care about, the body."""

    __slots__ = ("body", "retry_after", "status")

    def __init__(self, status: int, retry_after: str | None, body: bytes | bytearray) -> None:
        self.status = status
        self.retry_after = retry_after
        self.body = body


def _too_large(method: str, url: URL, status: int, cap: int) -> ResponseDecodeError:
    return ResponseDecodeError(
        f"{method} {url} returned a body over the {cap}-byte limit (HTTP {status}); "
        "raise max_response_bytes if this is expected",
        status=status,
    )


async def read_capped(
    response: aiohttp.ClientResponse,
    cap: int,
    method: str,
    url: URL,
    watch: Watch | None = None,
) -> bytes | bytearray:
    """The body, read as it arrives and counted after decompression.

    Past `cap` bytes the connection is closed (not drained, not reused) and nothing more
    is buffered: `ResponseDecodeError`. Each chunk is progress for `watch`'s read
    deadline.
    """
    declared = response.content_length
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    if declared is not None and not encoded:
        if declared > cap:
            response.close()
            raise _too_large(method, url, response.status, cap)
        return await _read_declared(response, declared, watch)
    body = bytearray()  # grown in place: no second copy of a large body
    async for chunk in response.content.iter_any():
        if watch is not None:
            watch.moved()
        if len(body) + len(chunk) > cap:
            response.close()
            raise _too_large(method, url, response.status, cap)
        body += chunk
    return body


async def _read_declared(
    response: aiohttp.ClientResponse,
    length: int,
    watch: Watch | None,
) -> bytes | bytearray:
    """A body whose length is known (aiohttp stops at it): into one buffer of that size,
    so a large body is never copied while it grows."""
    first = await response.content.readany()
    if len(first) >= length:
        return first  # all of it at once (a fetch): no read left to watch
    body = bytearray(length)
    view = memoryview(body)
    view[: len(first)] = first
    size = len(first)
    if watch is not None:
        watch.moved()
    async for chunk in response.content.iter_any():
        if watch is not None:
            watch.moved()
        view[size : size + len(chunk)] = chunk
        size += len(chunk)
    view.release()
    if size < length:  # the connection ended early; aiohttp raises before this
        del body[size:]
    return body


def _snippet(raw: bytes | bytearray) -> str:
    return bytes(raw[:SNIPPET_LENGTH]).decode("utf-8", errors="replace")


def decode_success(answer: Answer, method: str, url: URL) -> dict[str, Any] | None:
    """The JSON object of a 2xx answer; None for 204."""
    if answer.status == 204:
        return None
    body = answer.body
    if (
        len(body) > _SCAN_CONTAINERS_ABOVE
        and body.count(b"{") + body.count(b"[") > MAX_JSON_CONTAINERS
    ):
        raise ResponseDecodeError(
            f"{method} {url} returned JSON with over {MAX_JSON_CONTAINERS} objects and "
            f"arrays (HTTP {answer.status}); not parsing it",
            status=answer.status,
            snippet=_snippet(body),
        )
    try:
        data = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        what = "an empty body" if not answer.body else "a body that is not JSON"
        raise ResponseDecodeError(
            f"{method} {url} returned {what} (HTTP {answer.status})",
            status=answer.status,
            snippet=_snippet(answer.body),
        ) from None
    if not isinstance(data, dict):
        raise ResponseDecodeError(
            f"{method} {url} returned JSON {type(data).__name__}, not an object "
            f"(HTTP {answer.status})",
            status=answer.status,
            snippet=_snippet(answer.body),
        )
    return data


def api_error(answer: Answer, method: str, url: URL, retry_after: float | None) -> ApiError:
    """The `ApiError` for a non-2xx answer, from Twilio's error JSON when there is one."""
    fields: dict[str, Any] = {"status": answer.status, "method": method, "url": str(url)}
    if answer.status == 429:
        fields["retry_after"] = retry_after
    try:
        data = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        snippet = _snippet(answer.body)
        return undecodable_error_class_for(answer.status)(
            snippet=snippet, message=f"error body is not JSON: {snippet!r}", **fields
        )
    code = data.get("code")
    more_info = data.get("more_info")
    return error_class_for(answer.status)(
        code=code if type(code) is int else None,
        message=str(data.get("message") or ""),
        more_info=more_info if isinstance(more_info, str) else None,
        details=data.get("details"),
        **fields,
    )
