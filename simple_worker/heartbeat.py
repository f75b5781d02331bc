"""Visibility heartbeat: extend held messages before their visibility timeout runs out.

A message the worker holds (buffered or running) whose visibility was last set more than half
a visibility timeout ago gets a fresh timeout, so a long task is not handed to a second worker
while it runs. Extensions are batched per queue (10 per call on SQS).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

import attrs

from simple_worker.brokers.base import Broker, ReceivedMessage
from simple_worker.errors import BrokerError

logger = logging.getLogger(__name__)

_TICK_S: Final = 0.5


@attrs.define
class _Held:
    message: ReceivedMessage
    extended_at_s: float


class Heartbeat:
    """Tracks held messages; one thread, ``simple-worker-heartbeat``, extends them."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._beat_forever, name="simple-worker-heartbeat")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def track(self, message: ReceivedMessage) -> None:
        with self._lock:
            self._held[message.receipt] = _Held(message, time.monotonic())

    def untrack(self, message: ReceivedMessage) -> None:
        with self._lock:
            self._held.pop(message.receipt, None)

    def beat(self) -> None:
        """Extend every held message that is past half its visibility timeout."""
        now_s = time.monotonic()
        due: dict[str, list[tuple[str, int]]] = {}
        with self._lock:
            held = list(self._held.values())
        for entry in held:
            queue_name = entry.message.queue_name
            timeout_s = self._timeout_s(queue_name)
            if timeout_s and now_s - entry.extended_at_s >= timeout_s / 2:
                due.setdefault(queue_name, []).append((entry.message.receipt, timeout_s))
                entry.extended_at_s = now_s
        change_visibility(
            self._broker,
            due,
            failed="could not extend the visibility of {count} running messages on {queue} "
            "({error}); they may run twice",
        )

    def _timeout_s(self, queue_name: str) -> int:
        try:
            return self._broker.visibility_timeout_s(queue_name)
        except BrokerError:
            return 0  # cannot tell; the next beat tries again

    def _beat_forever(self) -> None:
        while not self._stopping.wait(_TICK_S):
            self.beat()


def change_visibility(
    broker: Broker, changes_by_queue: dict[str, list[tuple[str, int]]], *, failed: str
) -> None:
    """Change visibility queue by queue; a failure is logged (``failed`` formatted with
    ``count``, ``queue`` and ``error``), never raised: the messages then come back on their own.
    """
    for queue_name, changes in changes_by_queue.items():
        try:
            broker.change_visibility(queue_name, changes)
        except BrokerError as exc:
            logger.warning(
                failed.format(count=len(changes), queue=queue_name, error=exc),
                extra={"queue": queue_name},
            )
        else:
            logger.debug("changed the visibility of %d messages on %s", len(changes), queue_name)
