"""CloudEvents from a delivery's raw body, and deduplication by event id. Pure."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from events_async.errors import PayloadError
from events_async.webhooks import TEST_EVENT_TYPE, Claim, CloudEvent, MemoryDedupe, parse_events


def event(**fields: object) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "type": "com.twilio.messaging.message.delivered",
        "source": "/2010-04-01/Accounts/AC…/Messages/SM….json",
        "id": "EZ0001",
        "dataschema": "https://events-schemas.twilio.com/Messaging.MessageStatus/5",
        "datacontenttype": "application/json",
        "time": "2026-11-29T10:00:00.000Z",
        "data": {"messageSid": "SM1", "messageStatus": "DELIVERED"},
        **fields,
    }


def body(*events: object) -> bytes:
    return json.dumps(list(events)).encode()


def test_a_batch_becomes_frozen_models_with_aware_times() -> None:
    parsed = parse_events(body(event(id="a"), event(id="b")))
    assert [e.id for e in parsed] == ["a", "b"]
    first = parsed[0]
    assert isinstance(first, CloudEvent)
    assert first.time == datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)
    assert first.data == {"messageSid": "SM1", "messageStatus": "DELIVERED"}
    with pytest.raises(AttributeError):
        first.id = "changed"  # type: ignore[misc]


def test_a_single_object_extensions_and_no_time_are_fine() -> None:
    single = event(traceparent="00-abc", sequence=7, sampled=True)
    del single["time"]
    (parsed,) = parse_events(json.dumps(single).encode())
    assert parsed.time is None
    assert parsed.id == "EZ0001"
    assert parsed.extensions == {"traceparent": "00-abc", "sequence": 7, "sampled": True}


def test_data_as_a_json_string_is_decoded_like_kinesis_sends_it() -> None:
    kinesis = event(data=json.dumps({"messageSid": "SM2"}))
    assert parse_events(body(kinesis))[0].data == {"messageSid": "SM2"}
    plain = event(data="not json", datacontenttype="text/plain")
    assert parse_events(body(plain))[0].data == "not json"
    unparsable = event(data="{broken")
    assert parse_events(body(unparsable))[0].data == "{broken"


def test_the_test_event_type_is_a_constant() -> None:
    assert TEST_EVENT_TYPE == "com.twilio.eventstreams.test-event"
    test = event(type=TEST_EVENT_TYPE, source="Sink", data={"test_id": "7" * 36})
    assert parse_events(body(test))[0].data == {"test_id": "7" * 36}  # 36, never 34


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (body(event(), 7), "event 1 is not a CloudEvent: it is not a JSON object"),
        (b"[]", "holds no event"),
        (body({k: v for k, v in event().items() if k != "id"}), "event 0 is not a CloudEvent"),
        (body(event(id=5)), "event 0 is not a CloudEvent"),
        (body(event(time="yesterday")), "event 0 is not a CloudEvent"),
        (body(*[event(id=str(n)) for n in range(11)]), "11 events, over the cap of 10"),
        (b" " * 2000 + b"[]", "over the 1000-byte cap"),
        (b"[" * 5000 + b"]" * 5000, "not JSON"),  # deeper than orjson's 1,024 levels
    ],
)
def test_what_is_not_cloudevents_json_is_a_payload_error(raw: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_events(raw, max_bytes=1000 if raw.startswith(b" ") else 1 << 20, max_events=10)


# deduplication ----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


NEW, DONE, BUSY = Claim.NEW, Claim.DONE, Claim.BUSY


async def test_an_id_is_new_then_busy_then_done() -> None:
    dedupe = MemoryDedupe()
    assert await dedupe.claim(["a", "b"]) == [NEW, NEW]
    assert await dedupe.claim(["a", "c"]) == [BUSY, NEW]  # in flight: not handled twice
    await dedupe.done(["a"])
    assert await dedupe.claim(["a", "b"]) == [DONE, BUSY]


async def test_a_released_id_is_handled_again() -> None:
    dedupe = MemoryDedupe()
    assert await dedupe.claim(["a"]) == [NEW]
    await dedupe.release(["a"])  # its handler failed
    assert await dedupe.claim(["a"]) == [NEW]


async def test_ids_are_forgotten_after_the_window() -> None:
    clock = Clock()
    dedupe = MemoryDedupe(window=60, clock=clock)
    await dedupe.claim(["a"])
    await dedupe.done(["a"])
    clock.now = 30
    await dedupe.claim(["b"])
    await dedupe.done(["b"])
    clock.now = 59
    assert await dedupe.claim(["a", "b"]) == [DONE, DONE]
    clock.now = 61
    assert await dedupe.claim(["a", "b"]) == [NEW, DONE]
    clock.now = 91
    assert await dedupe.claim(["b"]) == [NEW]
    assert len(dedupe) == 0


async def test_memory_is_bounded_oldest_first() -> None:
    dedupe = MemoryDedupe(max_ids=3)
    for name in "abcd":
        await dedupe.claim([name])
        await dedupe.done([name])
    assert len(dedupe) == 3
    assert await dedupe.claim(["a", "d"]) == [NEW, DONE]


@pytest.mark.parametrize("options", [{"window": 0}, {"window": float("inf")}, {"max_ids": 0}])
def test_bad_dedupe_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"window|max_ids"):
        MemoryDedupe(**options)  # type: ignore[arg-type]
