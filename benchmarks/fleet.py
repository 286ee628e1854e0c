"""The fleet benchmark: `python -m benchmarks.fleet`.

Audits fleets of `--sizes` accounts (10 sinks, 10 subscriptions of 10 types each)
behind `--latency-ms`, served by `benchmarks.fleet_server` in its own process, and
compares in one run:

- **raw** — aiohttp + orjson making the same requests in the same order and shape (an
  account's three lists, then each subscription's subscribed events, then each schema
  in use), with the same fleet-wide cap and accounts at a time; it builds no model and
  checks nothing;
- **events_async** — `audit_fleet`, each report written as a JSON line as it arrives.

Every trial runs in a fresh child process, interleaved, `--runs` times; the table gives
medians. The bound is requests x latency / in-flight cap: what the cap allows at best.
The server's CPU time over each trial shows whether it could have been the bottleneck.
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
MAX_IN_FLIGHT = 100
ACCOUNTS_AT_ONCE = 32
REQUESTS_PER_ACCOUNT = 3 + 10 + 5  # three lists, subscribed events of 10, 5 schemas
TARGET_WALL = 1.3
TARGET_CPU = 1.2
TARGET_RSS_MIB = 50.0


# --- the child: one measured trial ------------------------------------------------------


async def _raw(origin: str, accounts: int, out: TextIO) -> None:
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    pending = iter(range(accounts))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def get(path: str, headers: dict[str, str]) -> Any:
            async with slots, session.get(origin + path, headers=headers) as response:
                return orjson.loads(await response.read())

        async def audit(n: int) -> None:
            headers = {"Authorization": authorization(n)}
            lists = "?PageSize=1000"
            catalog, sinks, subscriptions = await asyncio.gather(
                get("/v1/Types" + lists, headers),
                get("/v1/Sinks" + lists, headers),
                get("/v1/Subscriptions" + lists, headers),
            )
            schema_of = {t["type"]: t["schema_id"] for t in catalog["types"]}
            events = await asyncio.gather(
                *(
                    get(f"/v1/Subscriptions/{s['sid']}/SubscribedEvents{lists}", headers)
                    for s in subscriptions["subscriptions"]
                )
            )
            schemas = {schema_of[e["type"]] for page in events for e in page["types"]}
            await asyncio.gather(*(get(f"/v1/Schemas/{s}", headers) for s in schemas))
            assert len(sinks["sinks"]) == 10

        async def worker() -> None:
            for n in pending:
                await audit(n)

        await asyncio.gather(*(worker() for _ in range(ACCOUNTS_AT_ONCE)))


async def _events_async(origin: str, accounts: int, out: TextIO) -> None:
    from events_async.fleet import Login, audit_fleet

    logins = (Login(account_sid(n), auth_token(n)) for n in range(accounts))
    async for report in audit_fleet(
        logins,
        base_url=origin,
        max_in_flight=MAX_IN_FLIGHT,
        accounts_at_once=ACCOUNTS_AT_ONCE,
    ):
        assert not report.findings, report.findings[:2]
        out.write(json.dumps(report.to_json()) + "\n")  # streamed out, as the command does


def child(peer: str, origin: str, accounts: int) -> dict[str, Any]:
    run = _raw if peer == "raw" else _events_async
    import events_async.fleet  # noqa: F401 - imports before the clock, for every peer

    with open(os.devnull, "w") as out:
        asyncio.run(run(origin, 1, out))  # warm-up: one account
        rss = _rss_kib()
        cpu, wall = time.process_time(), time.perf_counter()
        asyncio.run(run(origin, accounts, out))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu": cpu, "wall": wall, "rss_growth_kib": _rss_kib() - rss}


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


def trial(peer: str, origin: str, accounts: int) -> dict[str, Any]:
    before = _stats(origin)
    what = f"{peer} at {accounts} accounts"
    result = run_child("benchmarks.fleet", peer, origin, str(accounts), what=what)
    after = _stats(origin)
    result["requests"] = int(after["requests"] - before["requests"])
    result["server_cpu"] = after["cpu"] - before["cpu"]
    return result


def bound_seconds(accounts: int, latency_ms: float) -> float:
    """Requests x latency / in-flight cap (the warm-up's account not counted)."""
    return accounts * REQUESTS_PER_ACCOUNT * latency_ms / 1000 / MAX_IN_FLIGHT


def table(results: dict[tuple[int, str], list[dict[str, Any]]], latency_ms: float) -> list[str]:
    def median(accounts: int, peer: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(accounts, peer)])

    lines = [
        "| accounts | peer | requests | wall s | bound s | wall / bound | CPU µs / request"
        " | CPU vs raw | RSS growth MiB | server CPU / wall | targets |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for accounts, peer in sorted(results):
        wall, cpu = median(accounts, peer, "wall"), median(accounts, peer, "cpu")
        requests = results[(accounts, peer)][0]["requests"] - REQUESTS_PER_ACCOUNT  # warm-up
        per_request = cpu / requests
        raw = median(accounts, "raw", "cpu") / requests if (accounts, "raw") in results else 0
        bound = bound_seconds(accounts, latency_ms)
        rss = median(accounts, peer, "rss_growth_kib") / 1024
        busy = median(accounts, peer, "server_cpu") / wall
        verdicts = ""
        if peer == "events_async":
            checks = [
                (f"wall ≤ {TARGET_WALL}x bound", wall / bound <= TARGET_WALL),
                (f"CPU ≤ {TARGET_CPU}x raw", bool(raw) and per_request / raw <= TARGET_CPU),
                (f"RSS < {TARGET_RSS_MIB:.0f} MiB", rss < TARGET_RSS_MIB),
            ]
            verdicts = "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks)
        lines.append(
            f"| {accounts} | {peer} | {requests} | {wall:.2f} | {bound:.2f} | {wall / bound:.2f}x"
            f" | {per_request * 1e6:.0f} | {per_request / raw if raw else 0:.2f}x | {rss:.1f}"
            f" | {busy:.0%} | {verdicts} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=3, help="runs of each trial (medians)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", nargs=3, metavar=("PEER", "ORIGIN", "ACCOUNTS"))
    args = parser.parse_args(argv)
    if args.child:
        peer, origin, accounts = args.child
        print(json.dumps(child(peer, origin, int(accounts))))
        return 0

    results: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    fleet = ("--accounts", str(max(args.sizes) + 1), "--latency-ms", str(args.latency_ms))
    with server(*fleet, module="benchmarks.fleet_server") as (origin,):
        for run in range(args.runs):
            for accounts in args.sizes:
                order = PEERS[run % 2 :] + PEERS[: run % 2]
                for peer in order:
                    results[(accounts, peer)].append(trial(peer, origin, accounts))
    print(
        f"{machine()} · {args.runs} runs, medians · latency {args.latency_ms:g} ms · "
        f"cap {MAX_IN_FLIGHT} in flight · {ACCOUNTS_AT_ONCE} accounts at once"
    )
    print()
    print("\n".join(table(results, args.latency_ms)))
    if args.json:
        args.json.write_text(
            json.dumps({f"{n} {p}": runs for (n, p), runs in results.items()}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
