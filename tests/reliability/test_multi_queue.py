"""A worker on several queues serves all of them, whatever its concurrency."""

from __future__ import annotations

import threading
import time

import pytest

from simple_worker import App, MemoryBroker


@pytest.mark.parametrize("concurrency", [1, 6])
def test_a_worker_on_two_queues_runs_the_tasks_of_both(concurrency: int) -> None:
    app = App(broker=MemoryBroker())
    ran: list[str] = []

    @app.register_task_handler("first", queue="one")
    def first() -> None:
        ran.append("one")

    @app.register_task_handler("second", queue="two")
    def second() -> None:
        ran.append("two")

    worker = app.worker(concurrency=concurrency)
    runner = threading.Thread(target=worker.start, name="test-two-queues")
    runner.start()
    try:
        for _ in range(3):
            app.add_task("first", {})
            app.add_task("second", {})
        deadline = time.monotonic() + 10
        while len(ran) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        runner.join(30)
    assert sorted(ran) == ["one"] * 3 + ["two"] * 3
