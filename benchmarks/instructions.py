"""Instructions per call on the client's hot path: `python -m benchmarks.instructions`.

Timing on a shared machine moves by up to 2x between runs; instruction counts do not. Each
workload runs twice under `valgrind --tool=callgrind` (`PYTHONHASHSEED=0`), at two lengths,
and the difference of the two totals divided by the difference of the lengths is the cost
of one unit, with start-up, imports and warm-up cancelled out:

- `fetch` / `sinks` / `events` — **library only**, no socket: an `EventsClient` over
  `MockTransport` answering the benchmark server's own pre-rendered bodies (one
  subscription; a page of 1,000 sinks; a page of 1,000 subscribed events), so only our
  code is counted: the policy, request building, JSON decoding, the models, the paginator;
- `audit` — **library only**: `audit_account` of one fleet account (10 sinks, 10
  subscriptions of 10 types, as `benchmarks.fleet_server` renders it) over `MockTransport`,
  every account sharing one `SharedCatalog` as `audit_fleet`'s do, each report rendered as
  its JSON line (unit: one account);
- `sock-fetch-raw` / `sock-fetch-ours` — fetches of one subscription over a socket, 50 in
  flight, by raw aiohttp + orjson and by this library (unit: one fetch);
- `sock-list-raw` / `sock-list-ours` — the server's 20,000 sinks by pages of 1,000 (unit:
  one page), each item visited.

The socket workloads talk to `benchmarks.server` in its own process, which is not counted.
`--run MODE N` runs one workload N units without valgrind (what valgrind runs; the test
suite runs it at tiny sizes so it cannot rot).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from .server import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SUBSCRIPTION_SID,
    PagedList,
    sink,
    subscribed_event,
    subscription,
)

LIBRARY_ONLY = ("fetch", "sinks", "events", "audit")
OVER_SOCKET = ("sock-fetch-raw", "sock-fetch-ours", "sock-list-raw", "sock-list-ours")
MODES = LIBRARY_ONLY + OVER_SOCKET
DEFAULT_LENGTHS = {"fetch": (100, 600), "sinks": (1, 4), "events": (1, 4), "audit": (5, 25)}
SOCKET_LENGTHS = {"fetch": (200, 1200), "list": (1, 3)}
IN_FLIGHT = 50
PAGE = 1000
MOCK_ORIGIN = "http://fake-events.invalid"


def _page(key: str, path: str, items: list[dict[str, object]]) -> bytes:
    """One page holding all of `items`, rendered by the benchmark server's own code."""
    return PagedList(key, path, [orjson.dumps(item) for item in items]).page(MOCK_ORIGIN, PAGE, 0)


def _library_call(
    mode: str,
) -> tuple[Callable[[], Awaitable[object]], Callable[[], Awaitable[None]]]:
    from events_async import EventsClient
    from events_async.transport import MockTransport, Request, Response

    events_path = f"/v1/Subscriptions/{SUBSCRIPTION_SID}/SubscribedEvents"
    bodies = {
        f"/v1/Subscriptions/{SUBSCRIPTION_SID}": orjson.dumps(subscription(MOCK_ORIGIN)),
        "/v1/Sinks": _page("sinks", "/v1/Sinks", [sink(MOCK_ORIGIN, i) for i in range(PAGE)]),
        events_path: _page(
            "types", events_path, [subscribed_event(MOCK_ORIGIN, i) for i in range(PAGE)]
        ),
    }

    def answer(request: Request) -> Response:
        return Response(200, body=bodies[request.url.path])

    client = EventsClient(
        ACCOUNT_SID,
        AUTH_TOKEN,
        base_url=MOCK_ORIGIN,
        transport=MockTransport(answer),
        max_concurrency=IN_FLIGHT,
    )
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "fetch": lambda: client.subscriptions.fetch(SUBSCRIPTION_SID),
        "sinks": lambda: client.sinks.list(page_size=PAGE).collect(),
        "events": lambda: (
            client.subscriptions.subscribed_events(SUBSCRIPTION_SID).list(page_size=PAGE).collect()
        ),
    }
    return calls[mode], client.close


async def _audit_call() -> tuple[Callable[[], Awaitable[object]], Callable[[], Awaitable[None]]]:
    import json

    from events_async import EventsClient
    from events_async.audit import audit_account
    from events_async.catalog import SharedCatalog
    from events_async.transport import MockTransport, Request, Response

    from .fleet_server import render_account

    bodies = await render_account()

    def answer(request: Request) -> Response:
        return Response(200, body=bodies[request.url.path])

    transport = MockTransport(answer)
    catalog = SharedCatalog()

    async def audit_one() -> str:
        async with EventsClient(
            ACCOUNT_SID, AUTH_TOKEN, base_url=MOCK_ORIGIN, transport=transport
        ) as client:
            report = await audit_account(client, catalog=catalog)
        assert not report.findings, report.findings[:2]
        return json.dumps(report.to_json())

    async def nothing() -> None:
        return None

    return audit_one, nothing


def _socket_call(
    mode: str, origin: str
) -> tuple[Callable[[], Awaitable[object]], Callable[[], Awaitable[None]]]:
    fetch_url = f"{origin}/v1/Subscriptions/{SUBSCRIPTION_SID}"
    first_page = f"{origin}/v1/Sinks?PageSize={PAGE}"
    if mode.endswith("-raw"):
        import aiohttp

        credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        headers = {"Authorization": f"Basic {credentials}"}
        session = aiohttp.ClientSession()

        async def get(url: str) -> dict[str, object]:
            async with session.get(url, headers=headers) as response:
                page: dict[str, object] = orjson.loads(await response.read())
                return page

        async def list_raw() -> None:
            url: object = first_page
            while url:
                page = await get(str(url))
                meta = page["meta"]
                assert isinstance(meta, dict)
                for _ in page[meta["key"]]:  # type: ignore[attr-defined]
                    pass
                url = meta["next_page_url"]

        raw: Callable[[], Awaitable[object]] = (
            (lambda: get(fetch_url)) if "fetch" in mode else list_raw
        )
        return raw, session.close

    from events_async import EventsClient

    client = EventsClient(ACCOUNT_SID, AUTH_TOKEN, base_url=origin, max_concurrency=IN_FLIGHT)

    async def list_ours() -> None:
        async for _ in client.sinks.list(page_size=PAGE):
            pass

    ours: Callable[[], Awaitable[object]] = list_ours
    if "fetch" in mode:
        ours = lambda: client.subscriptions.fetch(SUBSCRIPTION_SID)  # noqa: E731
    return ours, client.close


async def run(mode: str, units: int, origin: str | None) -> None:
    """Warm up once, then run `units` of the workload (fetches 50 in flight; pages in turn)."""
    if mode == "audit":
        call, close = await _audit_call()
    elif mode in LIBRARY_ONLY:
        call, close = _library_call(mode)
    else:
        if origin is None:
            raise SystemExit(f"{mode} needs --origin (a running benchmarks.server)")
        call, close = _socket_call(mode, origin)
    try:
        await call()
        if "fetch" in mode:
            slots = asyncio.Semaphore(IN_FLIGHT)

            async def one() -> None:
                async with slots:
                    await call()

            await asyncio.gather(*(one() for _ in range(units)))
        else:
            for _ in range(units):
                await call()
    finally:
        await close()


def _units(mode: str, count: int) -> int:
    """A socket list walks all 20 pages of 1,000 per run: count pages, not runs."""
    return count * 20 if mode.startswith("sock-list") else count


def _counted(mode: str, count: int, origin: str | None, out_dir: Path) -> int:
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/{mode}.{count}.out"]
    command += [sys.executable, "-m", "benchmarks.instructions", "--run", mode, str(count)]
    if origin:
        command += ["--origin", origin]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{mode} x{count} failed under valgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def _lengths(mode: str, given: tuple[int, int] | None) -> tuple[int, int]:
    if given:
        return given
    if mode in LIBRARY_ONLY:
        return DEFAULT_LENGTHS[mode]
    return SOCKET_LENGTHS["fetch" if "fetch" in mode else "list"]


def _start_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server", "--sinks", "20000", "--events", "1000"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    ready = server.stdout.readline().split()
    if not ready or ready[0] != "READY":
        server.kill()
        raise SystemExit("benchmarks.server did not start")
    return server, ready[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "modes", nargs="*", metavar="MODE", help=f"any of {', '.join(MODES)} (default: all)"
    )
    parser.add_argument(
        "--lengths", nargs=2, type=int, metavar=("SHORT", "LONG"), help="units of the two runs"
    )
    parser.add_argument("--origin", help="a running benchmarks.server (else one is started)")
    parser.add_argument("--keep", type=Path, help="keep the callgrind outputs in this folder")
    parser.add_argument("--run", nargs=2, metavar=("MODE", "UNITS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [mode for mode in args.modes if mode not in MODES]
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}: choose from {', '.join(MODES)}")
    args.modes = args.modes or list(MODES)
    if args.run:
        mode, units = args.run
        asyncio.run(run(mode, int(units), args.origin))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt install valgrind)", file=sys.stderr)
        return 2
    server, origin = (None, args.origin)
    if origin is None and any(mode in OVER_SOCKET for mode in args.modes):
        server, origin = _start_server()
    out_dir = args.keep or Path(tempfile.mkdtemp(prefix="instructions-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        print(f"{'workload':<16} {'unit':<7} {'Ir per unit':>12}")
        for mode in args.modes:
            short, long = _lengths(mode, tuple(args.lengths) if args.lengths else None)
            low = _counted(mode, short, origin, out_dir)
            high = _counted(mode, long, origin, out_dir)
            per_unit = (high - low) / (_units(mode, long) - _units(mode, short))
            unit = "fetch" if "fetch" in mode else "account" if mode == "audit" else "page"
            print(f"{mode:<16} {unit:<7} {per_unit:>12,.0f}", flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        if args.keep is None:
            shutil.rmtree(out_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
