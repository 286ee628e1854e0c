"""CloudEvents 1.0, strictly, event by event: what the spec refuses is refused, what it
allows is read, and nothing it defines is dropped. Pure."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from events_async.errors import PayloadError
from events_async.webhooks import parse_delivery, parse_events
from events_async.webhooks.cloudevents import event_from_json, event_to_json

from ..unit.test_cloudevents import body, event


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": ""}, "its id is not a non-empty string"),
        ({"type": ""}, "its type is not a non-empty string"),
        ({"source": ""}, "its source is not a non-empty string"),
        ({"id": None}, "it has no id"),
        ({"specversion": "0.3"}, "its specversion is '0.3', not '1.0'"),
        ({"specversion": 1.0}, "its specversion is not a non-empty string"),
        ({"time": "2026-11-29T10:00:00"}, "time is not an RFC 3339 timestamp with an offset"),
        ({"time": "2026-11-29"}, "time is not an RFC 3339"),
        ({"time": "Sun, 29 Nov 2026 10:00:00 +0000"}, "time is not an RFC 3339"),
        ({"time": "2026-11-29 10:00:00Z"}, "time is not an RFC 3339"),
        ({"time": "2026-13-01T00:00:00Z"}, "month must be in 1..12"),
        ({"time": "2026-11-29T10:00:00+24:00"}, "offset out of range"),
        ({"time": 1764410400}, "its time is not a string"),
        ({"subject": ""}, "its subject is not a non-empty string"),
        ({"dataschema": ""}, "its dataschema is not a non-empty string"),
        ({"datacontenttype": ""}, "its datacontenttype is not a non-empty string"),
        ({"data_base64": "aGk="}, "both data and data_base64"),
        ({"data": None, "data_base64": "not base64!"}, "data_base64 is not base64"),
        ({"Bad-Name": "x"}, "is not a valid CloudEvents name"),
        ({"caf\u00e9": "x"}, "is not a valid CloudEvents name"),
        ({"nested": {"x": 1}}, "extension nested is not a string, a boolean or an Integer"),
        ({"ratio": 1.5}, "extension ratio is not"),
        ({"count": 2**31}, "extension count is not"),
        ({"time": "\u0662\u0660\u0662\u0664-01-01T00:00:00Z"}, "time is not an RFC 3339"),
        ({"time": "9999-12-31T23:59:60Z"}, "past the largest date"),
    ],
)
def test_what_the_spec_refuses_is_malformed(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        event_from_json(event(**changes))


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-11-29t10:00:00z", datetime(2026, 11, 29, 10, tzinfo=timezone.utc)),
        ("2026-11-29T10:00:00Z", datetime(2026, 11, 29, 10, tzinfo=timezone.utc)),
        (
            "2026-11-29T10:00:00.123456789+05:30",
            datetime(2026, 11, 29, 10, 0, 0, 123456, timezone(timedelta(hours=5, minutes=30))),
        ),
        (
            "2026-11-29T10:00:00.5-08:00",
            datetime(2026, 11, 29, 10, 0, 0, 500000, timezone(timedelta(hours=-8))),
        ),
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=timezone.utc)),  # a leap second
    ],
)
def test_every_rfc_3339_form_is_read_as_an_aware_time(text: str, moment: datetime) -> None:
    parsed = event_from_json(event(time=text))
    assert parsed.time == moment
    assert parsed.time is not None
    assert parsed.time.utcoffset() == moment.utcoffset()


def test_subject_binary_data_and_extensions_survive_parsing() -> None:
    raw = event(subject="SM1", data=None, data_base64=base64.b64encode(b"\x00\xff").decode())
    raw["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    parsed = event_from_json(raw)
    assert parsed.subject == "SM1"
    assert parsed.data_base64 == b"\x00\xff"
    assert parsed.data is None
    assert parsed.extensions == {"traceparent": raw["traceparent"]}


def test_an_attribute_that_is_null_counts_as_absent() -> None:
    parsed = event_from_json(event(subject=None, time=None, dataschema=None, extra=None))
    assert (parsed.subject, parsed.time, parsed.dataschema) == (None, None, None)
    assert parsed.extensions == {}


@pytest.mark.parametrize(
    ("data", "content_type", "seen"),
    [
        ('{"messageSid": "SM2"}', None, {"messageSid": "SM2"}),
        (" [1, 2]", "application/json", [1, 2]),
        ('{"a": 1}', "application/cloudevents+json; charset=utf-8", {"a": 1}),
        ("123", "application/json", "123"),
        ("null", "application/json", "null"),
        ('"quoted"', None, '"quoted"'),
        ("true", None, "true"),
        ('{"a": 1}', "text/plain", '{"a": 1}'),  # not JSON by its content type
        ("123", None, "123"),
        ("{broken", None, "{broken"),
        ("[1,", None, "[1,"),  # not JSON after all: stays a string
    ],
)
def test_a_string_data_is_decoded_only_when_it_holds_an_object_or_array(
    data: str, content_type: str | None, seen: object
) -> None:
    """As Kinesis delivers it: an object or array as a JSON string; written back, the
    event reads the same."""
    parsed = event_from_json(event(data=data, datacontenttype=content_type))
    assert parsed.data == seen
    assert event_from_json(json.loads(json.dumps(event_to_json(parsed)))) == parsed


def test_an_event_written_back_reads_the_same() -> None:
    raw = event(subject="SM1", sequence=3, data={"n": [1, 2]})
    parsed = event_from_json(raw)
    assert event_from_json(event_to_json(parsed)) == parsed
    binary = event_from_json(event(data=None, data_base64="AAE="))
    assert event_to_json(binary)["data_base64"] == "AAE="
    assert "data" not in event_to_json(binary)


def test_one_malformed_event_leaves_the_others_of_the_delivery() -> None:
    parsed = parse_delivery(body(event(id="a"), event(id=""), 7, event(id="d")))
    assert [e.id for e in parsed.events] == ["a", "d"]
    assert [(m.index, m.reason) for m in parsed.malformed] == [
        (1, "its id is not a non-empty string"),
        (2, "it is not a JSON object"),
    ]
    with pytest.raises(PayloadError, match="event 1 is not a CloudEvent: its id is not"):
        parse_events(body(event(id="a"), event(id="")))


def test_a_delivery_of_only_malformed_events_still_parses_as_a_whole() -> None:
    parsed = parse_delivery(json.dumps([{"id": ""}]).encode())
    assert parsed.events == []
    assert len(parsed.malformed) == 1
