"""Models and the converter: responses of both spec versions parse, leniently and typed."""

from __future__ import annotations

import collections
import functools
import os
import pickle
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
import yaml

from events_async import (
    EventType,
    KinesisSinkConfiguration,
    ResponseDecodeError,
    Schema,
    SchemaVersion,
    SegmentSinkConfiguration,
    Sink,
    SinkStatus,
    SinkTestResult,
    SinkType,
    SinkValidateResult,
    SubscribedEvent,
    Subscription,
    WebhookSinkConfiguration,
    _builders,
    _convert,
)
from events_async._convert import parse_datetime, structure, structure_list, unstructure

from ..support import DATA, ROOT

MODELS_BY_SCHEMA = {
    "events.v1.event_type": EventType,
    "events.v1.schema": Schema,
    "events.v1.schema.schema_version": SchemaVersion,
    "events.v1.sink": Sink,
    "events.v1.sink.sink_test": SinkTestResult,
    "events.v1.sink.sink_validate": SinkValidateResult,
    "events.v1.subscription": Subscription,
    "events.v1.subscription.subscribed_event": SubscribedEvent,
}
SPECS = ["twilio_events_v1.yaml", "twilio_events_v1.latest.yaml"]


@functools.cache
def _schemas(spec: str) -> dict[str, Any]:
    document = yaml.safe_load((DATA / spec).read_text())
    schemas: dict[str, Any] = document["components"]["schemas"]
    return schemas


def _sample(name: str, prop: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """A value of the property's declared type, as the API would send it."""
    if "$ref" in prop:
        return schemas[prop["$ref"].rsplit("/", 1)[1]]["enum"][0]
    if prop.get("format") == "date-time":
        return "2020-08-13T13:28:20Z"
    if prop.get("type") == "integer":
        return 3
    if prop.get("type") == "boolean":
        return True
    if prop.get("type") == "object" or name == "sink_configuration":
        return {"key": "https://events.twilio.com/v1/x"}
    return f"{name}-value"


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("schema_name", sorted(MODELS_BY_SCHEMA))
def test_every_spec_property_parses_into_its_field(spec: str, schema_name: str) -> None:
    schemas = _schemas(spec)
    properties = schemas[schema_name]["properties"]
    body = {name: _sample(name, prop, schemas) for name, prop in properties.items()}
    model = MODELS_BY_SCHEMA[schema_name]

    parsed = structure(body, model)

    field_names = {f.name for f in attrs.fields(model)}
    assert set(properties) <= field_names, "a spec property has no field"
    for name in properties:
        assert getattr(parsed, name) is not None, name


REQUIRED = {
    EventType: {"type": "com.twilio.x", "schema_id": "X.Y"},
    Schema: {"id": "X.Y", "latest_version": 2},
    SchemaVersion: {"id": "X.Y", "schema_version": 1},
    Sink: {"sid": "DG1"},
    Subscription: {"sid": "DF1", "sink_sid": "DG1"},
    SubscribedEvent: {"type": "com.twilio.x", "schema_version": 1, "subscription_sid": "DF1"},
    SinkTestResult: {},
    SinkValidateResult: {},
}


def _required_fields(model: type) -> set[str]:
    return {f.name for f in attrs.fields(model) if f.default is attrs.NOTHING}


@pytest.mark.parametrize("model", list(MODELS_BY_SCHEMA.values()))
def test_only_the_identity_fields_are_required(model: type) -> None:
    assert _required_fields(model) == set(REQUIRED[model])
    parsed = structure(REQUIRED[model], model)
    optional = [f.name for f in attrs.fields(model) if f.name not in REQUIRED[model]]
    assert all(getattr(parsed, name) is None for name in optional)


@pytest.mark.parametrize(
    ("model", "name"),
    [(model, name) for model, fields in REQUIRED.items() for name in fields],
)
@pytest.mark.parametrize("how", ["missing", "null", "wrong kind"])
def test_a_response_without_an_identity_field_is_a_decode_error(
    model: type, name: str, how: str
) -> None:
    body: dict[str, Any] = dict(REQUIRED[model])
    if how == "missing":
        del body[name]
    elif how == "null":
        body[name] = None
    else:
        body[name] = [body[name]]
    with pytest.raises(ResponseDecodeError, match=f"cannot read {model.__name__}"):
        structure(body, model)
    with pytest.raises(ResponseDecodeError):
        structure_list([REQUIRED[model], body], model)


def test_unknown_fields_are_ignored_and_unknown_enum_values_kept() -> None:
    sink = structure(
        {"sid": "DG1", "sink_type": "carrier-pigeon", "status": "paused", "new_field": [1]}, Sink
    )
    assert sink.sink_type == "carrier-pigeon"
    assert sink.status == "paused"


def test_known_enum_values_become_members() -> None:
    sink = structure({"sid": "DG1", "sink_type": "email", "status": "active"}, Sink)
    assert sink.sink_type is SinkType.EMAIL
    assert sink.status is SinkStatus.ACTIVE
    assert str(SinkType.EMAIL) == "email"
    assert str(SinkStatus.ACTIVE) == "active"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-08-13T13:28:20Z", datetime(2020, 8, 13, 13, 28, 20, tzinfo=timezone.utc)),
        ("2020-08-13T13:28:20.123Z", datetime(2020, 8, 13, 13, 28, 20, 123000, timezone.utc)),
        (
            "2020-08-13T15:28:20+02:00",
            datetime(2020, 8, 13, 15, 28, 20, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2020-08-13T13:28:20", datetime(2020, 8, 13, 13, 28, 20, tzinfo=timezone.utc)),
        ("Thu, 13 Aug 2020 13:28:20 +0000", datetime(2020, 8, 13, 13, 28, 20, tzinfo=timezone.utc)),
    ],
)
def test_date_times_become_aware(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize(
    "body",
    [
        {"date_created": "last tuesday"},
        {"date_created": 1597325300},
        {"sid": 42},
        {"sink_type": 1},
        {"sink_configuration": "a string"},
    ],
)
def test_wrong_shapes_raise_decode_errors(body: dict[str, Any]) -> None:
    with pytest.raises(ResponseDecodeError, match="cannot read Sink"):
        structure(body, Sink)


def test_a_non_object_raises_a_decode_error() -> None:
    with pytest.raises(ResponseDecodeError, match="expected a Sink object"):
        structure(["sid"], Sink)


def test_models_are_frozen_and_slotted() -> None:
    sink = Sink(sid="DG1")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sink.sid = "DG2"  # type: ignore[misc]
    assert not hasattr(sink, "__dict__")


def test_typed_configurations_unstructure_to_plain_json() -> None:
    assert unstructure(WebhookSinkConfiguration("https://example.com")) == {
        "destination": "https://example.com",
        "method": "POST",
        "batch_events": True,
    }
    assert unstructure({"a": 1}) == {"a": 1}


@pytest.mark.parametrize(
    ("body", "model"),
    [
        ({"latest_version": "5"}, Schema),
        ({"latest_version": True}, Schema),
        ({"receive_events_from_subaccounts": "yes"}, Subscription),
        ({"schema_version": 1.0}, SubscribedEvent),
    ],
)
def test_integers_and_booleans_are_read_strictly(body: dict[str, Any], model: type) -> None:
    with pytest.raises(ResponseDecodeError, match=f"cannot read {model.__name__}"):
        structure(body, model)


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ({"versions": "https://x/v", "count": 3, "nested": {"a": 1}}, {"versions": "https://x/v"}),
        (["not", "a", "map"], None),
        ("a string", None),
        ({"versions": "https://x/v"}, {"versions": "https://x/v"}),
    ],
)
def test_links_are_read_leniently_and_never_fail_a_model(links: Any, expected: Any) -> None:
    schema = {"id": "Messaging.MessageStatus", "latest_version": 1, "links": links}
    assert structure(schema, Schema).links == expected
    page = structure_list([{"sid": "DG1", "links": links}], Sink)
    assert page[0].links == expected


def test_a_bad_item_in_a_page_fails_the_page() -> None:
    with pytest.raises(ResponseDecodeError, match="cannot read Sink"):
        structure_list([{"sid": "DG1"}, {"sid": 5}], Sink)


def test_models_with_validators_are_built_through_their_init() -> None:
    @attrs.frozen
    class Checked:
        name: str | None = attrs.field(default=None, validator=attrs.validators.instance_of(str))

    assert structure({"name": "ok"}, Checked) == Checked("ok")
    with pytest.raises(ResponseDecodeError):
        structure({}, Checked)  # the validator ran: None is not a str


SINK_BODY: dict[str, Any] = {
    "sid": "DG1",
    "description": "d",
    "sink_type": "webhook",
    "status": "brand-new",
    "sink_configuration": {"destination": "https://x.example/e"},
    "date_created": "2015-07-30T19:00:00Z",
    "date_updated": "2015-07-30T19:00:00",
    "url": "https://events.twilio.com/v1/Sinks/DG1",
    "links": {"sink_test": "https://events.twilio.com/v1/Sinks/DG1/Test"},
}


@pytest.mark.parametrize("gil", [True, False])
def test_a_built_model_is_exactly_its_frozen_class(monkeypatch: Any, gil: bool) -> None:
    """Filled through a private builder subclass (or, on a free-threaded build, the slot
    setters), a model is a plain instance of its class: equal to one from `__init__`,
    frozen, picklable."""
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: gil, raising=False)
    assert (_builders.builder_class(Sink) is None) is not gil
    hook = _convert.make_converter().get_structure_hook(Sink)
    sink = hook(SINK_BODY, Sink)
    utc = timezone.utc
    assert type(sink) is Sink
    assert sink == Sink(
        sid="DG1",
        description="d",
        sink_type=SinkType.WEBHOOK,
        status="brand-new",
        sink_configuration={"destination": "https://x.example/e"},
        date_created=datetime(2015, 7, 30, 19, tzinfo=utc),
        date_updated=datetime(2015, 7, 30, 19, tzinfo=utc),
        url="https://events.twilio.com/v1/Sinks/DG1",
        links={"sink_test": "https://events.twilio.com/v1/Sinks/DG1/Test"},
    )
    assert repr(sink).startswith("Sink(sid='DG1', ")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sink.sid = "DG2"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(sink)) == sink


REFUSE_CLASS_ASSIGNMENT = textwrap.dedent(
    """
    import sys
    from events_async import Sink, Subscription
    from events_async._convert import structure, structure_list
    page = [{"sid": "DG1", "url": "u"}, {"sid": "DG2"}]
    before = structure_list(page, Sink)  # its builder made before the hook

    def refuse(event, args):
        if event == "object.__setattr__" and args[1] == "__class__":
            raise RuntimeError("refused by the audit hook")

    sys.addaudithook(refuse)
    assert structure_list(page, Sink) == before
    assert [type(s) for s in structure_list(page, Sink)] == [Sink, Sink]
    assert structure({"sid": "DG1", "url": "u"}, Sink) == before[0]
    subscription = structure({"sid": "DF1", "sink_sid": "DG1"}, Subscription)  # made after
    assert subscription == Subscription(sid="DF1", sink_sid="DG1")
    print("built")
    """
)


def test_models_are_built_when_an_audit_hook_refuses_class_assignment() -> None:
    """The builder's `__class__` assignment is an audited `object.__setattr__`: a hook
    that refuses it (a sandbox's policy) must not stop models being read, as it did not
    before the builders (which set slots through their descriptors, unaudited)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", REFUSE_CLASS_ASSIGNMENT],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "built\n"


def test_a_list_reads_items_lacking_fields_and_dict_subclasses_by_get() -> None:
    """Items are read in one call when they hold every field; one lacking some, or a dict
    subclass (whose `__missing__` must not run), is read field by field, as before."""
    sinks = structure_list([{"sid": "DG1"}, dict(SINK_BODY)], Sink)
    assert [s.sid for s in sinks] == ["DG1", "DG1"]
    assert sinks[0].description is None
    assert sinks[1].sink_type is SinkType.WEBHOOK
    odd = collections.defaultdict(lambda: "x", dict(SINK_BODY, description=None))
    assert structure(odd, Sink) == structure(dict(SINK_BODY, description=None), Sink)
    del odd["url"]
    assert structure(odd, Sink).url is None
    with pytest.raises(ResponseDecodeError, match="expected a list of Sink objects"):
        structure_list([dict(SINK_BODY), "DG1"], Sink)


SINK_CONFIGURATIONS: list[tuple[str, dict[str, Any], object]] = [
    (
        "webhook",
        {"destination": "https://x.example/e", "method": "POST", "batch_events": False},
        WebhookSinkConfiguration("https://x.example/e", "POST", batch_events=False),
    ),
    (
        "kinesis",
        {"arn": "arn:k", "role_arn": "arn:r", "external_id": "1234567890"},
        KinesisSinkConfiguration("arn:k", "arn:r", "1234567890"),
    ),
    ("segment", {"write_key": "wk"}, SegmentSinkConfiguration("wk")),
    (
        "webhook",
        {"destination": "https://x.example/e"},
        WebhookSinkConfiguration("https://x.example/e"),
    ),
    ("kinesis", {"arn": "arn:k", "role_arn": "arn:r"}, None),  # external_id missing
    ("webhook", {"destination": "https://x", "batch_events": "yes"}, None),  # not a boolean
    ("segment", {"write_key": 7}, None),
    ("email", {"to": "ops@example.com"}, None),  # no typed class for it
    ("carrier-pigeon", {"loft": "north"}, None),  # a type newer than the library
]


@pytest.mark.parametrize(("sink_type", "raw", "typed"), SINK_CONFIGURATIONS)
def test_a_sinks_configuration_reads_as_the_typed_class_of_its_type(
    sink_type: str, raw: dict[str, Any], typed: object
) -> None:
    sink = structure(
        {"sid": "DG1", "sink_type": sink_type, "sink_configuration": {**raw, "newer": 1}}, Sink
    )
    assert sink.configuration == typed
    assert sink.sink_configuration == {**raw, "newer": 1}  # every key kept, as sent
    assert unstructure(sink)["sink_configuration"] == {**raw, "newer": 1}
    assert "configuration" not in unstructure(sink)  # a view, not a field


def test_a_sink_without_a_configuration_has_no_typed_one() -> None:
    assert structure({"sid": "DG1", "sink_type": "webhook"}, Sink).configuration is None
