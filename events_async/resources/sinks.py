"""`client.sinks`: destinations events are delivered to, and their validation."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from .._convert import unstructure
from .._validate import check_sid, check_text
from ..errors import InvalidRequestError
from ..models import (
    KinesisSinkConfiguration,
    SegmentSinkConfiguration,
    Sink,
    SinkStatus,
    SinkTestResult,
    SinkType,
    SinkValidateResult,
    WebhookSinkConfiguration,
)
from ..pagination import AsyncPaginator
from ._base import Resource, json_text, wire_pairs

__all__ = ["SinkConfiguration", "SinksManager"]

SinkConfiguration = (
    Mapping[str, Any]
    | KinesisSinkConfiguration
    | WebhookSinkConfiguration
    | SegmentSinkConfiguration
)

_TYPED_CONFIGURATIONS: dict[type, SinkType] = {
    KinesisSinkConfiguration: SinkType.KINESIS,
    WebhookSinkConfiguration: SinkType.WEBHOOK,
    SegmentSinkConfiguration: SinkType.SEGMENT,
}


E = TypeVar("E", bound=enum.Enum)
_CONFIGURATION = "sink_configuration"


def _member(enum_cls: type[E], value: object, name: str) -> E:
    """The member of `enum_cls` named by `value`, or a clear InvalidRequestError."""
    try:
        return enum_cls(value)
    except ValueError:
        known = ", ".join(str(m.value) for m in enum_cls)
        raise InvalidRequestError.for_param(
            name, f"must be one of {known}, got {value!r}"
        ) from None


def _configuration_json(configuration: object, sink_type: SinkType) -> str:
    typed_for = _TYPED_CONFIGURATIONS.get(type(configuration))
    if typed_for is not None and typed_for is not sink_type:
        raise InvalidRequestError.for_param(
            _CONFIGURATION,
            f"is a {type(configuration).__name__}, which does not configure a "
            f"{sink_type.value} sink",
        )
    if typed_for is None and not isinstance(configuration, Mapping):
        raise InvalidRequestError.for_param(
            _CONFIGURATION,
            f"must be a mapping or a typed sink configuration, got {type(configuration).__name__}",
        )
    plain = unstructure(configuration)
    if not plain:
        raise InvalidRequestError.for_param(_CONFIGURATION, "must not be empty")
    return json_text(dict(plain), "sink_configuration")


class SinksManager(Resource):
    """`client.sinks`: create, read, update, delete, test and validate sinks (`/v1/Sinks`)."""

    async def create(
        self, *, description: str, sink_type: SinkType | str, sink_configuration: SinkConfiguration
    ) -> Sink:
        """A new sink; it starts `initialized` until tested and validated. CreateSink."""
        kind = _member(SinkType, sink_type, "sink_type")
        body = wire_pairs(
            Description=check_text(description, "description"),
            SinkConfiguration=_configuration_json(sink_configuration, kind),
            SinkType=kind.value,
        )
        return await self._call("POST", Sink, "Sinks", form=body)

    async def fetch(self, sid: str) -> Sink:
        """One sink by SID. FetchSink."""
        return await self._call("GET", Sink, "Sinks", check_sid(sid, "DG", "sid"))

    async def update(self, sid: str, *, description: str) -> Sink:
        """Change a sink's description. UpdateSink."""
        check_sid(sid, "DG", "sid")
        body = wire_pairs(Description=check_text(description, "description"))
        return await self._call("POST", Sink, "Sinks", sid, form=body)

    async def delete(self, sid: str) -> None:
        """Delete a sink. DeleteSink."""
        await self._delete("Sinks", check_sid(sid, "DG", "sid"))

    def list(
        self,
        *,
        in_use: bool | None = None,
        status: SinkStatus | str | None = None,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Sink]:
        """Every sink of the account, optionally only those (not) in use or in a status.
        ListSink."""
        if in_use is not None and not isinstance(in_use, bool):
            raise InvalidRequestError.for_param(
                "in_use", f"must be True, False or None, got {in_use!r}"
            )
        params = wire_pairs(
            InUse=in_use,
            Status=None if status is None else _member(SinkStatus, status, "status").value,
        )
        return self._list(Sink, "sinks", "Sinks", params=params, page_size=page_size, limit=limit)

    async def test(self, sid: str) -> SinkTestResult:
        """Send a test event to the sink; it becomes `validating`. CreateSinkTest."""
        check_sid(sid, "DG", "sid")
        return await self._call("POST", SinkTestResult, "Sinks", sid, "Test", form=[])

    async def validate(self, sid: str, *, test_id: str) -> SinkValidateResult:
        """Confirm the test event arrived by quoting its id; the sink becomes `active`.
        CreateSinkValidate."""
        check_sid(sid, "DG", "sid")
        body = wire_pairs(TestId=check_text(test_id, "test_id"))
        return await self._call("POST", SinkValidateResult, "Sinks", sid, "Validate", form=body)
