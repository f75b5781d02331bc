"""Shared fixtures: apps on a fresh memory broker with a manual clock."""

from __future__ import annotations

import pytest

from simple_worker import App, ManualClock, MemoryBroker


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def broker(clock: ManualClock) -> MemoryBroker:
    return MemoryBroker(visibility_timeout_s=30, max_receive_count=3, clock=clock)


@pytest.fixture
def app(broker: MemoryBroker) -> App:
    return App(queue_prefix="test-", broker=broker)
