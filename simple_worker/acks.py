"""Batched acknowledgements: deletes gathered per queue and sent 10 at a time or every second."""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

import attrs

from simple_worker.brokers.base import Broker
from simple_worker.errors import BrokerError

logger = logging.getLogger(__name__)

ACK_BATCH_SIZE: Final = 10
"""SQS's DeleteMessageBatch entry limit."""
ACK_MAX_DELAY_S: Final = 1.0


@attrs.frozen(kw_only=True)
class PendingAck:
    """A receipt waiting to be deleted, with what the logs need to name it."""

    receipt: str
    message_id: str
    task_name: str


class AckBatcher:
    """Collects acks; deletes a queue's acks as soon as 10 are pending, the rest every second.

    Runs one thread, ``simple-worker-acker``, started by ``start()`` and joined by ``stop()``
    (which flushes everything). Deletes happen on that thread, never on a handler's, so a
    handler thread goes straight on to its next message.
    """

    def __init__(self, broker: Broker, *, max_delay_s: float = ACK_MAX_DELAY_S) -> None:
        self._broker = broker
        self._max_delay_s = max_delay_s
        self._pending: dict[str, list[PendingAck]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._batch_full = threading.Event()
        self._thread = threading.Thread(target=self._flush_periodically, name="simple-worker-acker")

    def start(self) -> None:
        self._thread.start()

    def add(self, queue_name: str, ack: PendingAck) -> None:
        with self._lock:
            queue_acks = self._pending.setdefault(queue_name, [])
            queue_acks.append(ack)
            if len(queue_acks) >= ACK_BATCH_SIZE:
                self._batch_full.set()

    def flush(self, *, full_batches_only: bool = False) -> None:
        """Delete what is pending now (only whole batches of 10, if asked)."""
        with self._lock:
            taken: dict[str, list[PendingAck]] = {}
            for queue_name, acks in self._pending.items():
                count = len(acks) - len(acks) % ACK_BATCH_SIZE if full_batches_only else len(acks)
                if count:
                    taken[queue_name], self._pending[queue_name] = acks[:count], acks[count:]
        for queue_name, acks in taken.items():
            self._delete(queue_name, acks)

    def stop(self) -> None:
        """Flush what is pending and join the thread."""
        self._stopping.set()
        self._batch_full.set()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()

    def _flush_periodically(self) -> None:
        next_full_flush_s = time.monotonic() + self._max_delay_s
        while not self._stopping.is_set():
            woken = self._batch_full.wait(max(0.0, next_full_flush_s - time.monotonic()))
            self._batch_full.clear()
            if woken and time.monotonic() < next_full_flush_s:
                self.flush(full_batches_only=True)
            else:
                self.flush()
                next_full_flush_s = time.monotonic() + self._max_delay_s

    def _delete(self, queue_name: str, acks: list[PendingAck]) -> None:
        by_receipt = {ack.receipt: ack for ack in acks}
        try:
            failed = self._broker.ack(queue_name, list(by_receipt))
        except BrokerError as exc:
            # Not deleted: the messages come back after their visibility timeout and run again.
            logger.warning(
                "could not delete %d finished messages from %s (%s); they will run again",
                len(acks),
                queue_name,
                exc,
                extra={"queue": queue_name},
            )
            return
        for receipt in failed:
            ack = by_receipt[receipt]
            logger.warning(
                "task %s (message %s) finished but its receipt had expired; it may run twice",
                ack.task_name,
                ack.message_id,
                extra={
                    "task_name": ack.task_name,
                    "message_id": ack.message_id,
                    "queue": queue_name,
                },
            )
