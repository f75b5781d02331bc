"""The pytest plugin: apps on a fresh in-memory broker, and ``drain`` to run their tasks in tests.

Registered through the ``pytest11`` entry point, so installing simple-worker makes the fixtures
available. The only module that imports pytest; it uses the public API only::

    def test_welcome_email(simple_worker_app):
        sent = []

        @simple_worker_app.register_task_handler("send_welcome_email")
        def send_welcome_email(user_id: int) -> None:
            sent.append(user_id)

        simple_worker_app.add_task("send_welcome_email", {"user_id": 7})
        assert drain(simple_worker_app) == 1
        assert sent == [7]
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Final, Protocol

import pytest

from simple_worker import App, ManualClock, MemoryBroker
from simple_worker.contract import Contract

QUEUE_PREFIX: Final = "test-"


class MakeApp(Protocol):
    """The type of the ``simple_worker_make_app`` fixture."""

    def __call__(
        self,
        contract: Contract | str | os.PathLike[str] | None = None,
        *,
        visibility_timeout_s: int = 30,
        max_receive_count: int | None = None,
    ) -> App: ...


def drain(app: App, queues: Sequence[str] | None = None, *, concurrency: int = 1) -> int:
    """Run the app's tasks until its queues are empty; return how many handlers ran.

    A handler's exception, or the error of a poison message, propagates (``raise_errors``),
    with the task named in an exception note. Tasks that handlers enqueue run too.
    """
    return app.worker(None if queues is None else list(queues), concurrency=concurrency).drain(
        raise_errors=True
    )


@pytest.fixture
def simple_worker_clock() -> ManualClock:
    """The clock of the fixtures' memory brokers: ``advance(s)`` to pass visibility timeouts."""
    return ManualClock()


@pytest.fixture
def simple_worker_make_app(simple_worker_clock: ManualClock) -> Iterator[MakeApp]:
    """A factory of Apps, each on its own fresh memory broker with prefix ``test-``.

    ``contract`` is a generated ``CONTRACT`` or a contract file path; ``max_receive_count``
    gives every queue a dead-letter queue ``<queue>-dlq``. Time is ``simple_worker_clock``.
    """
    made: list[App] = []

    def make_app(
        contract: Contract | str | os.PathLike[str] | None = None,
        *,
        visibility_timeout_s: int = 30,
        max_receive_count: int | None = None,
    ) -> App:
        broker = MemoryBroker(
            visibility_timeout_s=visibility_timeout_s,
            max_receive_count=max_receive_count,
            clock=simple_worker_clock,
        )
        app = App(queue_prefix=QUEUE_PREFIX, contract=contract, broker=broker)
        made.append(app)
        return app

    yield make_app
    for app in made:
        app.broker.close()


@pytest.fixture
def simple_worker_app(simple_worker_make_app: MakeApp) -> App:
    """An App on a fresh memory broker (prefix ``test-``, no contract, no dead-letter queues)."""
    return simple_worker_make_app()
