"""The fleet benchmark: `python -m benchmarks.fleet`.

Audits fleets of `--sizes` accounts (10 sinks, 10 subscriptions of 10 types each)
behind `--latency-ms`, served by `benchmarks.fleet_server` in its own process, and
compares in one run, for each way of reading Twilio's catalog (`--catalog`: `once` a
run, the default of `audit_fleet`, and `per-account`):

- **raw** — aiohttp + orjson making the same requests in the same order and shape (an
  account's sinks and subscriptions lists beside the event types, then each
  subscription's subscribed events, then each schema in use), with the same fleet-wide
  cap and accounts at a time; `once`, the first account to need the event types or a
  schema reads it and the others wait for that read; it builds no model and checks
  nothing;
- **events_async** — `audit_fleet` (`catalog_per_account=True` for `per-account`), each
  report written as a JSON line as it arrives.

Every trial runs in a fresh child process, interleaved, `--runs` times; the table gives
medians. The requests are the server's count over the measured run (the warm-up's
account is audited before it), and of them the catalog's, so the peers are compared on
what they asked, not on what they were assumed to ask. The bound is requests x latency /
in-flight cap: what the cap allows at best. The server's CPU time over each run shows
whether it could have been the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import orjson

from .fleet_server import account_sid, auth_token, authorization
from .run import server
from .workloads import _rss_kib

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("raw", "events_async")
CATALOGS = ("once", "per-account")
MAX_IN_FLIGHT = 100
ACCOUNTS_AT_ONCE = 32
TARGET_WALL = 1.3
TARGET_CPU = 1.2
TARGET_RSS_MIB = 50.0


# --- the child: one measured trial ------------------------------------------------------


async def _raw(origin: str, accounts: int, out: TextIO, per_account: bool) -> None:
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    pending = iter(range(accounts))
    read: dict[str, asyncio.Future[Any]] = {}  # the catalog's reads, once a run
    lists = "?PageSize=1000"
    async with aiohttp.ClientSession(connector=connector) as session:

        async def get(path: str, headers: dict[str, str]) -> Any:
            async with slots, session.get(origin + path, headers=headers) as response:
                return orjson.loads(await response.read())

        def catalog(path: str, headers: dict[str, str]) -> Awaitable[Any]:
            if per_account:
                return get(path, headers)
            if path not in read:
                read[path] = asyncio.ensure_future(get(path, headers))
            return read[path]

        async def audit(n: int) -> None:
            headers = {"Authorization": authorization(n)}
            types, sinks, subscriptions = await asyncio.gather(
                catalog("/v1/Types" + lists, headers),
                get("/v1/Sinks" + lists, headers),
                get("/v1/Subscriptions" + lists, headers),
            )
            schema_of = {t["type"]: t["schema_id"] for t in types["types"]}
            events = await asyncio.gather(
                *(
                    get(f"/v1/Subscriptions/{s['sid']}/SubscribedEvents{lists}", headers)
                    for s in subscriptions["subscriptions"]
                )
            )
            schemas = {schema_of[e["type"]] for page in events for e in page["types"]}
            await asyncio.gather(*(catalog(f"/v1/Schemas/{s}", headers) for s in schemas))
            assert len(sinks["sinks"]) == 10

        async def worker() -> None:
            for n in pending:
                await audit(n)

        await asyncio.gather(*(worker() for _ in range(ACCOUNTS_AT_ONCE)))


async def _events_async(origin: str, accounts: int, out: TextIO, per_account: bool) -> None:
    from events_async.fleet import Login, audit_fleet

    logins = (Login(account_sid(n), auth_token(n)) for n in range(accounts))
    async for report in audit_fleet(
        logins,
        base_url=origin,
        max_in_flight=MAX_IN_FLIGHT,
        accounts_at_once=ACCOUNTS_AT_ONCE,
        catalog_per_account=per_account,
    ):
        assert not report.findings, report.findings[:2]
        out.write(json.dumps(report.to_json()) + "\n")  # streamed out, as the command does


Peer = Callable[[str, int, TextIO, bool], Coroutine[Any, Any, None]]


def child(peer: str, origin: str, accounts: int, catalog: str) -> dict[str, Any]:
    """One measured run: CPU and wall time, RSS growth, and the server's counts over it."""
    run: Peer = _raw if peer == "raw" else _events_async
    per_account = catalog == "per-account"
    import events_async.fleet  # noqa: F401 - imports before the clock, for every peer

    with open(os.devnull, "w") as out:
        asyncio.run(run(origin, 1, out, per_account))  # warm-up: one account, not counted
        before = _stats(origin)
        rss = _rss_kib()
        cpu, wall = time.process_time(), time.perf_counter()
        asyncio.run(run(origin, accounts, out, per_account))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rss = _rss_kib() - rss
        after = _stats(origin)
    return {
        "cpu": cpu,
        "wall": wall,
        "rss_growth_kib": rss,
        "requests": int(after["requests"] - before["requests"]),
        "catalog": int(after["catalog"] - before["catalog"]),
        "server_cpu": after["cpu"] - before["cpu"],
    }


# --- the harness --------------------------------------------------------------------------


def _stats(origin: str) -> dict[str, float]:
    async def fetch() -> dict[str, float]:
        async with aiohttp.ClientSession() as session, session.get(origin + "/_stats") as r:
            stats: dict[str, float] = await r.json()
            return stats

    return asyncio.run(fetch())


def run_child(module: str, *arguments: str, what: str) -> dict[str, Any]:
    """`python -m module --child arguments…` in a fresh process: its last line, decoded."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--child", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def machine() -> str:
    """Today, the Python and the machine: how a table's first line begins."""
    return (
        f"{date.today().isoformat()} · {platform.python_implementation()} "
        f"{platform.python_version()} · {platform.machine()} · {os.cpu_count()} cores"
    )


def trial(peer: str, origin: str, accounts: int, catalog: str) -> dict[str, Any]:
    """One trial in a fresh child process."""
    what = f"{peer} at {accounts} accounts (catalog {catalog})"
    return run_child("benchmarks.fleet", peer, origin, str(accounts), catalog, what=what)


def bound_seconds(requests: float, latency_ms: float) -> float:
    """Requests x latency / in-flight cap: what the cap allows at best."""
    return requests * latency_ms / 1000 / MAX_IN_FLIGHT


Key = tuple[int, str, str]  # accounts, catalog, peer


def table(results: dict[Key, list[dict[str, Any]]], latency_ms: float) -> list[str]:
    """The Markdown table: a row a (fleet size, catalog, peer), medians of its runs."""

    def median(key: Key, name: str) -> float:
        return float(statistics.median(r[name] for r in results[key]))

    def per_request(key: Key) -> float:
        return median(key, "cpu") / median(key, "requests")

    lines = [
        "| accounts | catalog | peer | requests | of which catalog | wall s | bound s"
        " | wall / bound | CPU µs / request | CPU vs raw | CPU µs / account | RSS growth MiB"
        " | server CPU / wall | targets |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key in sorted(results, key=lambda k: (k[0], CATALOGS.index(k[1]), PEERS.index(k[2]))):
        accounts, catalog, peer = key
        wall, cpu = median(key, "wall"), median(key, "cpu")
        requests, catalog_reads = median(key, "requests"), median(key, "catalog")
        raw_key = (accounts, catalog, "raw")
        vs_raw = per_request(key) / per_request(raw_key) if raw_key in results else 0.0
        bound = bound_seconds(requests, latency_ms)
        rss = median(key, "rss_growth_kib") / 1024
        busy = median(key, "server_cpu") / wall
        verdicts = ""
        if peer == "events_async":
            checks = [
                (f"wall ≤ {TARGET_WALL}x bound", wall / bound <= TARGET_WALL),
                (f"CPU ≤ {TARGET_CPU}x raw", 0 < vs_raw <= TARGET_CPU),
                (f"RSS < {TARGET_RSS_MIB:.0f} MiB", rss < TARGET_RSS_MIB),
            ]
            verdicts = "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks)
            if raw_key in results and median(raw_key, "requests") != requests:
                verdicts += f"; made {requests:g} requests, raw {median(raw_key, 'requests'):g}"
        lines.append(
            f"| {accounts} | {catalog} | {peer} | {requests:g} | {catalog_reads:g}"
            f" | {wall:.2f} | {bound:.2f} | {wall / bound:.2f}x | {per_request(key) * 1e6:.0f}"
            f" | {vs_raw:.2f}x | {cpu / accounts * 1e6:.0f} | {rss:.1f} | {busy:.0%}"
            f" | {verdicts} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=3, help="runs of each trial (medians)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--catalog",
        nargs="+",
        choices=CATALOGS,
        default=list(CATALOGS),
        help="read Twilio's catalog once a run, per account, or each in turn (default)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", nargs=4, metavar=("PEER", "ORIGIN", "ACCOUNTS", "CATALOG"))
    args = parser.parse_args(argv)
    if args.child:
        peer, origin, accounts, catalog = args.child
        print(json.dumps(child(peer, origin, int(accounts), catalog)))
        return 0

    results: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    fleet = ("--accounts", str(max(args.sizes) + 1), "--latency-ms", str(args.latency_ms))
    with server(*fleet, module="benchmarks.fleet_server") as (origin,):
        for run in range(args.runs):
            for accounts in args.sizes:
                for catalog in args.catalog:
                    for peer in PEERS[run % 2 :] + PEERS[: run % 2]:
                        measured = trial(peer, origin, accounts, catalog)
                        results[(accounts, catalog, peer)].append(measured)
    print(
        f"{machine()} · {args.runs} runs, medians · latency {args.latency_ms:g} ms · "
        f"cap {MAX_IN_FLIGHT} in flight · {ACCOUNTS_AT_ONCE} accounts at once"
    )
    print()
    print("\n".join(table(results, args.latency_ms)))
    if args.json:
        args.json.write_text(
            json.dumps({" ".join(map(str, key)): runs for key, runs in results.items()}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
