"""The benchmark harness runs end to end at tiny sizes, so it cannot rot.

No figure is asserted: the machines are shared and noisy; `benchmarks/README.md` holds
the real measurements.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_harness_runs_every_workload_at_tiny_sizes() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--runs",
            "1",
            "--sinks",
            "120",
            "--events",
            "300",
            "--fetches",
            "20",
            "--latency-ms",
            "5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    peers = {row.split(" | ")[1] for row in rows[1:]}
    assert {"raw", "events_async"} <= peers
    workloads = {row.split(" | ")[0].removeprefix("| ") for row in rows[1:]}
    assert workloads == {"list-1000", "list-50", "fetch", "memory", "audit"}
    items = {
        (row.split(" | ")[0].removeprefix("| "), row.split(" | ")[1]): row.split(" | ")[2]
        for row in rows[1:]
    }
    assert items[("list-1000", "events_async")] == items[("list-1000", "raw")] == "120"
    assert items[("memory", "events_async")] == "300"
    assert items[("audit", "events_async")] == "1000"


def test_the_fleet_benchmark_runs_at_a_tiny_size() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.fleet",
            "--sizes",
            "3",
            "--runs",
            "1",
            "--latency-ms",
            "5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| 3 ")]
    assert {row[1] for row in rows} == {"raw", "events_async"}
    assert {row[2] for row in rows} == {"54"}  # 18 requests an account, for both peers


def test_the_receiver_benchmark_runs_every_peer_at_a_tiny_size() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.receiver", "--deliveries", "20", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| ")]
    table = {(row[0].removeprefix("| "), row[1]): row for row in rows[1:]}
    peers = ("bare", "least", "memory", "redis", "stream")
    assert set(table) == {(batch, peer) for batch in ("1", "50") for peer in peers}
    for (_batch, peer), row in table.items():
        round_trips = row[6]
        if peer in ("redis", "stream"):
            assert float(round_trips) > 0, row  # counted on the real redis-server
        else:
            assert round_trips == "-", row
