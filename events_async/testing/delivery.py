"""The fake's deliveries to webhook sinks, made as Twilio makes them.

Each delivery is a JSON array of CloudEvents (`Content-Type: application/json`) POSTed
to the sink's destination with `bodySHA256` appended and `X-Twilio-Signature` set with
the account's auth token. Delivery is at least once: a 5xx, a timeout or a failure to
connect is retried with doubling backoff until `retry_window` seconds have passed (a
compressed stand-in for Twilio's 4 hours); a 4xx is never retried (the event is dropped);
redirects are never followed. Only loopback destinations are ever contacted.

For tests of receivers: `duplicate_rate` sends some deliveries twice, `reorder` shuffles
the deliveries of one emit, `log` records every attempt, and `settle()` waits until
nothing is in flight.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import attrs
import orjson

from ..webhooks.signature import SIGNATURE_HEADER, signature_for, signed_url
from .state import FakeSink

__all__ = ["Attempt", "Deliverer", "Delivery", "cloud_event", "is_loopback"]

logger = logging.getLogger("events_async.testing")

Outcome = Literal["pending", "delivered", "dropped", "gave up", "refused"]


def is_loopback(url: str) -> bool:
    """Whether `url` names this machine (the only place the fake delivers to)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cloud_event(type: str, data: dict[str, Any], schema: str, *, source: str) -> dict[str, Any]:
    """A CloudEvent as Event Streams sends it, with a new id and the time now."""
    return {
        "specversion": "1.0",
        "type": type,
        "source": source,
        "id": str(uuid.uuid4()),
        "dataschema": schema,
        "datacontenttype": "application/json",
        "time": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


@attrs.frozen
class Attempt:
    """One try of a delivery: the status answered, or the failure instead."""

    status: int | None
    error: str | None
    seconds: float


@attrs.define
class Delivery:
    """One delivery of one or more events to one sink, with every attempt made."""

    sink_sid: str
    destination: str
    events: list[dict[str, Any]]
    attempts: list[Attempt] = attrs.field(factory=list)
    outcome: Outcome = "pending"

    @property
    def event_ids(self) -> list[str]:
        """The ids of the events it carries, in order."""
        return [str(event["id"]) for event in self.events]


class Deliverer:
    """Signs, sends and retries the fake's deliveries; see the module docstring."""

    def __init__(
        self,
        *,
        retry_window: float = 2.0,
        first_backoff: float = 0.05,
        timeout: float = 5.0,
        duplicate_rate: float = 0.0,
        reorder: bool = False,
        seed: int | None = None,
    ) -> None:
        self.retry_window = retry_window
        self.first_backoff = first_backoff
        self.timeout = timeout
        self.duplicate_rate = duplicate_rate
        self.reorder = reorder
        self.log: list[Delivery] = []
        self._random = random.Random(seed)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def to_sink(self, sink: FakeSink, token: str, events: list[dict[str, Any]]) -> list[Delivery]:
        """Deliver `events` to a webhook sink: one delivery when it batches, else one each."""
        destination = sink.sink_configuration.get("destination")
        if sink.sink_type != "webhook" or not isinstance(destination, str):
            return []
        batched = sink.sink_configuration.get("batch_events", True) is not False
        batches = [events] if batched else [[event] for event in events]
        return self.send(sink.sid, destination, token, batches)

    def send(
        self, sink_sid: str, destination: str, token: str, batches: list[list[dict[str, Any]]]
    ) -> list[Delivery]:
        """Start delivering each batch (a JSON array each) to `destination`."""
        if not is_loopback(destination):
            logger.info("not contacting %s: the fake only delivers to loopback", destination)
            delivery = Delivery(sink_sid, destination, [e for b in batches for e in b])
            delivery.outcome = "refused"
            self.log.append(delivery)
            return [delivery]
        if self.reorder:
            batches = self._random.sample(batches, len(batches))
        deliveries = []
        for batch in batches:
            copies = 2 if self._random.random() < self.duplicate_rate else 1
            for _ in range(copies):
                delivery = Delivery(sink_sid, destination, batch)
                self.log.append(delivery)
                deliveries.append(delivery)
                task = asyncio.create_task(self._deliver(delivery, token))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return deliveries

    async def settle(self) -> None:
        """Wait until every delivery, retries included, has ended."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def wait(self, deliveries: list[Delivery]) -> None:
        """Wait until each of `deliveries` has ended (others may go on)."""
        while self._tasks and any(d.outcome == "pending" for d in deliveries):
            await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)

    async def close(self) -> None:
        """Finish what is in flight and close the session."""
        await self.settle()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, delivery: Delivery, token: str) -> None:
        body = orjson.dumps(delivery.events)
        url = signed_url(delivery.destination, body)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature_for(token, url)}
        started = time.monotonic()
        backoff = self.first_backoff
        while True:
            status, error = await self._attempt(url, body, headers)
            delivery.attempts.append(Attempt(status, error, time.monotonic() - started))
            if status is not None and 200 <= status < 300:
                delivery.outcome = "delivered"
                return
            if status is not None and 400 <= status < 500:
                delivery.outcome = "dropped"  # Twilio never retries a 4xx
                return
            if time.monotonic() - started + backoff > self.retry_window:
                delivery.outcome = "gave up"
                return
            await asyncio.sleep(backoff)
            backoff *= 2

    async def _attempt(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        try:
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                return response.status, None
        except asyncio.TimeoutError:
            return None, "timed out"
        except aiohttp.ClientError as error:
            return None, type(error).__name__
