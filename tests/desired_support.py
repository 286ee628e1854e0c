"""What the Event Streams as code tests share: accounts seeded straight into the fake's
state, the writes a session sends counted per account, and an account's state as a
value to compare moments of a replace with."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any

import aiohttp
import attrs

from events_async.testing import FakeAccount, FakeEventsServer, FakeSink, FakeSubscription

WRITE_METHODS = ("POST", "DELETE")


def writes(fake: FakeEventsServer) -> int:
    """Every write the fake was sent, by any account."""
    return fake.request_count("POST *") + fake.request_count("DELETE *")


def seed_sink(
    account: FakeAccount,
    description: str,
    sink_type: str,
    configuration: Mapping[str, Any],
    *,
    status: str = "active",
) -> FakeSink:
    """A sink made outside the tool (the console, another script), already validated."""
    sink = account.create_sink(description, sink_type, json.dumps(dict(configuration)))
    sink.status = status
    return sink


def seed_subscription(
    account: FakeAccount, description: str, sink: FakeSink, types: Mapping[str, int]
) -> FakeSubscription:
    """A subscription made outside the tool, at these schema versions."""
    return account.create_subscription(description, sink.sid, list(types.items()))


@attrs.frozen
class Moment:
    """An account's sinks and subscriptions at one instant."""

    active_sinks: frozenset[str]
    sinks: int
    subscriptions: tuple[tuple[str, str, frozenset[str]], ...]  # (description, sink, types)

    @classmethod
    def of(cls, account: FakeAccount) -> Moment:
        return cls(
            frozenset(s.sid for s in account.sinks.values() if s.status == "active"),
            len(account.sinks),
            tuple(
                (s.description, s.sink_sid, frozenset(s.events))
                for s in account.subscriptions.values()
            ),
        )

    def delivered(self) -> set[str]:
        """The types some subscription delivers to an active sink that exists."""
        return {
            name
            for _, sink_sid, types in self.subscriptions
            if sink_sid in self.active_sinks
            for name in types
        }


def _login(headers: Mapping[str, str]) -> str:
    value = headers.get("Authorization", "")
    if not value.startswith("Basic "):
        return ""
    return base64.b64decode(value[6:]).decode().partition(":")[0]


class WriteLog:
    """A `TraceConfig` for a session: the writes each account (by login) sent, and, with
    `watch`, that account's `Moment` after every write it sent was answered."""

    def __init__(self, watch: FakeAccount | None = None) -> None:
        self.sent: Counter[str] = Counter()
        self.watched = watch
        self.moments: list[Moment] = [] if watch is None else [Moment.of(watch)]
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_end.append(self._ended)

    async def _ended(
        self, session: aiohttp.ClientSession, context: SimpleNamespace, params: Any
    ) -> None:
        if params.method not in WRITE_METHODS:
            return
        self.sent[_login(params.headers)] += 1
        if self.watched is not None:
            self.moments.append(Moment.of(self.watched))

    def session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(trace_configs=[self.trace])

    def to(self, accounts: Iterable[FakeAccount]) -> int:
        """The writes sent to these accounts."""
        return sum(self.sent[a.sid] for a in accounts)
