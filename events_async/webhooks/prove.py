"""`prove_sink`: a webhook sink proven end to end, from Twilio to this receiver, in one await.

Create (or take) a sink pointing at a receiver, send Test, wait for the signed test
event to arrive and verify, Validate with its `test_id`, and return the sink as it now
stands. It works whether Twilio starts webhook sinks `active` (today's documented
behaviour, where Validate answers "valid" whatever happens) or `initialized` (the older
flow, where only the right `test_id` activates the sink). Whatever does not happen is a
`SinkProofError` that names the step.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

from ..client import EventsClient
from ..errors import ApiError, InvalidRequestError, ProbeTimeoutError, SinkProofError
from ..models import Sink, SinkStatus, SinkType, WebhookSinkConfiguration
from .receiver import PROBE_PARAMETER, EventReceiver

__all__ = ["SinkProofError", "prove_sink"]


def _with_probe(destination: str, probe: str) -> str:
    joiner = "&" if urlsplit(destination).query else "?"
    return f"{destination}{joiner}{urlencode({PROBE_PARAMETER: probe})}"


def _probe_of(sink: Sink) -> str | None:
    destination = (sink.sink_configuration or {}).get("destination")
    if sink.sink_type != SinkType.WEBHOOK or not isinstance(destination, str):
        raise SinkProofError("sink", f"{sink.sid} is not a webhook sink")
    found = parse_qs(urlsplit(destination).query).get(PROBE_PARAMETER)
    return found[0] if found else None


async def prove_sink(
    client: EventsClient,
    receiver: EventReceiver,
    destination: str | None = None,
    *,
    sink_sid: str | None = None,
    description: str = "events_async receiver",
    batch_events: bool = True,
    timeout: float = 30.0,
) -> Sink:
    """Prove that Twilio's deliveries to a webhook sink reach `receiver` and verify.

    Give `destination` (the receiver's public URL) to create a sink — a probe parameter
    is added to it, so this sink's test event is told from any other's — or `sink_sid`
    for an existing webhook sink. `timeout` bounds the wait for the test event.
    """
    if (destination is None) == (sink_sid is None):
        raise InvalidRequestError("give a destination to create a sink, or the sink_sid of one")
    if sink_sid is None:
        assert destination is not None
        fresh = uuid.uuid4().hex
        configuration = WebhookSinkConfiguration(
            destination=_with_probe(destination, fresh), batch_events=batch_events
        )
        sink = await client.sinks.create(
            description=description, sink_type=SinkType.WEBHOOK, sink_configuration=configuration
        )
        probe: str | None = fresh
    else:
        sink = await client.sinks.fetch(sink_sid)
        probe = _probe_of(sink)
    already = len(receiver.test_events(probe))
    submitted = await client.sinks.test(sink.sid)
    if submitted.result != "submitted":
        raise SinkProofError("test", f"Twilio answered {submitted.result!r}, not 'submitted'")
    try:
        event = await receiver.wait_for_test_event(probe, timeout, skip=already)
    except ProbeTimeoutError as error:
        raise SinkProofError(
            "test event", f"no signed test event for {sink.sid} reached the receiver: {error}"
        ) from None
    test_id = event.data.get("test_id") if isinstance(event.data, dict) else None
    if not isinstance(test_id, str) or not test_id:
        raise SinkProofError("test event", "the test event carries no data.test_id")
    try:
        validated = await client.sinks.validate(sink.sid, test_id=test_id)
    except ApiError as error:
        raise SinkProofError("validate", f"Twilio refused the test id: {error}") from error
    if validated.result != "valid":
        raise SinkProofError("validate", f"Twilio answered {validated.result!r}, not 'valid'")
    proven = await client.sinks.fetch(sink.sid)
    if proven.status != SinkStatus.ACTIVE:
        raise SinkProofError("validate", f"{sink.sid} is {proven.status} after Validate")
    return proven
