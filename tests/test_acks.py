"""Batched deletes: whole batches go at once on the acker thread, the rest within a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from simple_worker import MemoryBroker
from simple_worker.acks import AckBatcher, PendingAck


class _RecordingBroker(MemoryBroker):
    def __init__(self) -> None:
        super().__init__()
        self.deletes: list[tuple[str, int, str]] = []

    def ack(self, queue_name: str, receipts: Sequence[str]) -> list[str]:
        self.deletes.append((queue_name, len(receipts), threading.current_thread().name))
        return []


def _ack(i: int) -> PendingAck:
    return PendingAck(receipt=f"r{i}", message_id=f"m{i}", task_name="t")


def _wait_for(condition: object, timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.005)


def test_whole_batches_are_deleted_at_once_on_the_acker_thread() -> None:
    broker = _RecordingBroker()
    acks = AckBatcher(broker, max_delay_s=60)
    acks.start()
    for i in range(25):
        acks.add("q", _ack(i))

    _wait_for(lambda: sum(n for _, n, _ in broker.deletes) == 20)
    deleted_before_stop = list(broker.deletes)
    acks.stop()

    assert {(queue, thread) for queue, _, thread in deleted_before_stop} == {
        ("q", "simple-worker-acker")
    }
    assert all(count % 10 == 0 for _, count, _ in deleted_before_stop)  # whole batches only
    assert broker.deletes[len(deleted_before_stop) :] == [("q", 5, "MainThread")]  # by stop()


def test_a_partial_batch_is_deleted_after_the_delay() -> None:
    broker = _RecordingBroker()
    acks = AckBatcher(broker, max_delay_s=0.2)
    acks.start()
    acks.add("q", _ack(1))

    _wait_for(lambda: broker.deletes)
    acks.stop()

    assert broker.deletes == [("q", 1, "simple-worker-acker")]
