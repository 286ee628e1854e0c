"""The fake's own control path, outside the Twilio API: `POST /_fake/emit`.

A fake running in another process (`events-async fake-server`) can be asked to publish
events, so a receiver in a third (`events-async listen`, `examples/receive.py`) gets them
as it would from Twilio. The path starts with `/_fake/`, which no Twilio API uses, and
takes the account's own credentials, like the API: an account's events are emitted to
its own subscribed webhook sinks only.

Request (a form, like Twilio's): `Type` (a catalog event type), `Count` (1 to
`MAX_EMIT_COUNT`, default 1), `Data` (a JSON object, default `{}`). The answer comes once
each delivery has ended (delivered, dropped, gave up or refused), as JSON:
`{"type", "count", "deliveries": [{"sink_sid", "destination", "event_ids", "outcome",
"attempts", "status"}]}`. `FakeControl` is its client, `events-async emit` its command.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import attrs
import orjson
from aiohttp import web

from .._settings import BASE_URL_VARIABLE, DEFAULT_MAX_RESPONSE_BYTES, base_url_for, credentials_for
from ..client import TwilioApiClient
from ..errors import InvalidRequestError, ResponseDecodeError
from ..transport import AsyncTransport
from .delivery import Delivery
from .handlers import read_form
from .state import bad_request, parse_int, parse_json

if TYPE_CHECKING:
    from .server import FakeEventsServer

__all__ = ["EMIT_PATH", "MAX_EMIT_COUNT", "ControlApi", "EmitDelivery", "EmitResult", "FakeControl"]

EMIT_PATH = "/_fake/emit"
MAX_EMIT_COUNT = 1000


def _render(delivery: Delivery) -> dict[str, Any]:
    last = delivery.attempts[-1] if delivery.attempts else None
    return {
        "sink_sid": delivery.sink_sid,
        "destination": delivery.destination,
        "event_ids": delivery.event_ids,
        "outcome": delivery.outcome,
        "attempts": len(delivery.attempts),
        "status": last.status if last is not None else None,
    }


class ControlApi:
    """The control routes, bound to one fake server."""

    def __init__(self, server: FakeEventsServer) -> None:
        self.server = server

    def routes(self) -> list[web.RouteDef]:
        """`POST /_fake/emit`, behind the account's credentials."""
        return [web.post(EMIT_PATH, self.emit)]

    async def emit(self, request: web.Request) -> web.Response:
        """Publish events of one type to the account's subscribed webhook sinks; answer
        once every delivery has ended."""
        account = self.server.authenticate(request)
        form = await read_form(request)
        event_type = form.get("Type", "")
        if not event_type.strip():
            raise bad_request("Missing required parameter Type in the post body")
        if event_type not in self.server.catalog.types:
            raise bad_request(f"Event type {event_type!r} is not in the fake's catalog")
        count = parse_int(form.get("Count", "1"), "Count")
        if not 1 <= count <= MAX_EMIT_COUNT:
            raise bad_request(f"Count must be 1 to {MAX_EMIT_COUNT}")
        data = parse_json(form.get("Data", "{}"), "Data")
        if not isinstance(data, dict):
            raise bad_request("Data must be a JSON object")
        deliveries = self.server.emit(event_type, data, count=count, account=account)
        await self.server.deliverer.wait(deliveries)
        body = {"type": event_type, "count": count, "deliveries": [_render(d) for d in deliveries]}
        return web.json_response(body)


@attrs.frozen
class EmitDelivery:
    """One delivery an emit made: to which sink, carrying which events, and how it ended
    ("delivered", "dropped" after a 4xx, "gave up" after retries, or "refused": the fake
    delivers to loopback only)."""

    sink_sid: str
    destination: str
    event_ids: tuple[str, ...]
    outcome: str
    attempts: int
    status: int | None

    @property
    def delivered(self) -> bool:
        """Whether the sink answered 2xx."""
        return self.outcome == "delivered"


@attrs.frozen
class EmitResult:
    """What an emit did: the type, how many events, and each delivery."""

    type: str
    count: int
    deliveries: tuple[EmitDelivery, ...]

    def to_json(self) -> dict[str, Any]:
        """The fake's answer, as JSON values."""
        return {
            "type": self.type,
            "count": self.count,
            "deliveries": [
                {**attrs.asdict(d), "event_ids": list(d.event_ids)} for d in self.deliveries
            ],
        }


def _delivery(item: Any) -> EmitDelivery:
    try:
        return EmitDelivery(
            sink_sid=str(item["sink_sid"]),
            destination=str(item["destination"]),
            event_ids=tuple(str(i) for i in item["event_ids"]),
            outcome=str(item["outcome"]),
            attempts=int(item["attempts"]),
            status=None if item.get("status") is None else int(item["status"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ResponseDecodeError(
            f"POST {EMIT_PATH} answered a delivery it does not document"
        ) from None


class FakeControl(TwilioApiClient):
    """A client of a running fake's control path (not of Twilio): `await control.emit(...)`.

    Credentials are as for `EventsClient` (arguments, then the environment). The origin is
    `base_url`, else `EVENTS_ASYNC_BASE_URL` — never Twilio's: without either, or with a
    twilio.com host, it refuses with `InvalidRequestError`, so a fake's path is never sent
    to Twilio with real credentials.

    `transport` is as for `EventsClient`: with `fake.transport()` (an
    `InProcessTransport`) the fake is asked in process, and without `base_url` the origin
    is the fake's own (`fake.url`, or `IN_PROCESS_URL` when it was never started).
    """

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        transport: AsyncTransport | None = None,
    ) -> None:
        from .inprocess import IN_PROCESS_URL, InProcessTransport  # aiohttp's test tooling

        if base_url is None and isinstance(transport, InProcessTransport):
            base_url = transport.fake.url or IN_PROCESS_URL
        origin = base_url_for(_fake_origin(base_url), None, None)
        host = (origin.host or "").lower().rstrip(".")
        if host == "twilio.com" or host.endswith(".twilio.com"):
            raise InvalidRequestError(
                f"base_url {origin} is Twilio's; emit talks to a fake (events-async fake-server)"
            )
        super().__init__(
            credentials_for(account_sid, auth_token, api_key, api_secret, os.environ),
            origin,
            session=None,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=None,
            max_response_bytes=DEFAULT_MAX_RESPONSE_BYTES,
            transport=transport,
        )

    async def emit(
        self, event_type: str, data: dict[str, Any] | None = None, *, count: int = 1
    ) -> EmitResult:
        """Ask the fake to publish `count` events of `event_type` (with `data`) to every
        active webhook sink subscribed to it; returns once each delivery has ended."""
        form = [
            ("Type", event_type),
            ("Count", str(count)),
            ("Data", orjson.dumps(data or {}).decode()),
        ]
        answer = await self._request("POST", self._url_for("_fake", "emit"), form=form)
        refused = ResponseDecodeError(f"POST {EMIT_PATH} answered in a shape it does not document")
        if answer is None or not isinstance(answer.get("deliveries"), list):
            raise refused
        try:
            return EmitResult(
                type=str(answer["type"]),
                count=int(answer["count"]),
                deliveries=tuple(_delivery(item) for item in answer["deliveries"]),
            )
        except (KeyError, TypeError, ValueError):
            raise refused from None


def _fake_origin(base_url: str | None) -> str:
    chosen = base_url if base_url is not None else os.environ.get(BASE_URL_VARIABLE) or None
    if chosen is None:
        raise InvalidRequestError(
            f"no fake to talk to: pass base_url or set {BASE_URL_VARIABLE} "
            "(events-async fake-server prints it)"
        )
    return chosen
