"""A fleet audit's memory does not grow with the fleet: measured in child processes."""

from __future__ import annotations

import json
import subprocess
import sys

from ..support import TESTS

PROBE = TESTS / "fleet_memory_probe.py"


def peak_growth(mode: str, accounts: int) -> float:
    done = subprocess.run(
        [sys.executable, str(PROBE), mode, str(accounts)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["reports"] == accounts
    growth: float = result["growth_mib"]
    return growth


def test_streaming_memory_stays_flat_from_200_to_1000_accounts() -> None:
    small = peak_growth("stream", 200)
    large = peak_growth("stream", 1000)
    held = peak_growth("hold", 1000)  # the control: 80 findings a report, all kept
    assert held - large > 10, (small, large, held)  # the probe can see reports pile up
    assert large - small < 3, (small, large, held)
