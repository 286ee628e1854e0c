"""The fake's 22 operations: parse and check the request, apply it to the state, render.

Parameter checks follow the spec (required fields, SID patterns, enums, PageSize); the
rules about state (limits, active sinks, known event types) live in `state.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict

from .._validate import check_sid
from ..errors import InvalidRequestError
from .render import Renderer
from .state import (
    SINK_STATUSES,
    FakeAccount,
    bad_request,
    not_found,
    parse_int,
    parse_json,
)

if TYPE_CHECKING:
    from .server import FakeEventsServer

__all__ = ["Handlers", "read_form"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AccountHandler = Callable[[web.Request, FakeAccount], Awaitable[web.StreamResponse]]


async def read_form(request: web.Request) -> MultiDict[str]:
    """The form of a POST (url-encoded or multipart), text fields only; a 400 when the
    body cannot be read as one (no boundary, a broken part, bytes that are not UTF-8)."""
    if request.content_type in ("", "application/x-www-form-urlencoded"):
        raw = await request.read()
        try:
            text = raw.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise bad_request("the request body is not a UTF-8 url-encoded form") from None
        return MultiDict(pairs)
    try:
        posted = await request.post()
    except (ValueError, UnicodeDecodeError, AssertionError, LookupError, HttpProcessingError):
        raise bad_request("the request body is not a readable form") from None
    return MultiDict((k, v) for k, v in posted.items() if isinstance(v, str))


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if value is None or not value.strip():
        raise bad_request(f"Missing required parameter {name} in the post body")
    return value


def _sid(value: str, prefix: str, name: str) -> str:
    """The spec's SID pattern check, answered as Twilio does: a 400."""
    try:
        return check_sid(value, prefix, name)
    except InvalidRequestError as error:
        raise bad_request(str(error)) from None


def _optional_int(form: Mapping[str, str], name: str) -> int | None:
    raw = form.get(name)
    return None if raw is None else parse_int(raw, name)


def _subscribed_types(values: list[str]) -> list[tuple[str, int | None]]:
    if not values:
        raise bad_request("Missing required parameter Types in the post body")
    types = []
    for value in values:
        item = parse_json(value, "each Types value")
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request('each Types value must be a JSON object with a "type"')
        version = item.get("schema_version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise bad_request("schema_version must be an integer")
        types.append((item["type"], version))
    return types


class Handlers:
    """aiohttp handlers bound to one fake server."""

    def __init__(self, server: FakeEventsServer) -> None:
        self.server = server
        self.render = Renderer(server)

    def routes(self) -> list[web.RouteDef]:
        """Every operation of the Events API v1, each behind the account's credentials."""
        routes: list[tuple[str, str, AccountHandler]] = [
            ("GET", "/v1/Types", self.list_event_types),
            ("GET", "/v1/Types/{Type:[^/]+}", self.fetch_event_type),
            ("GET", "/v1/Schemas/{Id:[^/]+}", self.fetch_schema),
            ("GET", "/v1/Schemas/{Id:[^/]+}/Versions", self.list_schema_versions),
            ("GET", "/v1/Schemas/{Id:[^/]+}/Versions/{SchemaVersion}", self.fetch_schema_version),
            ("POST", "/v1/Sinks", self.create_sink),
            ("GET", "/v1/Sinks", self.list_sinks),
            ("GET", "/v1/Sinks/{Sid}", self.fetch_sink),
            ("POST", "/v1/Sinks/{Sid}", self.update_sink),
            ("DELETE", "/v1/Sinks/{Sid}", self.delete_sink),
            ("POST", "/v1/Sinks/{Sid}/Test", self.test_sink),
            ("POST", "/v1/Sinks/{Sid}/Validate", self.validate_sink),
            ("POST", "/v1/Subscriptions", self.create_subscription),
            ("GET", "/v1/Subscriptions", self.list_subscriptions),
            ("GET", "/v1/Subscriptions/{Sid}", self.fetch_subscription),
            ("POST", "/v1/Subscriptions/{Sid}", self.update_subscription),
            ("DELETE", "/v1/Subscriptions/{Sid}", self.delete_subscription),
            (
                "GET",
                "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents",
                self.list_subscribed_events,
            ),
            (
                "POST",
                "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents",
                self.create_subscribed_event,
            ),
            (
                "GET",
                "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type:[^/]+}",
                self.fetch_subscribed_event,
            ),
            (
                "POST",
                "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type:[^/]+}",
                self.update_subscribed_event,
            ),
            (
                "DELETE",
                "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type:[^/]+}",
                self.delete_subscribed_event,
            ),
        ]
        return [
            web.route(method, path, self._authenticated(handler))
            for method, path, handler in routes
        ]

    def _authenticated(self, handler: AccountHandler) -> Handler:
        async def authenticated(request: web.Request) -> web.StreamResponse:
            return await handler(request, self.server.authenticate(request))

        return authenticated

    def _page(
        self,
        request: web.Request,
        account: FakeAccount,
        items: list[Any],
        key: str,
        render: Any,
        filters: Mapping[str, str] | None = None,
    ) -> web.Response:
        body = self.server.pager.page(
            items=items,
            seq=lambda item: item.seq,
            render=render,
            key=key,
            origin=self.server.url,
            path=request.path,
            filters=filters or {},
            query=request.query,
            scope=account.sid,
        )
        return web.json_response(body)

    # event types and schemas -------------------------------------------------------------

    async def list_event_types(self, request: web.Request, account: FakeAccount) -> web.Response:
        schema_id = request.query.get("SchemaId")
        catalog = self.server.catalog
        entries = [
            _Ordered(n, name)
            for n, (name, entry) in enumerate(catalog.types.items())
            if schema_id is None or entry.schema_id == schema_id
        ]
        filters = {"SchemaId": schema_id} if schema_id is not None else {}
        return self._page(
            request, account, entries, "types", lambda e: self.render.event_type(e.value), filters
        )

    async def fetch_event_type(self, request: web.Request, account: FakeAccount) -> web.Response:
        name = request.match_info["Type"]
        if name not in self.server.catalog.types:
            raise not_found(f"The requested resource /Types/{name} was not found")
        return web.json_response(self.render.event_type(name))

    def _schema_id(self, request: web.Request) -> str:
        schema_id = request.match_info["Id"]
        if schema_id not in self.server.catalog.schemas:
            raise not_found(f"The requested resource /Schemas/{schema_id} was not found")
        return schema_id

    async def fetch_schema(self, request: web.Request, account: FakeAccount) -> web.Response:
        schema_id = self._schema_id(request)
        return web.json_response(self.render.schema(schema_id))

    async def list_schema_versions(
        self, request: web.Request, account: FakeAccount
    ) -> web.Response:
        schema_id = self._schema_id(request)
        latest = self.server.catalog.schemas[schema_id].latest_version
        versions = [_Ordered(v, v) for v in range(1, latest + 1)]
        return self._page(
            request,
            account,
            versions,
            "schema_versions",
            lambda v: self.render.schema_version(schema_id, v.value),
        )

    async def fetch_schema_version(
        self, request: web.Request, account: FakeAccount
    ) -> web.Response:
        schema_id = self._schema_id(request)
        raw = request.match_info["SchemaVersion"]
        latest = self.server.catalog.schemas[schema_id].latest_version
        version = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
        if not 1 <= version <= latest:
            raise not_found(f"Schema {schema_id} has no version {raw[:20]}")
        return web.json_response(self.render.schema_version(schema_id, version))

    # sinks -------------------------------------------------------------------------------

    def _sink_sid(self, request: web.Request) -> str:
        return _sid(request.match_info["Sid"], "DG", "Sid")

    async def create_sink(self, request: web.Request, account: FakeAccount) -> web.Response:
        form = await read_form(request)
        sink = account.create_sink(
            description=_required(form, "Description"),
            sink_type=_required(form, "SinkType"),
            configuration=_required(form, "SinkConfiguration"),
        )
        return web.json_response(self.render.sink(sink), status=201)

    async def list_sinks(self, request: web.Request, account: FakeAccount) -> web.Response:
        in_use_raw = request.query.get("InUse")
        status = request.query.get("Status")
        if in_use_raw is not None and in_use_raw.lower() not in ("true", "false"):
            raise bad_request("InUse must be true or false")
        if status is not None and status not in SINK_STATUSES:
            raise bad_request(f"Status must be one of {', '.join(SINK_STATUSES)}")
        in_use = None if in_use_raw is None else in_use_raw.lower() == "true"
        filters = {k: v for k, v in (("InUse", in_use_raw), ("Status", status)) if v is not None}
        sinks = account.list_sinks(in_use, status)
        return self._page(request, account, sinks, "sinks", self.render.sink, filters)

    async def fetch_sink(self, request: web.Request, account: FakeAccount) -> web.Response:
        return web.json_response(self.render.sink(account.sink(self._sink_sid(request))))

    async def update_sink(self, request: web.Request, account: FakeAccount) -> web.Response:
        sid = self._sink_sid(request)
        form = await read_form(request)
        description = _required(form, "Description")
        return web.json_response(self.render.sink(account.update_sink(sid, description)))

    async def delete_sink(self, request: web.Request, account: FakeAccount) -> web.Response:
        account.delete_sink(self._sink_sid(request))
        return web.Response(status=204)

    async def test_sink(self, request: web.Request, account: FakeAccount) -> web.Response:
        sink = account.start_test(self._sink_sid(request))
        self.server.deliver_test_event(sink, account)
        return web.json_response({"result": "submitted"}, status=201)

    async def validate_sink(self, request: web.Request, account: FakeAccount) -> web.Response:
        sid = self._sink_sid(request)
        form = await read_form(request)
        test_id = _required(form, "TestId")
        account.validate(sid, test_id)
        return web.json_response({"result": "valid"}, status=201)

    # subscriptions -----------------------------------------------------------------------

    def _subscription_sid(self, request: web.Request, name: str = "Sid") -> str:
        return _sid(request.match_info[name], "DF", name)

    async def create_subscription(self, request: web.Request, account: FakeAccount) -> web.Response:
        form = await read_form(request)
        description = _required(form, "Description")
        sink_sid = _sid(_required(form, "SinkSid"), "DG", "SinkSid")
        types = _subscribed_types(form.getall("Types", []))
        subscription = account.create_subscription(description, sink_sid, types)
        return web.json_response(self.render.subscription(account, subscription), status=201)

    async def list_subscriptions(self, request: web.Request, account: FakeAccount) -> web.Response:
        sink_sid = request.query.get("SinkSid")
        if sink_sid is not None:
            _sid(sink_sid, "DG", "SinkSid")
        filters = {"SinkSid": sink_sid} if sink_sid is not None else {}
        return self._page(
            request,
            account,
            account.list_subscriptions(sink_sid),
            "subscriptions",
            lambda s: self.render.subscription(account, s),
            filters,
        )

    async def fetch_subscription(self, request: web.Request, account: FakeAccount) -> web.Response:
        subscription = account.subscription(self._subscription_sid(request))
        return web.json_response(self.render.subscription(account, subscription))

    async def update_subscription(self, request: web.Request, account: FakeAccount) -> web.Response:
        sid = self._subscription_sid(request)
        form = await read_form(request)
        sink_sid = form.get("SinkSid")
        if sink_sid is not None:
            _sid(sink_sid, "DG", "SinkSid")
        subscription = account.update_subscription(sid, form.get("Description"), sink_sid)
        return web.json_response(self.render.subscription(account, subscription))

    async def delete_subscription(self, request: web.Request, account: FakeAccount) -> web.Response:
        account.delete_subscription(self._subscription_sid(request))
        return web.Response(status=204)

    async def list_subscribed_events(
        self, request: web.Request, account: FakeAccount
    ) -> web.Response:
        sid = self._subscription_sid(request, "SubscriptionSid")
        events = list(account.subscription(sid).events.values())
        return self._page(
            request,
            account,
            events,
            "types",
            lambda e: self.render.subscribed_event(account, sid, e),
        )

    async def create_subscribed_event(
        self, request: web.Request, account: FakeAccount
    ) -> web.Response:
        sid = self._subscription_sid(request, "SubscriptionSid")
        form = await read_form(request)
        event = account.add_subscribed_event(
            sid,
            _required(form, "Type"),
            _optional_int(form, "SchemaVersion"),
        )
        return web.json_response(self.render.subscribed_event(account, sid, event), status=201)

    async def fetch_subscribed_event(
        self, request: web.Request, account: FakeAccount
    ) -> web.Response:
        sid = self._subscription_sid(request, "SubscriptionSid")
        event = account.find_subscribed_event(sid, request.match_info["Type"])
        return web.json_response(self.render.subscribed_event(account, sid, event))

    async def update_subscribed_event(
        self, request: web.Request, account: FakeAccount
    ) -> web.Response:
        sid = self._subscription_sid(request, "SubscriptionSid")
        form = await read_form(request)
        event = account.update_subscribed_event(
            sid,
            request.match_info["Type"],
            _optional_int(form, "SchemaVersion"),
        )
        return web.json_response(self.render.subscribed_event(account, sid, event))

    async def delete_subscribed_event(
        self, request: web.Request, account: FakeAccount
    ) -> web.Response:
        sid = self._subscription_sid(request, "SubscriptionSid")
        account.delete_subscribed_event(sid, request.match_info["Type"])
        return web.Response(status=204)


class _Ordered:
    """A catalog entry with the position the pager orders it by."""

    __slots__ = ("seq", "value")

    def __init__(self, seq: int, value: Any) -> None:
        self.seq = seq
        self.value = value
