"""Run in a child process by test_fleet_memory: a fleet audit's peak memory.

`python tests/fleet_memory_probe.py MODE ACCOUNTS` audits ACCOUNTS accounts (made up on
the fly, each with 40 sinks that are failed and unused: 80 findings a report) against a
loopback server that answers every account alike, and prints one JSON line: the reports
seen and how far peak RSS rose, in MiB. MODE `stream` drops each report as it arrives;
`hold` keeps them all (the control: what holding them would cost).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events_async.audit import AuditReport
from events_async.fleet import Login, audit_fleet
from tests.memory_probe import reset_peak, status_kib
from tests.support import serve


def _page(key: str, items: list[dict[str, object]]) -> bytes:
    return orjson.dumps({key: items, "meta": {"page": 0, "key": key, "next_page_url": None}})


def _app() -> web.Application:
    sinks = [
        {"sid": f"DG{n:032x}", "status": "failed", "sink_type": "kinesis", "description": f"s{n}"}
        for n in range(40)
    ]
    bodies = {
        "/v1/Types": _page("types", [{"type": "com.example.t", "schema_id": "S"}]),
        "/v1/Sinks": _page("sinks", sinks),
        "/v1/Subscriptions": _page("subscriptions", []),
    }

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=bodies[request.path], content_type="application/json")

    app = web.Application()
    for path in bodies:
        app.router.add_get(path, answer)
    return app


async def main(mode: str, count: int) -> None:
    def members() -> object:
        for n in range(count):
            yield Login(f"AC{n:032x}", f"token-{n}")

    held: list[AuditReport] = []
    seen = 0
    async with serve(_app()) as url:
        reset_peak()
        before = status_kib("VmRSS")
        async for report in audit_fleet(members(), base_url=url):  # type: ignore[arg-type]
            seen += 1
            assert len(report.findings) == 80, report.findings[:3]
            if mode == "hold":
                held.append(report)
        peak = status_kib("VmHWM")
    print(json.dumps({"reports": seen, "growth_mib": (peak - before) / 1024}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
