"""Hypothesis over every public string input: surrogates, NULs, CRLF, huge values.

Whatever the text, a call either succeeds, is refused before anything is sent
(`InvalidRequestError`, and the fake saw no request), or gets the API's 4xx as an
`ApiError`. Nothing else: no `UnicodeEncodeError`, no `ValueError` from yarl, no 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events_async import ApiError, EventsClient, InvalidRequestError
from events_async.testing import FakeEventsServer

SINK = "DG" + "0" * 32
SUBSCRIPTION = "DF" + "0" * 32
KINESIS = {"arn": "a", "role_arn": "b", "external_id": "c"}

Call = Callable[[EventsClient, str], Awaitable[Any]]

CALLS: dict[str, Call] = {
    "event_types.list": lambda c, t: c.event_types.list(schema_id=t).collect(),
    "event_types.fetch": lambda c, t: c.event_types.fetch(t),
    "schemas.fetch": lambda c, t: c.schemas.fetch(t),
    "schemas.versions.list": lambda c, t: c.schemas.versions(t).list().collect(),
    "schemas.versions.fetch": lambda c, t: c.schemas.versions(t).fetch(1),
    "sinks.create.description": lambda c, t: c.sinks.create(
        description=t, sink_type="kinesis", sink_configuration=KINESIS
    ),
    "sinks.create.sink_type": lambda c, t: c.sinks.create(
        description="d", sink_type=t, sink_configuration=KINESIS
    ),
    "sinks.create.configuration": lambda c, t: c.sinks.create(
        description="d", sink_type="segment", sink_configuration={"write_key": t, t: t}
    ),
    "sinks.fetch": lambda c, t: c.sinks.fetch(t),
    "sinks.update.sid": lambda c, t: c.sinks.update(t, description="d"),
    "sinks.update.description": lambda c, t: c.sinks.update(SINK, description=t),
    "sinks.delete": lambda c, t: c.sinks.delete(t),
    "sinks.list.status": lambda c, t: c.sinks.list(status=t).collect(),
    "sinks.test": lambda c, t: c.sinks.test(t),
    "sinks.validate.test_id": lambda c, t: c.sinks.validate(SINK, test_id=t),
    "subscriptions.create.description": lambda c, t: c.subscriptions.create(
        description=t, sink_sid=SINK, types=["com.twilio.messaging.message.delivered"]
    ),
    "subscriptions.create.sink_sid": lambda c, t: c.subscriptions.create(
        description="d", sink_sid=t, types=["x"]
    ),
    "subscriptions.create.types": lambda c, t: c.subscriptions.create(
        description="d", sink_sid=SINK, types=[t, {"type": t}]
    ),
    "subscriptions.fetch": lambda c, t: c.subscriptions.fetch(t),
    "subscriptions.update.description": lambda c, t: c.subscriptions.update(
        SUBSCRIPTION, description=t
    ),
    "subscriptions.update.sink_sid": lambda c, t: c.subscriptions.update(SUBSCRIPTION, sink_sid=t),
    "subscriptions.delete": lambda c, t: c.subscriptions.delete(t),
    "subscriptions.list.sink_sid": lambda c, t: c.subscriptions.list(sink_sid=t).collect(),
    "subscribed_events.list": lambda c, t: c.subscriptions.subscribed_events(t).list().collect(),
    "subscribed_events.create": lambda c, t: c.subscriptions.subscribed_events(SUBSCRIPTION).create(
        type=t
    ),
    "subscribed_events.fetch": lambda c, t: c.subscriptions.subscribed_events(SUBSCRIPTION).fetch(
        t
    ),
    "subscribed_events.update": lambda c, t: c.subscriptions.subscribed_events(SUBSCRIPTION).update(
        t, schema_version=1
    ),
    "subscribed_events.delete": lambda c, t: c.subscriptions.subscribed_events(SUBSCRIPTION).delete(
        t
    ),
}

CONSTRUCTORS: dict[str, Callable[[str, str], EventsClient]] = {
    "account_sid": lambda t, url: EventsClient(t, "token", base_url=url),
    "auth_token": lambda t, url: EventsClient("AC" + "0" * 32, t, base_url=url),
    "api_key": lambda t, url: EventsClient(api_key=t, api_secret="s", base_url=url),
    "api_secret": lambda t, url: EventsClient(api_key="SK" + "0" * 32, api_secret=t, base_url=url),
    "base_url": lambda t, url: EventsClient("AC" + "0" * 32, "token", base_url=t),
    "region": lambda t, url: EventsClient("AC" + "0" * 32, "token", region=t),
    "edge": lambda t, url: EventsClient("AC" + "0" * 32, "token", edge=t),
}

hostile_text = st.one_of(
    st.text(max_size=60),  # any code point, lone surrogates included
    st.text(st.sampled_from("\x00\r\n\t /?#%.\\\ud800\udfff\u202e\x1b"), max_size=20),
    st.sampled_from(["", " ", ".", "..", "\x00", "a\r\nSet-Cookie: x", "\ud800", "x" * 100_000]),
)

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(name=st.sampled_from(sorted(CALLS)), text=hostile_text)
def test_any_text_into_any_method_is_sent_or_refused_cleanly(name: str, text: str) -> None:
    async def attempt() -> None:
        async with FakeEventsServer() as fake, fake.client(max_retries=0) as client:
            status = None
            try:
                await CALLS[name](client, text)
            except InvalidRequestError:
                assert fake.request_count() == 0  # refused before anything was sent
            except ApiError as error:
                status = error.status
            assert status is None or 400 <= status < 500

    asyncio.run(attempt())


@FUZZ
@given(name=st.sampled_from(sorted(CONSTRUCTORS)), text=hostile_text)
def test_any_text_into_the_client_settings_is_taken_or_refused_cleanly(
    name: str, text: str
) -> None:
    async def attempt() -> None:
        message = ""
        try:
            client = CONSTRUCTORS[name](text, "http://127.0.0.1:9")
        except InvalidRequestError as error:
            message = str(error)
        else:
            await client.close()
        if name in ("auth_token", "api_secret", "account_sid", "api_key") and len(text.strip()) > 8:
            assert text not in message  # a credential is never echoed

    asyncio.run(attempt())
