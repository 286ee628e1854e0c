"""`export`: what an account has, written as an Event Streams file.

Each sink and subscription becomes a table of the file `load_file` reads; secrets
(`external_id`, `write_key`) become `{ env = "…" }` placeholders, never their values;
every subscribed type is pinned at the schema version the account has, so `export` then
`plan` shows no changes. What cannot be written — a resource without a description, two
sharing one, a subscription on such a sink — is left out with a `#` comment saying why.
"""

from __future__ import annotations

import json
from collections import Counter

from .planner import CurrentState

__all__ = ["SECRET_KEYS", "export_text"]

SECRET_KEYS = ("external_id", "write_key")
_KEYS = {
    "webhook": ("destination", "method", "batch_events"),
    "kinesis": ("arn", "role_arn", "external_id"),
    "segment": ("write_key",),
}


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def export_text(current: CurrentState) -> str:
    """`current` as the text of an Event Streams file (TOML)."""
    lines = ["# Exported by events-async: the account's sinks and subscriptions.", ""]
    counts = Counter(s.description for s in current.sinks)
    names: dict[str, str] = {}
    for n, sink in enumerate(current.sinks):
        keys = _KEYS.get(sink.sink_type)
        if not sink.description or counts[sink.description] > 1 or keys is None:
            why = "its description is used twice" if sink.description else "it has no description"
            if keys is None:
                why = f"its type {sink.sink_type!r} cannot be written"
            lines += [f"# sink {sink.sid} left out: {why}", ""]
            continue
        names[sink.sid] = sink.description
        lines += ["[[sink]]", f"description = {_value(sink.description)}",
                  f"type = {_value(sink.sink_type)}"]  # fmt: skip
        for key in keys:
            if key in SECRET_KEYS:
                lines.append(f'{key} = {{ env = "SINK_{n}_{key.upper()}" }}')
            elif key in sink.configuration:
                lines.append(f"{key} = {_value(sink.configuration[key])}")
        lines.append("")
    taken = Counter(s.description for s in current.subscriptions)
    for subscription in current.subscriptions:
        sink_name = names.get(subscription.sink_sid)
        problem = None
        if not subscription.description or taken[subscription.description] > 1:
            problem = "its description is missing or used twice"
        elif sink_name is None:
            problem = f"its sink {subscription.sink_sid} is not in this file"
        elif not subscription.types:
            problem = "it has no subscribed types"
        if problem:
            lines += [f"# subscription {subscription.sid} left out: {problem}", ""]
            continue
        lines += ["[[subscription]]", f"description = {_value(subscription.description)}",
                  f"sink = {_value(sink_name)}", "types = ["]  # fmt: skip
        for name, version in sorted(subscription.types.items()):
            lines.append(f"  {{ type = {_value(name)}, schema_version = {version} }},")
        lines += ["]", ""]
    return "\n".join(lines)
