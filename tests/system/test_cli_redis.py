"""`listen --redis-url`, `listen --stream` and `consume`, as processes on a real Redis."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from .test_cli_listen import TOKEN, deliver, listening, stop

COMMAND = (sys.executable, "-m", "events_async")


def event(event_id: str, type: str = "com.twilio.messaging.message.delivered") -> bytes:
    return json.dumps(
        [{"specversion": "1.0", "type": type, "source": "/x", "id": event_id, "data": {}}]
    ).encode()


def started(process: subprocess.Popen[str]) -> str:
    """The URL a `listen` process says it listens on (after its Redis line)."""
    assert process.stderr is not None
    seen = ""
    while "listening on" not in seen:
        line = process.stderr.readline()
        assert line, f"listen stopped: {seen}"
        seen += line
    return re.search(r"listening on (\S+);", seen)[1]  # type: ignore[index]


def test_two_listen_processes_on_one_redis_print_each_event_once_between_them(
    redis_url: str,
) -> None:
    with (
        listening("--auth-token", TOKEN, "--redis-url", redis_url, "--json") as first,
        listening("--auth-token", TOKEN, "--redis-url", redis_url, "--json") as second,
    ):
        urls = [started(first), started(second)]
        statuses = [deliver(urls[n % 2], event(f"e{n // 2}"), TOKEN) for n in range(6)]
        stop(first)
        stop(second)
        assert first.stdout is not None
        assert second.stdout is not None
        printed = first.stdout.read().splitlines() + second.stdout.read().splitlines()
    assert statuses == [200] * 6
    assert sorted(json.loads(line)["id"] for line in printed) == ["e0", "e1", "e2"]


def test_listen_hands_events_to_a_stream_and_consume_prints_then_acknowledges_them(
    redis_url: str,
) -> None:
    with listening("--auth-token", TOKEN, "--redis-url", redis_url, "--stream", "s") as rx:
        url = started(rx)
        assert [deliver(url, event(i), TOKEN) for i in ("a", "b", "a")] == [200] * 3
        status, _ = stop(rx)
        assert rx.stdout is not None
        assert rx.stdout.read() == ""  # handed to the stream, not printed
    assert status == 0
    consume = subprocess.Popen(
        [*COMMAND, "consume", "--redis-url", redis_url, "--stream", "s", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert consume.stdout is not None
        assert consume.stderr is not None
        lines = [json.loads(consume.stdout.readline()) for _ in range(2)]
        status, rest = stop(consume)
    finally:
        consume.kill()
        consume.wait()
        consume.stdout.close()  # type: ignore[union-attr]
        consume.stderr.close()  # type: ignore[union-attr]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert status == 0
    assert "stopped" in rest
    assert "Traceback" not in rest


def test_a_redis_that_cannot_be_reached_is_one_line_without_its_password() -> None:
    url = "redis://:hunter2-secret@127.0.0.1:1/0"
    for command in (["listen", "--auth-token", TOKEN, "--port", "0"], ["consume"]):
        result = subprocess.run(
            [*COMMAND, *command, "--redis-url", url],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert "cannot reach Redis at 127.0.0.1:1/0" in result.stderr
        assert "hunter2" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr


def test_stream_without_redis_is_a_usage_error() -> None:
    result = subprocess.run(
        [*COMMAND, "listen", "--auth-token", TOKEN, "--stream", "s", "--port", "0"],
        capture_output=True, text=True, timeout=30, check=False,
        env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert result.returncode == 2
    assert "--stream needs --redis-url" in result.stderr
