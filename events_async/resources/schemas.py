"""`client.schemas`: versioned schemas of event payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._validate import check_positive_int, check_text
from ..models import Schema, SchemaVersion
from ..pagination import AsyncPaginator
from ._base import Resource

if TYPE_CHECKING:
    from .._transport import Policy

__all__ = ["SchemaVersionsManager", "SchemasManager"]


class SchemasManager(Resource):
    """`client.schemas`: fetch schemas (`/v1/Schemas/{Id}`) and reach their versions."""

    async def fetch(self, id: str) -> Schema:
        """One schema, with its latest version number. FetchSchema."""
        return await self._call("GET", Schema, "Schemas", check_text(id, "id"))

    def versions(self, id: str) -> SchemaVersionsManager:
        """The versions of schema `id`."""
        return SchemaVersionsManager(self._policy, check_text(id, "id"))


class SchemaVersionsManager(Resource):
    """`client.schemas.versions(id)`: list and fetch the versions of one schema
    (`/v1/Schemas/{Id}/Versions`)."""

    def __init__(self, policy: Policy, schema_id: str) -> None:
        super().__init__(policy)
        self.schema_id = schema_id

    def __repr__(self) -> str:
        return f"<SchemaVersionsManager of {self.schema_id!r}>"

    def list(
        self, *, page_size: int | None = None, limit: int | None = None
    ) -> AsyncPaginator[SchemaVersion]:
        """Every version of the schema. ListSchemaVersion."""
        return self._list(
            SchemaVersion,
            "schema_versions",
            "Schemas",
            self.schema_id,
            "Versions",
            page_size=page_size,
            limit=limit,
        )

    async def fetch(self, schema_version: int) -> SchemaVersion:
        """One version by number. FetchSchemaVersion."""
        version = str(check_positive_int(schema_version, "schema_version"))
        return await self._call(
            "GET", SchemaVersion, "Schemas", self.schema_id, "Versions", version
        )
