"""What users' `mypy --strict` code sees: typed sink configurations it can narrow, and the
managers' classes behind the client's attributes."""

from __future__ import annotations

import inspect
import pydoc
import re
from pathlib import Path

import pytest

import events_async

mypy_api = pytest.importorskip("mypy.api")

USER_CODE = """
from events_async import (
    EventsClient,
    KinesisSinkConfiguration,
    Sink,
    SinksManager,
    SubscribedEventsManager,
    WebhookSinkConfiguration,
)


def destination(sink: Sink) -> str | None:
    configuration = sink.configuration
    if isinstance(configuration, WebhookSinkConfiguration):
        return configuration.destination
    match configuration:
        case KinesisSinkConfiguration(arn=arn):
            return arn
    return None


def managers(client: EventsClient) -> tuple[SinksManager, SubscribedEventsManager]:
    return client.sinks, client.subscriptions.subscribed_events("DF" + "0" * 32)


def unnarrowed(sink: Sink) -> str:
    return sink.configuration.destination  # not narrowed: refused
"""


def test_user_code_narrows_a_sinks_typed_configuration(tmp_path: Path) -> None:
    user = tmp_path / "user.py"
    user.write_text(USER_CODE)
    out, err, status = mypy_api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(user)]
    )
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1, out + err
    # Only the line that reads a field without narrowing is refused, once per other class.
    refused = next(n for n, line in enumerate(USER_CODE.splitlines(), 1) if "refused" in line)
    assert {int(re.sub(r"^.*?:(\d+): .*$", r"\1", line)) for line in errors} == {refused}
    assert any("KinesisSinkConfiguration" in line for line in errors), out
    assert any('"None"' in line for line in errors), out


def _calls(cls: type) -> set[str]:
    """Each public method of `cls` as the client's help shows it: `update(sid, *, x=None)`."""
    calls: set[str] = set()
    for name, method in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_"):
            continue
        shown: list[str] = []
        keyword_only = False
        for param in list(inspect.signature(method).parameters.values())[1:]:
            if param.kind is param.KEYWORD_ONLY and not keyword_only:
                shown.append("*")
                keyword_only = True
            default = "" if param.default is param.empty else f"={param.default!r}"
            shown.append(param.name + default)
        calls.add(f"{name}({', '.join(shown)})")
    return calls


def test_help_on_the_client_shows_every_managers_methods() -> None:
    text = pydoc.plain(pydoc.render_doc(events_async.EventsClient))
    shown: dict[str, list[type]] = {
        "event_types": [events_async.EventTypesManager],
        "schemas": [events_async.SchemasManager, events_async.SchemaVersionsManager],
        "sinks": [events_async.SinksManager],
        "subscriptions": [
            events_async.SubscriptionsManager,
            events_async.SubscribedEventsManager,
        ],
    }
    for attribute, classes in shown.items():
        manager = getattr(events_async.EventsClient, attribute)
        assert isinstance(manager, property)
        assert manager.fget is not None
        assert inspect.get_annotations(manager.fget, eval_str=True)["return"] is classes[0]
        doc = " ".join((inspect.getdoc(manager) or "").split())
        assert doc in " ".join(text.replace("|", " ").split())  # help() shows it
        for cls in classes:
            assert f"`{cls.__name__}`" in doc
            missing = {call for call in _calls(cls) if f"`{call}`" not in doc}
            assert not missing, f"{attribute}'s help does not show {missing}"
            assert cls.__name__ in events_async.__all__
