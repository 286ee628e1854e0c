"""The benchmark harness: `python -m benchmarks` (or `python benchmarks/run.py`).

Starts the loopback servers in their own processes, runs every (workload, peer) trial in
a fresh child process, interleaved, `--runs` times, and prints the medians and ratios as
a Markdown table, with the targets checked.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("raw", "twilio", "events_async")
WORKLOADS = ("list-1000", "list-50", "fetch", "memory", "audit")
AUDIT_REQUESTS = 3 + 100 + 5  # lists, subscribed events of each subscription, schemas in use
AUDIT_CONCURRENCY = 10
TARGETS = {"list-1000": 1.5, "list-50": 1.5, "fetch": 1.10}
MEMORY_TARGET_MIB = 20.0
AUDIT_TARGET = 1.3


@contextlib.contextmanager
def server(*args: str, module: str = "benchmarks.server") -> Iterator[tuple[str, ...]]:
    """A benchmark server process; yields what its `READY` line names (its origin first)."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        if not ready or ready[0] != "READY":
            raise RuntimeError(f"benchmark server {module} did not start: {ready}")
        yield tuple(ready[1:])
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def trial(peer: str, workload: str, connection: tuple[str, ...], fetches: int) -> dict[str, Any]:
    """One measured run in a fresh process."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.workloads",
            peer,
            workload,
            *connection,
            "--size",
            str(fetches),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{peer} {workload} failed:\n{result.stderr}")
    trial_result: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return trial_result


def available_peers(wanted: list[str]) -> list[str]:
    """The peers asked for that can run here (twilio-python is an optional extra)."""
    return [p for p in wanted if p != "twilio" or importlib.util.find_spec("twilio") is not None]


def measure(args: argparse.Namespace) -> dict[tuple[str, str], list[dict[str, Any]]]:
    peers = available_peers(args.peers)
    results: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    plain_workloads = [w for w in args.workloads if w != "audit"]
    with server("--sinks", str(args.sinks), "--events", str(args.events)) as plain:
        for workload in plain_workloads:  # warm-up: the server renders and caches its pages
            trial("raw", workload, plain, args.fetches)
        for run in range(args.runs):
            for workload in plain_workloads:
                order = peers[run % len(peers) :] + peers[: run % len(peers)]
                for peer in order:
                    results[(workload, peer)].append(trial(peer, workload, plain, args.fetches))
    if "audit" in args.workloads and "events_async" in peers:
        with server("--audit", "--latency-ms", str(args.latency_ms)) as slow:
            for _ in range(args.runs):
                results[("audit", "events_async")].append(trial("events_async", "audit", slow, 0))
    return results


def audit_ideal_seconds(latency_ms: float) -> float:
    """The subscriptions page first, then every other request, `AUDIT_CONCURRENCY` at once."""
    return latency_ms / 1000 * (1 + math.ceil((AUDIT_REQUESTS - 1) / AUDIT_CONCURRENCY))


def table(
    results: dict[tuple[str, str], list[dict[str, Any]]], latency_ms: float
) -> tuple[str, bool]:
    """The Markdown table, and whether every target measured here was met."""

    def median(workload: str, peer: str, key: str) -> float | None:
        runs = results.get((workload, peer))
        return statistics.median(r[key] for r in runs) if runs else None

    lines = [
        "| workload | peer | items | CPU ms | wall ms | CPU vs raw | CPU vs twilio | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    all_met = True
    for workload in WORKLOADS:
        for peer in PEERS:
            cpu = median(workload, peer, "cpu")
            if cpu is None:
                continue
            wall = median(workload, peer, "wall") or 0.0
            items = results[(workload, peer)][0]["items"]
            raw, twilio = median(workload, "raw", "cpu"), median(workload, "twilio", "cpu")
            vs_raw = f"{cpu / raw:.2f}x" if raw else "-"
            vs_twilio = f"{cpu / twilio:.2f}x" if twilio else "-"
            target = ""
            if peer == "events_async" and workload in TARGETS and raw:
                met = cpu / raw <= TARGETS[workload]
                all_met &= met
                target = f"≤ {TARGETS[workload]}x raw: {'met' if met else 'MISSED'}"
            if workload == "memory":
                growth = (median(workload, peer, "rss_growth_kib") or 0) / 1024
                vs_raw = f"{vs_raw} (RSS +{growth:.1f} MiB)"
                if peer == "events_async":
                    met = growth < MEMORY_TARGET_MIB
                    all_met &= met
                    target = (
                        f"RSS growth < {MEMORY_TARGET_MIB:.0f} MiB: {'met' if met else 'MISSED'}"
                    )
            if workload == "audit":
                ideal = audit_ideal_seconds(latency_ms)
                ratio = wall / ideal
                met = ratio <= AUDIT_TARGET
                all_met &= met
                verdict = "met" if met else "MISSED"
                target = (
                    f"wall {ratio:.2f}x ideal {ideal * 1000:.0f} ms (≤ {AUDIT_TARGET}x): {verdict}"
                )
            row = [workload, peer, items, f"{cpu * 1000:.1f}", f"{wall * 1000:.1f}"]
            lines.append("| " + " | ".join(map(str, [*row, vs_raw, vs_twilio, target])) + " |")
    return "\n".join(lines), all_met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs of each trial (medians)")
    parser.add_argument("--sinks", type=int, default=20_000, help="sinks to list")
    parser.add_argument("--events", type=int, default=200_000, help="items for the memory run")
    parser.add_argument("--fetches", type=int, default=2_000, help="fetches, 50 in flight")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="audit server latency")
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)

    results = measure(args)
    rendered, all_met = table(results, args.latency_ms)
    print(
        f"{date.today().isoformat()} · {platform.python_implementation()} "
        f"{platform.python_version()} · {platform.machine()} · {os.cpu_count()} cores · "
        f"{args.runs} runs, medians of client CPU (user + sys) and wall time"
    )
    print()
    print(rendered)
    print()
    print("every target met" if all_met else "some targets MISSED")
    if args.json:
        args.json.write_text(
            json.dumps({f"{w} {p}": runs for (w, p), runs in results.items()}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
