"""What the transport makes of an answer: the body read under a cap, JSON, or an error.

Sans models: success bodies become decoded JSON objects, failures become the exception
tree's `ApiError`s and `ResponseDecodeError`s.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
from yarl import URL

from .errors import ApiError, ResponseDecodeError, error_class_for, undecodable_error_class_for

__all__ = ["Answer", "api_error", "decode_success", "read_capped"]

SNIPPET_LENGTH = 200


class Answer:
    """What came back for one attempt: status, the header we care about, the body."""

    __slots__ = ("body", "retry_after", "status")

    def __init__(self, status: int, retry_after: str | None, body: bytes) -> None:
        self.status = status
        self.retry_after = retry_after
        self.body = body


def _too_large(method: str, url: URL, status: int, cap: int) -> ResponseDecodeError:
    return ResponseDecodeError(
        f"{method} {url} returned a body over the {cap}-byte limit (HTTP {status}); "
        "raise max_response_bytes if this is expected",
        status=status,
    )


async def read_capped(response: aiohttp.ClientResponse, cap: int, method: str, url: URL) -> bytes:
    """The body, read as it arrives and counted after decompression.

    Past `cap` bytes the connection is closed (not drained, not reused) and nothing more
    is buffered: `ResponseDecodeError`.
    """
    declared = response.content_length
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    if declared is not None and declared > cap and not encoded:
        response.close()
        raise _too_large(method, url, response.status, cap)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > cap:
            chunks.clear()
            response.close()
            raise _too_large(method, url, response.status, cap)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _snippet(raw: bytes) -> str:
    return raw[:SNIPPET_LENGTH].decode("utf-8", errors="replace")


def decode_success(answer: Answer, method: str, url: URL) -> dict[str, Any] | None:
    """The JSON object of a 2xx answer; None for 204."""
    if answer.status == 204:
        return None
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
