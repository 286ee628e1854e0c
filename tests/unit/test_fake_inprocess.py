"""The fake in process: `FakeEventsServer.transport()` answers through the same handlers,
faults and records as on a socket, and opens none."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from events_async import EventsClient, EventsTimeoutError, NotFoundError, TransportError
from events_async.accounts import AccountsClient
from events_async.testing import (
    IN_PROCESS_URL,
    FakeControl,
    FakeEventsServer,
    Fault,
    InProcessTransport,
)

KINESIS = {"arn": "arn:x", "role_arn": "arn:y", "external_id": "z"}


def in_process(fake: FakeEventsServer, **options: Any) -> EventsClient:
    return fake.client(transport=fake.transport(), **options)


def refuse_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection or listener opened from now on fails the test."""

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened")

    loop = asyncio.get_running_loop()
    for name in ("create_connection", "create_server", "sock_connect"):
        monkeypatch.setattr(loop, name, refused)


async def test_a_fake_that_was_never_started_serves_the_api_without_a_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refuse_sockets(monkeypatch)
    fake = FakeEventsServer()
    async with in_process(fake) as client:
        assert client.base_url == IN_PROCESS_URL
        made = [
            await client.sinks.create(
                description=f"s{n}", sink_type="kinesis", sink_configuration=KINESIS
            )
            for n in range(5)
        ]
        pages = [page async for page in client.sinks.list(page_size=2).pages()]
        assert [len(page.items) for page in pages] == [2, 2, 1]
        assert [s.sid for s in await client.sinks.list().collect()] == [s.sid for s in made]
        await client.sinks.delete(made[0].sid)
        with pytest.raises(NotFoundError):
            await client.sinks.fetch(made[0].sid)
    assert fake.request_count("POST /v1/Sinks") == 5
    assert fake.request_count("GET /v1/Sinks/{Sid}") == 1
    await fake.stop()


async def test_a_started_fake_answers_in_process_on_its_own_origin() -> None:
    async with FakeEventsServer() as fake, in_process(fake) as client:
        assert client.base_url == fake.url
        for n in range(3):
            await client.sinks.create(
                description=f"s{n}", sink_type="kinesis", sink_configuration=KINESIS
            )
        assert len(await client.sinks.list(page_size=1).collect()) == 3  # absolute next links
        assert isinstance(client.transport, InProcessTransport)


async def test_faults_and_records_work_in_process() -> None:
    fake = FakeEventsServer(record=True)
    async with in_process(fake, max_retries=1) as client:
        sink = await client.sinks.create(
            description="s", sink_type="kinesis", sink_configuration=KINESIS
        )
        fake.inject(Fault("GET /v1/Sinks/{Sid}", drop=True))
        assert (await client.sinks.fetch(sink.sid)).sid == sink.sid  # dropped, then retried
        fake.inject(Fault("POST /v1/Sinks/{Sid}", drop=True, after=True))
        with pytest.raises(TransportError):  # a POST that may have acted is not resent
            await client.sinks.update(sink.sid, description="t")
        fake.fail_next("GET /v1/Types", status=503, retry_after=0)
        assert await client.event_types.list(limit=1).collect()
    assert fake.request_count("GET /v1/Sinks/{Sid}") == 2
    assert fake.request_count("POST /v1/Sinks/{Sid}") == 1
    assert fake.exchanges is not None
    assert fake.exchanges[0].form[0] == ("Description", "s")
    await fake.stop()


async def test_routes_the_fake_lacks_answer_as_twilio_does() -> None:
    fake = FakeEventsServer()
    async with in_process(fake) as client:
        with pytest.raises(NotFoundError, match="20404"):
            await client.schemas.versions("nope").fetch(1)
    await fake.stop()


async def test_the_accounts_api_answers_in_process() -> None:
    fake = FakeEventsServer()
    children = [fake.add_subaccount() for _ in range(3)]
    parent = fake.account
    async with AccountsClient(
        parent.sid, parent.auth_token, base_url=IN_PROCESS_URL, transport=fake.transport()
    ) as accounts:
        found = await accounts.subaccounts(page_size=2).collect()
    assert [a.sid for a in found] == [c.sid for c in children]
    await fake.stop()


def test_a_client_of_a_fake_not_started_needs_the_in_process_transport() -> None:
    with pytest.raises(RuntimeError, match="start the FakeEventsServer"):
        FakeEventsServer().client()


async def test_the_in_process_timeout_bounds_each_request() -> None:
    fake = FakeEventsServer()
    fake.inject(Fault("GET /v1/Sinks", delay=30))
    async with fake.client(transport=fake.transport(timeout=0.05), max_retries=0) as client:
        with pytest.raises(EventsTimeoutError):
            await client.sinks.list().collect()
    await fake.stop()


async def test_fake_control_takes_a_transport_and_emits_in_process() -> None:
    fake = FakeEventsServer()  # never started: no socket at all
    account = fake.account
    async with FakeControl(account.sid, account.auth_token, transport=fake.transport()) as control:
        result = await control.emit("com.twilio.messaging.message.sent", count=2)
    assert (result.type, result.count, result.deliveries) == (
        "com.twilio.messaging.message.sent",
        2,
        (),
    )
    assert fake.request_count("POST /_fake/emit") == 1
    await fake.stop()
