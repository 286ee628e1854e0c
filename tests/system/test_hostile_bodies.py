"""Rule: a response body is read under a cap (after decompression), never whole.

Memory is measured in a child process (tests/memory_probe.py) so the figure is the
client's own peak RSS, not pytest's.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from events_async import ResponseDecodeError, Sink

from ..hostile import head, json_response, raw_server, read_request
from ..support import SINK_SID, TESTS, connections_in_use, counted_session, loopback_client

PROBE = TESTS / "memory_probe.py"
CAP_MIB = 32
ALLOWANCE_MIB = 8  # "cap + a few MiB"


@pytest.mark.parametrize(
    "scenario",
    [
        "declared",  # Content-Length: 512 MiB
        "undeclared",  # 512 MiB, no length, until the connection closes
        "gzip",  # 256 KiB of gzip inflating to 256 MiB
        "items",  # a 30 MB page of ten million `{}` items, fetched with limit=1
    ],
)
def test_a_hostile_body_costs_at_most_the_cap_in_memory(scenario: str) -> None:
    finished = subprocess.run(
        [sys.executable, str(PROBE), scenario],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(finished.stdout.strip().splitlines()[-1])

    assert result["raised"] == "ResponseDecodeError", result
    assert result["growth_mib"] < CAP_MIB + ALLOWANCE_MIB, result


async def test_the_cap_is_configurable_and_counts_the_inflated_size() -> None:
    import gzip

    body = json.dumps({"sid": SINK_SID, "description": "x" * 5000}).encode()
    packed = gzip.compress(body)

    async def conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(
                head(Content_Type="application/json", Content_Encoding="gzip").replace(
                    b"\r\n\r\n", f"\r\nContent-Length: {len(packed)}\r\n\r\n".encode()
                )
                + packed
            )
            await writer.drain()

    async with raw_server(conversation) as url:
        async with loopback_client(url, max_response_bytes=len(body)) as client:
            assert (await client.sinks.fetch(SINK_SID)).sid == SINK_SID
        async with loopback_client(url, max_response_bytes=len(body) - 1) as client:
            with pytest.raises(ResponseDecodeError, match=r"over the .*-byte limit"):
                await client.sinks.fetch(SINK_SID)


@pytest.mark.parametrize("declared", [True, False])
async def test_over_the_cap_the_connection_is_closed_not_drained(declared: bool) -> None:
    connections = 0
    sent = 0
    block = b" " * 65536

    async def conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections, sent
        connections += 1
        await read_request(reader)
        length = {"Content_Length": 128 * len(block)} if declared else {"Connection": "close"}
        writer.write(head(Content_Type="application/json", **length) + b"{")
        for _ in range(128):  # 8 MiB, unless the client hangs up
            writer.write(block)
            await writer.drain()
            sent += len(block)

    cap = 256 * 1024
    async with (
        raw_server(conversation) as url,
        counted_session() as session,
        loopback_client(url, max_response_bytes=cap, session=session) as c,
    ):
        for _ in range(3):
            with pytest.raises(ResponseDecodeError):
                await c.sinks.fetch(SINK_SID)
        assert connections_in_use(session) == 0
    assert connections == 3  # each refused body's connection closed, none reused
    assert sent < 3 * 8 * 1024 * 1024  # and none read to its end


async def test_a_limit_builds_only_the_items_it_yields() -> None:
    # Items past the limit are malformed: reading them would fail the page.
    items = [{"sid": SINK_SID}] + [{"sid": 5}] * 5000
    page = json.dumps({"sinks": items, "meta": {"page": 0, "key": "sinks"}}).encode()

    async def conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(json_response(page))
        await writer.drain()

    async with raw_server(conversation) as url, loopback_client(url) as client:
        assert await client.sinks.list(limit=1).collect() == [Sink(sid=SINK_SID)]
