"""The apply benchmark: `python -m benchmarks.apply`.

Applies one Event Streams file (a webhook sink and a subscription of three types) to
`--accounts` fresh accounts with `apply_fleet`, then applies it again (converged: no
write). The accounts live on a `FakeEventsServer` in its own process (started by this
module with `--serve`), every request behind `--latency-ms`; the fake's own counters
tell the requests it saw, by kind: reads (GET) and writes (POST, DELETE).

Two bounds, both what the fleet-wide cap allows at best:

- **writes** — writes x latency / in-flight cap: issue 19's bound;
- **requests** — every request x latency / cap: the true floor, as the account is its
  own state and must be read first (its sinks, its subscriptions and their types, and
  Twilio's catalog once per run).

Each trial runs in a fresh child process (imports and a warm-up apply to one spare
account before the clock), once with the catalog read once per run (the default) and
once per account (`catalog_per_account=True`), the order rotating, `--runs` times; the table gives
medians. The server's CPU time over each apply shows whether it was the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

from aiohttp import web

from .fleet import _stats, machine, run_child
from .fleet_server import account_sid, auth_token
from .run import server
from .server import _until_terminated

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.3
CATALOGS = ("once", "per-account")
APPLIES = ("first", "second")

FILE = """
[[sink]]
description = "fleet webhook"
type = "webhook"
destination = "https://events.example.net/{account_sid}/twilio"
method = "POST"
batch_events = false

[[subscription]]
description = "message statuses"
sink = "fleet webhook"
types = [
  "com.twilio.messaging.message.delivered",
  "com.twilio.messaging.message.undelivered",
  { type = "com.twilio.messaging.message.failed", schema_version = 2 },
]
"""
WRITES_PER_ACCOUNT = {"first": 2, "second": 0}  # the sink, then its subscription
CATALOG_READS = 2 + 1  # the two unpinned types, then the one schema they share (pinned: none)


# --- the server: the fake, with N accounts behind the latency --------------------------------


async def serve(accounts: int, latency_ms: float) -> None:
    """Accounts 0..N-1 are measured, account N is the warm-up's; `GET /_stats` (on a
    port of its own, so it is neither delayed nor counted) tells the fake's counters and
    CPU time, `POST /_reset` empties every account again."""
    from events_async.testing import FakeEventsServer, Fault

    async with FakeEventsServer() as fake:
        for n in range(accounts + 1):
            account = fake.add_account()
            del fake.accounts[account.sid]
            account.sid, account.auth_token = account_sid(n), auth_token(n)
            fake.accounts[account.sid] = account
        if latency_ms:
            fake.inject(Fault(delay=latency_ms / 1000, times=None))

        async def stats(request: web.Request) -> web.Response:
            return web.json_response(
                {
                    "cpu": time.process_time(),
                    "requests": dict(fake.requests),
                    "peak_in_flight": fake.peak_in_flight,
                }
            )

        async def reset(request: web.Request) -> web.Response:
            for account in fake.accounts.values():
                account.sinks.clear()
                account.subscriptions.clear()
            fake.peak_in_flight = fake.in_flight
            return web.json_response({})

        app = web.Application()
        app.router.add_get("/_stats", stats)
        app.router.add_post("/_reset", reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        print(f"READY {fake.url} http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        await _until_terminated()
        await runner.cleanup()


def _reset(control: str) -> None:
    async def post() -> None:
        from aiohttp import ClientSession

        async with ClientSession() as session, session.post(control + "/_reset") as answer:
            answer.raise_for_status()

    asyncio.run(post())


# --- the child: one measured trial --------------------------------------------------------------


async def _apply(
    origin: str, numbers: range, cap: int, at_once: int, per_account: bool
) -> list[Any]:
    from events_async.desired import apply_fleet, parse_file
    from events_async.fleet import Login

    options: dict[str, Any] = {"catalog_per_account": True} if per_account else {}
    logins = (Login(account_sid(n), auth_token(n)) for n in numbers)
    results = apply_fleet(
        logins, parse_file(FILE), base_url=origin, max_in_flight=cap, accounts_at_once=at_once,
        **options,
    )  # fmt: skip
    return [result async for result in results]


def _kinds(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """The requests the fake saw between two snapshots, by kind."""
    counts = {"reads": 0, "writes": 0, "catalog": 0}
    for route, count in after["requests"].items():
        seen = count - before["requests"].get(route, 0)
        method, path = route.split(" ", 1)
        counts["reads" if method == "GET" else "writes"] += seen
        if path.startswith(("/v1/Types", "/v1/Schemas")):
            counts["catalog"] += seen
    counts["requests"] = counts["reads"] + counts["writes"]
    return counts


def child(
    origin: str, control: str, accounts: int, cap: int, at_once: int, catalog: str
) -> dict[str, Any]:
    import events_async.desired  # noqa: F401 - imported before the clock

    per_account = catalog == "per-account"
    asyncio.run(_apply(origin, range(accounts, accounts + 1), cap, at_once, per_account))
    trial: dict[str, Any] = {}
    for which in APPLIES:
        before = cast(dict[str, Any], _stats(control))
        cpu, wall = time.process_time(), time.perf_counter()
        results = asyncio.run(_apply(origin, range(accounts), cap, at_once, per_account))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = cast(dict[str, Any], _stats(control))
        failed = [r.error for r in results if not r.ok]
        assert len(results) == accounts, len(results)
        assert not failed, failed[:2]
        made = {len(r.made) for r in results}
        assert made == {WRITES_PER_ACCOUNT[which]}, (which, made)
        trial[which] = {
            "cpu": cpu,
            "wall": wall,
            "server_cpu": after["cpu"] - before["cpu"],
            "peak_in_flight": after["peak_in_flight"],
            **_kinds(before, after),
        }
    return trial


# --- the harness ---------------------------------------------------------------------------------


def trial(
    origin: str, control: str, accounts: int, cap: int, at_once: int, catalog: str
) -> dict[str, Any]:
    _reset(control)
    arguments = [origin, control, str(accounts), str(cap), str(at_once), catalog]
    what = f"the apply to {accounts} accounts ({catalog}, {at_once} at once)"
    return run_child("benchmarks.apply", *arguments, what=what)


Key = tuple[int, str, str]  # accounts at once, catalog, first or second apply


def table(
    results: dict[Key, list[dict[str, Any]]], accounts: int, latency_ms: float, cap: int
) -> list[str]:
    """The Markdown table. The requests bound counts the catalog reads the mode needs (once a
    run, or once an account), not those a race between accounts added."""
    lines = [
        "| accounts at once | catalog | apply | reads | writes | of which catalog (needed) | wall s"
        " | CPU s | CPU µs / request | bound (writes) s | wall / bound (writes)"
        " | bound (requests) s | wall / bound (requests) | peak in flight | server CPU / wall"
        " | targets |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key in sorted(results, key=lambda k: (k[0], CATALOGS.index(k[1]), APPLIES.index(k[2]))):
        runs = results[key]

        def median(name: str, runs: list[dict[str, Any]] = runs) -> float:
            return float(statistics.median(r[name] for r in runs))

        at_once, catalog, which = key
        wall, cpu = median("wall"), median("cpu")
        reads, writes, catalog_reads = (round(median(k)) for k in ("reads", "writes", "catalog"))
        needed = CATALOG_READS * (1 if catalog == "once" else accounts)  # what the mode must read
        bound_writes = writes * latency_ms / 1000 / cap
        bound_requests = (reads - catalog_reads + needed + writes) * latency_ms / 1000 / cap
        vs_writes = f"{wall / bound_writes:.2f}x" if bound_writes else "-"
        checks = [("requests", wall / bound_requests <= TARGET)]
        if bound_writes:
            checks.insert(0, ("writes", wall / bound_writes <= TARGET))
        verdicts = "; ".join(
            f"≤ {TARGET}x bound ({name}): {'met' if ok else 'MISSED'}" for name, ok in checks
        )
        lines.append(
            f"| {at_once} | {catalog} | {which} | {reads} | {writes} | {catalog_reads} ({needed})"
            f" | {wall:.2f} | {cpu:.2f} | {cpu / (reads + writes) * 1e6:.0f} | {bound_writes:.2f}"
            f" | {vs_writes} | {bound_requests:.2f} | {wall / bound_requests:.2f}x"
            f" | {median('peak_in_flight'):.0f} | {median('server_cpu') / wall:.0%} | {verdicts} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.apply", description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--max-in-flight", type=int, default=100, help="the fleet-wide cap")
    parser.add_argument(
        "--accounts-at-once", type=int, nargs="+", help="each a row (default: 32, the cap)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each trial (medians)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--serve", nargs=2, metavar=("ACCOUNTS", "LATENCY_MS"))
    parser.add_argument("--child", nargs=6, metavar=("ORIGIN", "CONTROL", "N", "CAP", "AT", "C"))
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(int(args.serve[0]), float(args.serve[1])))
        return 0
    if args.child:
        origin, control, accounts, cap, at_once, catalog = args.child
        print(json.dumps(child(origin, control, int(accounts), int(cap), int(at_once), catalog)))
        return 0

    from events_async.fleet import DEFAULT_ACCOUNTS_AT_ONCE

    cap = args.max_in_flight
    at_once_sizes = args.accounts_at_once or sorted({DEFAULT_ACCOUNTS_AT_ONCE, cap})
    results: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    fleet = ("--serve", str(args.accounts), str(args.latency_ms))
    with server(*fleet, module="benchmarks.apply") as (origin, control):
        for run in range(args.runs):
            for at_once in at_once_sizes:
                for catalog in CATALOGS[run % 2 :] + CATALOGS[: run % 2]:
                    measured = trial(origin, control, args.accounts, cap, at_once, catalog)
                    for which in APPLIES:
                        results[(at_once, catalog, which)].append(measured[which])
    print(
        f"{machine()} (client and server share them) · {args.runs} runs, medians · {args.accounts} "
        f"accounts · latency {args.latency_ms:g} ms · cap {cap} in flight"
    )
    print()
    print("\n".join(table(results, args.accounts, args.latency_ms, cap)))
    if args.json:
        args.json.write_text(
            json.dumps({" ".join(map(str, k)): runs for k, runs in results.items()}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
