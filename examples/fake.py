"""The fake Events API: a sink's whole lifecycle, then faults, with no Twilio account."""

import asyncio

from events_async.testing import FakeEventsServer, Fault


async def main() -> None:
    async with FakeEventsServer() as fake, fake.client() as client:
        sink = await client.sinks.create(
            description="stream",
            sink_type="kinesis",
            sink_configuration={"arn": "arn:aws:kinesis:…", "role_arn": "…", "external_id": "…"},
        )
        await client.sinks.test(sink.sid)
        await client.sinks.validate(sink.sid, test_id=fake.test_id(sink.sid))

        fake.fail_next("GET /v1/Sinks/{Sid}", status=429, retry_after=1)  # then retried
        fake.inject(Fault("POST *", drop=True))  # close the connection, once
        fake.inject(Fault(delay=0.05, times=None))  # 50 ms on every request
        print(await client.sinks.fetch(sink.sid), fake.request_count("GET *"))


asyncio.run(main())
