"""Property tests: models survive the converter; any text survives the fake and back."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events_async import (
    EventType,
    Schema,
    SchemaVersion,
    Sink,
    SinkStatus,
    SinkTestResult,
    SinkType,
    SinkValidateResult,
    SubscribedEvent,
    Subscription,
)
from events_async._convert import converter, structure
from events_async.testing import CatalogType, FakeEventsServer

MODELS = [
    EventType,
    Schema,
    SchemaVersion,
    Sink,
    SinkTestResult,
    SinkValidateResult,
    Subscription,
    SubscribedEvent,
]

aware_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)
)
text = st.text(max_size=40)
json_scalars = st.none() | st.booleans() | st.integers() | text
STRATEGIES: dict[Any, st.SearchStrategy[Any]] = {
    "str": text,
    "int": st.integers(),
    "bool": st.booleans(),
    "datetime": aware_datetimes,
    "dict[str, str]": st.dictionaries(text, text, max_size=3),
    "dict[str, Any]": st.dictionaries(text, json_scalars, max_size=3),
    "SinkType | str": st.sampled_from(list(SinkType)) | text,
    "SinkStatus | str": st.sampled_from(list(SinkStatus)) | text,
}


def _field_strategy(field: attrs.Attribute[Any]) -> st.SearchStrategy[Any]:
    declared = str(field.type).removesuffix(" | None")
    if field.default is attrs.NOTHING:  # an identity field: always present
        return STRATEGIES[declared]
    return st.none() | STRATEGIES[declared]


def _model_strategy(model: type) -> st.SearchStrategy[Any]:
    return st.builds(model, **{f.name: _field_strategy(f) for f in attrs.fields(model)})


@given(st.one_of([_model_strategy(m) for m in MODELS]))
def test_every_model_survives_the_converter(model: Any) -> None:
    plain = converter.unstructure(model)
    assert structure(plain, type(model)) == model


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    description=st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=60).filter(
        str.strip
    ),
    type_name=st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40).filter(
        str.strip
    ),
)
def test_unicode_descriptions_and_type_names_survive_the_fake(
    description: str, type_name: str
) -> None:
    async def round_trip() -> None:
        async with FakeEventsServer() as fake, fake.client() as client:
            fake.catalog.types[type_name] = CatalogType(
                type=type_name, schema_id="Messaging.MessageStatus", description=description
            )
            try:
                fetched = await client.event_types.fetch(type_name)
                sink = await client.sinks.create(
                    description=description,
                    sink_type="segment",
                    sink_configuration={"write_key": description},
                )
                assert sink.sid is not None
                stored = await client.sinks.fetch(sink.sid)
            finally:
                del fake.catalog.types[type_name]
        assert fetched.type == type_name
        assert fetched.description == description
        assert stored.description == description
        assert stored.sink_configuration == {"write_key": description}

    asyncio.run(round_trip())
