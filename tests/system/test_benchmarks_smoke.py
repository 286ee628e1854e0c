"""The benchmark harness runs end to end at tiny sizes, so it cannot rot.

No figure is asserted: the machines are shared and noisy; `benchmarks/README.md` holds
the real measurements.
"""

from __future__ import annotations

import subprocess
import sys

from ..support import ROOT

OVER_SOCKET = ("sock-fetch-raw", "sock-fetch-ours", "sock-list-raw", "sock-list-ours")


def _bench(module: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m module arguments…` from the repository's root, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_harness_runs_every_workload_at_tiny_sizes() -> None:
    result = _bench(
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
    result = _bench("benchmarks.fleet", "--sizes", "3", "--runs", "1", "--latency-ms", "5")
    assert result.returncode == 0, result.stderr
    rows = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| 3 ")]
    # (catalog, peer) -> requests the server counted, and of them the catalog's
    counts = {(row[1], row[2]): (int(row[3]), int(row[4])) for row in rows}
    assert set(counts) == {(c, p) for c in ("once", "per-account") for p in ("raw", "events_async")}
    # 12 an account (two lists, 10 subscriptions' events), and the catalog (the types
    # and 5 schemas): once a run, or once an account
    assert counts[("per-account", "raw")] == counts[("per-account", "events_async")] == (54, 18)
    assert counts[("once", "raw")] == (42, 6)
    made, catalog = counts[("once", "events_async")]
    assert made - catalog == 36
    assert 6 <= catalog <= 18  # an account that waits too long for another's read reads it


def test_the_apply_benchmark_runs_at_a_tiny_size() -> None:
    result = _bench(
        "benchmarks.apply",
        "--accounts",
        "3",
        "--latency-ms",
        "5",
        "--runs",
        "1",
        "--accounts-at-once",
        "2",
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| 2 ")]
    # reads, writes, and of the reads those of the catalog ("12 (6)": made, and needed)
    counts = {(row[1], row[2]): (int(row[3]), int(row[4]), int(row[5].split()[0])) for row in rows}
    assert set(counts) == {(c, a) for c in ("once", "per-account") for a in ("first", "second")}
    for (_, apply), (reads, writes, catalog_reads) in counts.items():
        assert writes == (6 if apply == "first" else 0)  # a sink and a subscription an account
        assert reads - catalog_reads == (6 if apply == "first" else 9)  # and its types, then
        assert 3 <= catalog_reads <= 9  # two unpinned types and their one schema: once a
        # run (the two accounts at once may each read it), or once an account
    assert counts[("per-account", "first")][2] == counts[("per-account", "second")][2] == 9


def test_the_receiver_benchmark_runs_every_peer_at_a_tiny_size() -> None:
    result = _bench("benchmarks.receiver", "--deliveries", "20", "--runs", "1")
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


def test_the_instruction_workloads_run_without_valgrind() -> None:
    for workload in ("fetch", "sinks", "events", "audit"):  # library only
        result = _bench("benchmarks.instructions", "--run", workload, "2")
        assert result.returncode == 0, (workload, result.stderr)
    with subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server", "--sinks", "2500", "--events", "10"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            ready = server.stdout.readline().split()
            assert ready[0] == "READY"
            for workload in OVER_SOCKET:
                result = _bench(
                    "benchmarks.instructions", "--run", workload, "2", "--origin", ready[1]
                )
                assert result.returncode == 0, (workload, result.stderr)
        finally:
            server.terminate()


def test_the_instruction_harness_names_its_workloads() -> None:
    result = _bench("benchmarks.instructions", "fetch", "no-such-workload")
    assert result.returncode == 2
    assert "unknown workload 'no-such-workload'" in result.stderr
    assert "sock-list-ours" in result.stderr
