"""Shared fixtures: apps on a fresh memory broker with a manual clock; a moto SQS server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simple_worker import App, ManualClock, MemoryBroker
from tests.sqs_server import MotoSqs, moto_sqs


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def broker(clock: ManualClock) -> MemoryBroker:
    return MemoryBroker(visibility_timeout_s=30, max_receive_count=3, clock=clock)


@pytest.fixture
def app(broker: MemoryBroker) -> App:
    return App(queue_prefix="test-", broker=broker)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoSqs]:
    """One moto SQS server on 127.0.0.1 for the whole session (tests use fresh queue names)."""
    with moto_sqs() as server:
        yield server
