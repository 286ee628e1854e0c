"""Child processes for end-to-end tests: read their lines with a deadline, stop them cleanly.

`Child` reads stdout and stderr in threads, so a test waits for a line it expects with a
deadline instead of blocking on a pipe (or sleeping). `fake_server()` starts `events-async
fake-server` as a user would and hands back the environment its `export` lines set.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO

DEADLINE = 60.0
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "EVENTS_ASYNC"))}
"""The test run's environment without credentials or origins of its own."""


class Child:
    """A running child process whose output lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**CLEAN, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.lines: dict[str, queue.Queue[str | None]] = {
            "stdout": queue.Queue(),
            "stderr": queue.Queue(),
        }
        self.seen: dict[str, list[str]] = {"stdout": [], "stderr": []}
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._threads = [
            threading.Thread(target=self._pump, args=(stream, self.lines[name]), daemon=True)
            for name, stream in (("stdout", self.process.stdout), ("stderr", self.process.stderr))
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _pump(stream: IO[str], into: queue.Queue[str | None]) -> None:
        for line in stream:
            into.put(line.rstrip("\n"))
        into.put(None)

    def wait_for(
        self, stream: str, wanted: Callable[[str], bool], timeout: float = DEADLINE
    ) -> str:
        """The first line of `stream` that `wanted` accepts; fails at the deadline or if
        the stream ends first, showing what the child said."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.lines[stream].get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise AssertionError(
                    f"no such line on {stream} in {timeout}s: {self.seen}"
                ) from None
            if line is None:
                self.lines[stream].put(None)  # the end stays the end for later calls
                raise AssertionError(f"{stream} ended without such a line: {self.seen}")
            self.seen[stream].append(line)
            if wanted(line):
                return line

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal the child, wait for it (with the deadline) and collect what it said."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        status = self.process.wait(timeout=DEADLINE)
        for thread in self._threads:
            thread.join(timeout=DEADLINE)
        for name, lines in self.lines.items():
            while (line := lines.get_nowait() if not lines.empty() else None) is not None:
                self.seen[name].append(line)
        return status

    def close(self) -> None:
        """Kill the child if it still runs, and close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=DEADLINE)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def child(args: list[str], env: dict[str, str] | None = None) -> Iterator[Child]:
    """A `Child` for the block, killed at its end if it still runs."""
    running = Child(args, env)
    try:
        yield running
    finally:
        running.close()


def command(*args: str) -> list[str]:
    """`events-async ARGS`, as this test run's Python runs it."""
    return [sys.executable, "-m", "events_async", *args]


@contextlib.contextmanager
def fake_server(*options: str) -> Iterator[dict[str, str]]:
    """`events-async fake-server OPTIONS` in a child; yields the environment its `export`
    lines set (credentials, `EVENTS_ASYNC_BASE_URL`, the Accounts API's origin)."""
    with child(command("fake-server", *options)) as server:
        exports: dict[str, str] = {}
        while len(exports) < 4:
            line = server.wait_for("stdout", lambda text: text.startswith(("export ", "# ")))
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                exports[name] = shlex.split(value)[0]
        yield {**CLEAN, **exports}
        assert server.stop() in (0, -signal.SIGTERM), server.seen


def run(
    args: list[str], env: dict[str, str], timeout: float = DEADLINE
) -> subprocess.CompletedProcess[str]:
    """Run a child to its end; its status and output."""
    return subprocess.run(
        args, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


@contextlib.contextmanager
def commanding(
    *args: str, env: dict[str, str] | None = None, stderr: int = subprocess.PIPE
) -> Iterator[subprocess.Popen[str]]:
    """`python -m events_async ARGS` with the test run's credentials left out; killed if
    still running at the end, and its pipes closed."""
    process = subprocess.Popen(
        command(*args), stdout=subprocess.PIPE, stderr=stderr, text=True,
        env={**{k: v for k, v in CLEAN.items() if not k.startswith("EVENTS_")}, **(env or {})},
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
