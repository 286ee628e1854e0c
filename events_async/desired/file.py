"""The Event Streams file: the sinks and subscriptions an account should have. Pure.

```toml
[[sink]]
description = "orders webhook"          # a sink is matched by its description
type = "webhook"                        # webhook | kinesis | segment
destination = "https://hooks.example.com/twilio/{account_sid}"
method = "POST"
batch_events = true

[[subscription]]
description = "delivery receipts"       # matched by its description
sink = "orders webhook"                 # a sink of this file, by description
types = [
  "com.twilio.messaging.message.delivered",             # the latest schema version
  { type = "com.twilio.messaging.message.failed", schema_version = 2 },
]
```

Kinesis sinks take `arn`, `role_arn`, `external_id`; Segment sinks `write_key`. Any string
value may instead be a secret, `{ env = "NAME" }`, read from the environment per account.
`{account_sid}` and `{friendly_name}` in any string are filled per account; any other
`{name}` is an error. Everything is checked when the file is read, before any request:
the first problem is one `FileError` naming the line (for TOML syntax) or the key path
(`subscription[0].types[1].schema_version`).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "SINK_DEFAULTS",
    "DesiredSink",
    "DesiredState",
    "DesiredSubscription",
    "DesiredType",
    "Env",
    "FileError",
    "StreamsFile",
    "load_file",
    "parse_file",
]

MAX_SINKS = MAX_SUBSCRIPTIONS = 100  # Twilio's limits per account
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_FILLED = ("account_sid", "friendly_name")
_SINK_KEYS: dict[str, dict[str, type]] = {
    "webhook": {"destination": str, "method": str, "batch_events": bool},
    "kinesis": {"arn": str, "role_arn": str, "external_id": str},
    "segment": {"write_key": str},
}
SINK_DEFAULTS: dict[str, dict[str, Value]] = {"webhook": {"method": "POST", "batch_events": True}}
"""What Twilio takes for a setting a sink leaves out, by sink type."""
_METHODS = ("POST", "GET")


class FileError(ValueError):
    """The file cannot be used: `where` is the line or key path, `message` what is wrong."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@attrs.frozen
class Env:
    """A secret read from the environment variable `name` when the file is filled in."""

    name: str


Value = str | bool | Env


@attrs.frozen
class DesiredType:
    """An event type to subscribe to; `schema_version` None means the latest."""

    type: str
    schema_version: int | None = None


@attrs.frozen
class DesiredSink:
    """A sink as the file wants it, for one account. `secrets` names the configuration
    keys whose values came from the environment (never shown, never compared)."""

    description: str
    sink_type: str
    configuration: Mapping[str, str | bool] = attrs.field(repr=False)
    secrets: frozenset[str] = frozenset()

    @property
    def shown(self) -> dict[str, str | bool]:
        """The configuration with each secret's value masked, for output."""
        return {k: "***" if k in self.secrets else v for k, v in self.configuration.items()}


@attrs.frozen
class DesiredSubscription:
    """A subscription as the file wants it: on the sink described `sink`, these types."""

    description: str
    sink: str
    types: tuple[DesiredType, ...]


@attrs.frozen
class DesiredState:
    """Everything the file wants one account to have."""

    sinks: tuple[DesiredSink, ...]
    subscriptions: tuple[DesiredSubscription, ...]


@attrs.frozen
class _SinkEntry:
    description: str
    sink_type: str
    configuration: Mapping[str, Value]
    where: str


@attrs.frozen
class StreamsFile:
    """A checked Event Streams file, not yet filled in for an account."""

    sinks: tuple[_SinkEntry, ...]
    subscriptions: tuple[DesiredSubscription, ...]

    @property
    def uses_friendly_name(self) -> bool:
        """Whether `{friendly_name}` appears anywhere, so each account's must be known."""
        texts = [s.description for s in self.sinks]
        texts += [v for s in self.sinks for v in s.configuration.values() if isinstance(v, str)]
        texts += [t for s in self.subscriptions for t in (s.description, s.sink)]
        return any("{friendly_name}" in text for text in texts)

    def check_environment(self, environ: Mapping[str, str] | None = None) -> None:
        """Raise a `FileError` for the first secret whose variable is not set or empty:
        the same for every account, so it is told once, before any request."""
        env = os.environ if environ is None else environ
        for entry in self.sinks:
            for key, value in entry.configuration.items():
                if isinstance(value, Env):
                    _secret_value(value, env, f"{entry.where}.{key}")

    def for_account(
        self,
        account_sid: str,
        friendly_name: str = "",
        *,
        environ: Mapping[str, str] | None = None,
    ) -> DesiredState:
        """The desired state of one account: placeholders and secrets filled in. A secret
        whose variable is not set is a `FileError` naming its key path."""
        env = os.environ if environ is None else environ
        fill = {"account_sid": account_sid, "friendly_name": friendly_name}
        sinks = []
        for entry in self.sinks:
            configuration: dict[str, str | bool] = {}
            secrets = set()
            for key, value in entry.configuration.items():
                if isinstance(value, Env):
                    configuration[key] = _secret_value(value, env, f"{entry.where}.{key}")
                    secrets.add(key)
                elif isinstance(value, str):
                    configuration[key] = _fill(value, fill)
                else:
                    configuration[key] = value
            description = _fill(entry.description, fill)
            sinks.append(
                DesiredSink(description, entry.sink_type, configuration, frozenset(secrets))
            )
        subscriptions = tuple(
            attrs.evolve(s, description=_fill(s.description, fill), sink=_fill(s.sink, fill))
            for s in self.subscriptions
        )
        return DesiredState(tuple(sinks), subscriptions)


def _secret_value(secret: Env, env: Mapping[str, str], where: str) -> str:
    value = env.get(secret.name)
    if value is None:
        raise FileError(where, f"${secret.name} is not set")
    if not value.strip():
        raise FileError(where, f"${secret.name} is empty")
    return value


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def load_file(path: str | Path) -> StreamsFile:
    """Read and check the file at `path`; `FileError` (its `where` prefixed with the file
    name) for the first problem, an unreadable file included."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise FileError(name, f"cannot be read: {reason}") from None
    try:
        return parse_file(text)
    except FileError as error:
        raise FileError(f"{name}: {error.where}", error.message) from None


def parse_file(text: str) -> StreamsFile:
    """Check the TOML `text` of an Event Streams file; `FileError` for the first problem."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        where = f"line {found[1]}" if found else "the file"
        raise FileError(where, re.sub(r"\s*\(at line.*\)", "", str(error))) from None
    _only(document, "", {"sink", "subscription"})
    sinks = tuple(_sink(item, f"sink[{n}]") for n, item in enumerate(_tables(document, "sink")))
    _unique([s.description for s in sinks], "sink", MAX_SINKS)
    known = {s.description for s in sinks}
    subscriptions = tuple(
        _subscription(item, f"subscription[{n}]", known)
        for n, item in enumerate(_tables(document, "subscription"))
    )
    _unique([s.description for s in subscriptions], "subscription", MAX_SUBSCRIPTIONS)
    return StreamsFile(sinks, subscriptions)


def _tables(document: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = document.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FileError(key, f"must be an array of tables ([[{key}]])")
    return items


def _only(table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            place = f"{where}.{key}" if where else key
            raise FileError(place, f"is not a known key (known: {', '.join(sorted(allowed))})")


def _text(table: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise FileError(f"{where}.{key}", "is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise FileError(f"{where}.{key}", "must be a non-empty string")
    for placeholder in _PLACEHOLDER.findall(value):
        if placeholder not in _FILLED:
            raise FileError(
                f"{where}.{key}",
                f"{{{placeholder}}} is not a placeholder (only {{account_sid}}, {{friendly_name}})",
            )
    return value


def _sink(table: Mapping[str, Any], where: str) -> _SinkEntry:
    sink_type = _text(table, "type", where)
    if sink_type not in _SINK_KEYS:
        raise FileError(f"{where}.type", f"must be one of {', '.join(_SINK_KEYS)}")
    keys = _SINK_KEYS[sink_type]
    _only(table, where, {"description", "type", *keys})
    configuration: dict[str, Value] = dict(SINK_DEFAULTS.get(sink_type, {}))
    for key, kind in keys.items():
        if key not in table:
            if key not in configuration:
                raise FileError(f"{where}.{key}", f"is required for a {sink_type} sink")
            continue
        value = table[key]
        if kind is str and isinstance(value, dict):
            configuration[key] = _secret(value, f"{where}.{key}")
        elif kind is bool:
            if not isinstance(value, bool):
                raise FileError(f"{where}.{key}", "must be true or false")
            configuration[key] = value
        else:
            configuration[key] = _text(table, key, where)  # type: ignore[assignment]
    if configuration.get("method", "POST") not in _METHODS:
        raise FileError(f"{where}.method", "must be POST or GET")
    destination = configuration.get("destination")
    if isinstance(destination, str) and not destination.startswith(("https://", "http://")):
        raise FileError(f"{where}.destination", "must be an http(s) URL")
    description = _text(table, "description", where)
    assert description is not None
    return _SinkEntry(description, sink_type, configuration, where)


def _secret(value: Mapping[str, Any], where: str) -> Env:
    name = value.get("env")
    if set(value) != {"env"} or not isinstance(name, str) or not name:
        raise FileError(where, 'a secret is written { env = "NAME" }')
    return Env(name)


def _subscription(table: Mapping[str, Any], where: str, sinks: set[str]) -> DesiredSubscription:
    _only(table, where, {"description", "sink", "types"})
    description = _text(table, "description", where)
    sink = _text(table, "sink", where)
    assert description is not None
    assert sink is not None
    if sink not in sinks:
        raise FileError(f"{where}.sink", f"{sink!r} is not the description of a sink of this file")
    raw = table.get("types")
    if not isinstance(raw, list) or not raw:
        raise FileError(f"{where}.types", "must be a non-empty array of event types")
    types = tuple(_type(item, f"{where}.types[{n}]") for n, item in enumerate(raw))
    seen: set[str] = set()
    for n, entry in enumerate(types):
        if entry.type in seen:
            raise FileError(f"{where}.types[{n}]", f"{entry.type} is listed twice")
        seen.add(entry.type)
    return DesiredSubscription(description, sink, types)


def _type(item: Any, where: str) -> DesiredType:
    if isinstance(item, str):
        if not item.strip():
            raise FileError(where, "must be a non-empty event type")
        return DesiredType(item)
    if not isinstance(item, dict):
        raise FileError(where, "must be an event type, or { type = ..., schema_version = N }")
    _only(item, where, {"type", "schema_version"})
    kind = item.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise FileError(f"{where}.type", "must be a non-empty event type")
    version = item.get("schema_version")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        raise FileError(f"{where}.schema_version", "must be a whole number, 1 or more")
    return DesiredType(kind, version)


def _unique(descriptions: list[str], kind: str, most: int) -> None:
    if len(descriptions) > most:
        raise FileError(kind, f"{len(descriptions)} of them; Twilio allows {most} an account")
    seen: set[str] = set()
    for n, description in enumerate(descriptions):
        if description in seen:
            raise FileError(f"{kind}[{n}].description", f"{description!r} is used twice")
        seen.add(description)
