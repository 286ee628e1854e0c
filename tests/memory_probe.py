"""Run in a child process by test_limits: one hostile body against a real client.

`python tests/memory_probe.py SCENARIO` serves the scenario on loopback, fetches it with
an `EventsClient` (default body cap), and prints one JSON line: the exception raised and
how far the process's peak RSS rose above its RSS before the request, in MiB.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events_async import EventsClient
from tests.hostile import gzip_bomb, head, raw_server, read_request

MIB = 1 << 20
BLOCK = b" " * MIB


def status_kib(field: str) -> int:
    """A `/proc/self/status` figure in KiB (`VmRSS`, `VmHWM`)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak() -> None:
    """Peak RSS := RSS now (Linux), so earlier peaks do not count."""
    Path("/proc/self/clear_refs").write_text("5")


def _prepared(scenario: str) -> bytes:
    """The scenario's whole answer when it is small enough to build before measuring."""
    if scenario == "gzip":  # 256 KiB on the wire, 256 MiB inflated
        bomb = gzip_bomb(256 * MIB)
        encoding = {"Content_Encoding": "gzip"}
        return head(Content_Type="application/json", Content_Length=len(bomb), **encoding) + bomb
    if scenario == "items":  # a page of ten million empty items, 30 MB: under the cap
        items = b"{}," * 10_000_000
        body = b'{"meta": {"page": 0, "key": "sinks"}, "sinks": [' + items[:-1] + b"]}"
        return head(Content_Type="application/json", Content_Length=len(body)) + body
    return b""


def _conversation(scenario: str, prepared: bytes) -> object:
    async def conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if scenario == "declared":  # 512 MiB announced by Content-Length
            writer.write(head(Content_Type="application/json", Content_Length=512 * MIB))
            blocks = 512
        elif scenario == "undeclared":  # 512 MiB until the connection closes
            writer.write(head(Content_Type="application/json", Connection="close"))
            blocks = 512
        else:  # in slices, so the server's own send buffer stays small
            view = memoryview(prepared)
            for start in range(0, len(view), MIB):
                writer.write(view[start : start + MIB])
                await writer.drain()
            return
        writer.write(b"{")
        for _ in range(blocks):
            writer.write(BLOCK)
            await writer.drain()

    return conversation


async def main(scenario: str) -> None:
    prepared = _prepared(scenario)
    async with raw_server(_conversation(scenario, prepared)) as url:  # type: ignore[arg-type]
        client = EventsClient("AC" + "0" * 32, "token", base_url=url, max_retries=0)
        async with client:
            reset_peak()
            before = status_kib("VmRSS")
            try:
                if scenario == "items":
                    await client.sinks.list(limit=1).collect()
                else:
                    await client.sinks.fetch("DG" + "0" * 32)
            except Exception as exc:
                raised = type(exc).__name__
                message = str(exc)
            else:
                raised, message = "nothing", ""
            peak = status_kib("VmHWM")
    growth = (peak - before) / 1024
    print(json.dumps({"raised": raised, "message": message, "growth_mib": growth}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
