"""The Event Streams file: read, checked before any request, filled in per account. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from events_async.desired import DesiredType, FileError, load_file, parse_file

EXAMPLE = """
[[sink]]
description = "orders webhook"
type = "webhook"
destination = "https://hooks.example.com/twilio/{account_sid}"
method = "POST"
batch_events = true

[[sink]]
description = "stream for {friendly_name}"
type = "kinesis"
arn = "arn:aws:kinesis:us-east-1:111122223333:stream/events"
role_arn = "arn:aws:iam::111122223333:role/twilio"
external_id = { env = "KINESIS_EXTERNAL_ID" }

[[subscription]]
description = "delivery receipts"
sink = "orders webhook"
types = [
  "com.twilio.messaging.message.delivered",
  { type = "com.twilio.messaging.message.failed", schema_version = 2 },
]
"""


def test_the_example_is_read_and_filled_in_for_an_account() -> None:
    state = parse_file(EXAMPLE).for_account(
        "AC123", "Acme", environ={"KINESIS_EXTERNAL_ID": "s3cret"}
    )
    webhook, kinesis = state.sinks
    assert webhook.configuration == {
        "destination": "https://hooks.example.com/twilio/AC123",
        "method": "POST",
        "batch_events": True,
    }
    assert webhook.secrets == frozenset()
    assert kinesis.description == "stream for Acme"
    assert kinesis.configuration["external_id"] == "s3cret"
    assert kinesis.secrets == {"external_id"}
    (subscription,) = state.subscriptions
    assert subscription.types == (
        DesiredType("com.twilio.messaging.message.delivered"),
        DesiredType("com.twilio.messaging.message.failed", 2),
    )


def test_a_webhook_takes_posts_and_batches_unless_told_otherwise() -> None:
    text = '[[sink]]\ndescription = "w"\ntype = "webhook"\ndestination = "https://x.example"\n'
    (sink,) = parse_file(text).for_account("AC1").sinks
    assert sink.configuration == {
        "destination": "https://x.example",
        "method": "POST",
        "batch_events": True,
    }


SINK = '[[sink]]\ndescription = "w"\ntype = "webhook"\ndestination = "https://x.example"\n'


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("[[sink]\n", "line 1", "Expected ']]'"),
        ("sinks = []\n", "sinks", "is not a known key"),
        ("sink = 3\n", "sink", "must be an array of tables"),
        ('[[sink]]\ndescription = "w"\ntype = "email"\n', "sink[0].type", "must be one of"),
        ('[[sink]]\ndescription = "w"\ntype = "webhook"\n', "sink[0].destination", "required"),
        (SINK + 'color = "red"\n', "sink[0].color", "is not a known key"),
        (SINK + 'method = "PUT"\n', "sink[0].method", "POST or GET"),
        (SINK + 'batch_events = "yes"\n', "sink[0].batch_events", "true or false"),
        (SINK.replace("https://x.example", "ftp://x"), "sink[0].destination", r"http\(s\) URL"),
        (SINK.replace("x.example", "{region}.x"), "sink[0].destination", "not a placeholder"),
        (SINK + SINK, "sink[1].description", "is used twice"),
        (
            '[[sink]]\ndescription = "k"\ntype = "segment"\nwrite_key = { name = "X" }\n',
            "sink[0].write_key",
            'written { env = "NAME" }',
        ),
        (
            SINK + '[[subscription]]\ndescription = "s"\nsink = "other"\ntypes = ["t"]\n',
            "subscription[0].sink",
            "not the description of a sink",
        ),
        (
            SINK + '[[subscription]]\ndescription = "s"\nsink = "w"\ntypes = []\n',
            "subscription[0].types",
            "non-empty array",
        ),
        (
            SINK + '[[subscription]]\ndescription = "s"\nsink = "w"\n'
            'types = ["a", { type = "b", schema_version = 0 }]\n',
            "subscription[0].types[1].schema_version",
            "whole number, 1 or more",
        ),
        (
            SINK + '[[subscription]]\ndescription = "s"\nsink = "w"\ntypes = ["a", "a"]\n',
            "subscription[0].types[1]",
            "listed twice",
        ),
        (
            SINK + '[[subscription]]\ndescription = "s"\nsink = "w"\ntypes = [{ kind = "a" }]\n',
            "subscription[0].types[0].kind",
            "is not a known key",
        ),
    ],
)
def test_a_file_that_cannot_be_used_is_one_error_naming_where(
    text: str, where: str, message: str
) -> None:
    with pytest.raises(FileError, match=message) as raised:
        parse_file(text)
    assert raised.value.where == where


def test_a_secret_that_is_not_set_names_its_key_path() -> None:
    loaded = parse_file(EXAMPLE)
    with pytest.raises(FileError, match=r"\$KINESIS_EXTERNAL_ID is not set") as raised:
        loaded.for_account("AC1", environ={})
    assert raised.value.where == "sink[1].external_id"


def test_an_empty_secret_is_refused_and_the_environment_checked_once_for_every_account() -> None:
    loaded = parse_file(EXAMPLE)
    with pytest.raises(FileError, match=r"\$KINESIS_EXTERNAL_ID is empty"):
        loaded.for_account("AC1", environ={"KINESIS_EXTERNAL_ID": ""})
    with pytest.raises(FileError, match=r"\$KINESIS_EXTERNAL_ID is not set") as raised:
        loaded.check_environment({})
    assert raised.value.where == "sink[1].external_id"
    loaded.check_environment({"KINESIS_EXTERNAL_ID": "x", "SEGMENT_WRITE_KEY": "y"})


def test_a_file_is_named_in_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "streams.toml"
    path.write_text('[[sink]]\ndescription = ""\n')
    with pytest.raises(FileError, match=r"streams\.toml: sink\[0\]\.type: is required"):
        load_file(path)
    with pytest.raises(FileError, match="cannot be read"):
        load_file(tmp_path / "missing.toml")


def schema() -> dict[str, object]:
    import json
    from importlib import resources

    text = resources.files("events_async.desired").joinpath("streams.schema.json").read_text()
    loaded: dict[str, object] = json.loads(text)
    return loaded


def test_the_json_schema_accepts_the_example() -> None:
    import jsonschema
    import tomllib

    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(tomllib.loads(EXAMPLE), schema())


@pytest.mark.parametrize(
    "text",
    [
        "sinks = []\n",
        '[[sink]]\ndescription = "w"\ntype = "email"\n',
        '[[sink]]\ndescription = "w"\ntype = "webhook"\n',
        SINK + 'color = "red"\n',
        SINK + 'method = "PUT"\n',
        SINK + 'batch_events = "yes"\n',
        SINK.replace("https://x.example", "ftp://x"),
        '[[sink]]\ndescription = "k"\ntype = "segment"\nwrite_key = { name = "X" }\n',
        SINK + '[[subscription]]\ndescription = "s"\nsink = "w"\ntypes = []\n',
        SINK + '[[subscription]]\ndescription = "s"\nsink = "w"\n'
        'types = [{ type = "b", schema_version = 0 }]\n',
        SINK + '[[subscription]]\ndescription = "s"\nsink = "w"\ntypes = [{ kind = "a" }]\n',
    ],
)
def test_the_json_schema_refuses_what_the_reader_refuses(text: str) -> None:
    import jsonschema
    import tomllib

    with pytest.raises(FileError):
        parse_file(text)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(tomllib.loads(text), schema())
