"""Which handler gets which event: routes by CloudEvent `type`, a default, or a batch.

`on(type)` registers one handler for a type; registering a second for the same type is
an `InvalidRequestError`, never a silent replacement. An event whose type has no route
goes to the default handler (or, instead, to the batch handler, all of a delivery's
such events at once). Test events (`com.twilio.eventstreams.test-event`) are routed the
same way: to `on(TEST_EVENT_TYPE)` if registered, else to the default or batch handler
— so a receiver that prints everything shows each test event and its `data.test_id`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs

from ..errors import InvalidRequestError
from ..models import CloudEvent

__all__ = ["BatchHandler", "EventHandler", "Progress", "Router"]

EventHandler = Callable[[CloudEvent], Awaitable[None]]
BatchHandler = Callable[[list[CloudEvent]], Awaitable[None]]


@attrs.define
class Progress:
    """How far a delivery's handlers got: the events handled, and those in hand now."""

    finished: list[CloudEvent] = attrs.field(factory=list)
    current: list[CloudEvent] = attrs.field(factory=list)


class Router:
    """Handlers by event type, with a default or a batch handler for the rest."""

    def __init__(
        self, handler: EventHandler | None = None, batch_handler: BatchHandler | None = None
    ) -> None:
        if handler is not None and batch_handler is not None:
            raise InvalidRequestError("give a handler or a batch_handler, not both")
        self.default = handler
        self.batch = batch_handler
        self.routes: dict[str, EventHandler] = {}

    @property
    def empty(self) -> bool:
        """No handler of any kind is registered."""
        return self.default is None and self.batch is None and not self.routes

    def on(self, event_type: str) -> Callable[[EventHandler], EventHandler]:
        """Decorator: `@router.on("com.twilio.messaging.message.delivered")`."""
        if not isinstance(event_type, str) or not event_type:
            raise InvalidRequestError("an event type must be a non-empty string")
        if event_type in self.routes:
            raise InvalidRequestError(f"a handler for {event_type!r} is already registered")

        def register(handler: EventHandler) -> EventHandler:
            if event_type in self.routes:
                raise InvalidRequestError(f"a handler for {event_type!r} is already registered")
            self.routes[event_type] = handler
            return handler

        return register

    async def run(self, events: list[CloudEvent], progress: Progress) -> None:
        """Each event to its handler, in order. `progress.finished` grows as each
        succeeds (the batch handler's events last, all at once); `progress.current` is
        what a handler holds now, so a failure or a timeout can name it."""
        default, routes, batch = self.default, self.routes, self.batch
        finished = progress.finished
        batched: list[CloudEvent] = []
        for event in events:
            handler = routes.get(event.type)
            if handler is None:
                if batch is not None:
                    batched.append(event)
                    continue
                handler = default
            if handler is not None:
                progress.current = [event]
                await handler(event)
            finished.append(event)
        if batched:
            assert batch is not None
            progress.current = batched
            await batch(batched)
            finished.extend(batched)
        progress.current = []
