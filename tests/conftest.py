"""Shared fixtures: test credentials, spec examples, and an aioresponses that works."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest import mock

import aioresponses.core as aioresponses_core
import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses

from events_async import EventsClient

from .support import ACCOUNT_SID, AUTH_TOKEN, DATA


class _CompatClientResponse(ClientResponse):
    """aioresponses 0.7.9 builds ClientResponse without `stream_writer`, which aiohttp
    3.14 made a required argument (aioresponses issue 289). Supplying a writer that has
    already sent everything lets its canned responses build again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", mock.Mock(output_size=0))
        super().__init__(*args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _aioresponses_compat() -> Iterator[None]:
    with mock.patch.object(aioresponses_core, "ClientResponse", _CompatClientResponse):
        yield


@pytest.fixture(scope="session")
def spec_examples() -> dict[str, dict[str, Any]]:
    """Response examples of the newest spec, by operationId and example name."""
    examples: dict[str, dict[str, Any]] = json.loads((DATA / "spec_examples.json").read_text())
    return examples


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[EventsClient]:
    async with EventsClient(ACCOUNT_SID, AUTH_TOKEN, max_retries=0) as c:
        yield c
