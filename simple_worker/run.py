"""One run of a worker: the held-message budget, the handler threads, acks, poison and requeue.

A ``WorkerRun`` is what ``Worker.start()`` and ``Worker.drain()`` share; see ``worker.py``
for the threads and the shutdown order.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from simple_worker.acks import AckBatcher, PendingAck
from simple_worker.brokers.base import OutgoingMessage, ReceivedMessage
from simple_worker.errors import (
    BrokerError,
    MessageDecodeError,
    PayloadValidationError,
    UnknownTaskError,
)
from simple_worker.execution import PreparedTask, prepare, run
from simple_worker.wire import DEAD_LETTER_REASON_ATTRIBUTE

if TYPE_CHECKING:
    from simple_worker.app import App

logger = logging.getLogger("simple_worker.worker")

RECEIVE_BATCH_SIZE: Final = 10
"""SQS's ReceiveMessage MaxNumberOfMessages limit."""
PREFETCH_MESSAGES: Final = 10
"""Received-but-unstarted messages held beyond one per handler thread."""
_REASON_MAX_CHARS: Final = 1000
_JOIN_SLICE_S: Final = 0.1
SOURCE_QUEUE_ATTRIBUTE: Final = "simple_worker.source_queue"
RECEIVE_COUNT_ATTRIBUTE: Final = "simple_worker.receive_count"

_POISON_ERRORS = (MessageDecodeError, UnknownTaskError, PayloadValidationError)


class HeldMessages:
    """Counts messages received and not yet finished, so the worker never over-receives."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._held = 0
        self._changed = threading.Condition()

    def held(self) -> int:
        with self._changed:
            return self._held

    def reserve(self, want: int, stopping: threading.Event, *, block: bool) -> int:
        """Reserve room for ``want`` messages (or what is free when not blocking); 0 if none."""
        with self._changed:
            while block and self.capacity - self._held < want and not stopping.is_set():
                self._changed.wait(0.25)
            granted = min(want, self.capacity - self._held)
            if granted <= 0 or stopping.is_set():
                return 0
            self._held += granted
            return granted

    def release(self, count: int) -> None:
        with self._changed:
            self._held -= count
            self._changed.notify_all()

    def wait_for_change(self, timeout_s: float) -> None:
        with self._changed:
            self._changed.wait(timeout_s)


class WorkerRun:
    """Handler threads fed from a local buffer; acks batched; poison sent to the DLQ."""

    def __init__(self, app: App, *, concurrency: int, record_errors: bool) -> None:
        self.app = app
        self.broker = app.broker
        self.stopping = threading.Event()
        self.held = HeldMessages(capacity=concurrency * 2 + PREFETCH_MESSAGES)
        self.acks = AckBatcher(app.broker)
        self.first_error: BaseException | None = None
        self._record_errors = record_errors
        self._ready: queue.SimpleQueue[ReceivedMessage | None] = queue.SimpleQueue()
        self._ran = 0
        self._lock = threading.Lock()
        self._threads = [
            # Daemon threads: a handler still running after the grace period must not keep the
            # process alive; its message is not acked, so it comes back.
            threading.Thread(
                target=self._handle_forever, name=f"simple-worker-handler-{i}", daemon=True
            )
            for i in range(concurrency)
        ]

    @property
    def ran(self) -> int:
        with self._lock:
            return self._ran

    def start(self) -> None:
        self.acks.start()
        for thread in self._threads:
            thread.start()

    def receive_into_buffer(self, queue_name: str, *, wait_s: float, block: bool) -> int:
        """Receive what the budget allows from one queue into the buffer; return how many."""
        granted = self.held.reserve(RECEIVE_BATCH_SIZE, self.stopping, block=block)
        if granted == 0:
            return 0
        try:
            messages = self.broker.receive(queue_name, max_messages=granted, wait_s=wait_s)
        except BaseException:
            self.held.release(granted)
            raise
        self.held.release(granted - len(messages))
        if self.stopping.is_set():
            self.requeue(messages)
        else:
            for message in messages:
                self._ready.put(message)
        return len(messages)

    def stop_handlers(
        self, *, grace_s: float | None, hurry: threading.Event | None = None
    ) -> list[str]:
        """Requeue unstarted messages, let handlers finish (up to ``grace_s``), flush acks.

        ``hurry`` being set ends the wait early. Returns the names of handler threads still
        running afterwards (their messages are not acked, so they come back).
        """
        self.stopping.set()
        self.requeue(self.take_unstarted())
        for _ in self._threads:
            self._ready.put(None)
        deadline_s = None if grace_s is None else time.monotonic() + grace_s
        for thread in self._threads:
            while thread.is_alive() and not (hurry is not None and hurry.is_set()):
                if deadline_s is not None and time.monotonic() >= deadline_s:
                    break
                thread.join(_JOIN_SLICE_S)
        self.requeue(self.take_unstarted())
        self.acks.stop()
        return [thread.name for thread in self._threads if thread.is_alive()]

    def requeue(self, messages: Sequence[ReceivedMessage]) -> None:
        """Make received-but-unstarted messages visible again at once (visibility 0)."""
        by_queue: dict[str, list[tuple[str, int]]] = {}
        for message in messages:
            by_queue.setdefault(message.queue_name, []).append((message.receipt, 0))
        for queue_name, changes in by_queue.items():
            try:
                self.broker.change_visibility(queue_name, changes)
            except BrokerError as exc:
                logger.warning(
                    "could not return %d unstarted messages to %s (%s); they come back after "
                    "their visibility timeout",
                    len(changes),
                    queue_name,
                    exc,
                    extra={"queue": queue_name},
                )
        self.held.release(len(messages))

    def take_unstarted(self) -> list[ReceivedMessage]:
        unstarted: list[ReceivedMessage] = []
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                return unstarted
            if item is not None:
                unstarted.append(item)

    def _handle_forever(self) -> None:
        while (message := self._ready.get()) is not None:
            try:
                self._handle(message)
            finally:
                self.held.release(1)

    def _handle(self, message: ReceivedMessage) -> None:
        try:
            prepared = prepare(self.app, message)
        except _POISON_ERRORS as exc:
            self._dead_letter(message, exc)
            self._record(exc)
            return
        try:
            run(prepared, self.app.context_factories)
        except BaseException as exc:  # a handler must never kill the worker, whatever it raises
            self._count_run()
            self._handler_failed(prepared, exc)
            return
        self._count_run()
        self.acks.add(
            message.queue_name,
            PendingAck(
                receipt=message.receipt,
                message_id=message.message_id,
                task_name=prepared.task.name,
            ),
        )
        logger.debug(
            "task %s (task id %s, message %s) done",
            prepared.task.name,
            prepared.task.id,
            message.message_id,
            extra=_log_fields(prepared),
        )

    def _count_run(self) -> None:
        with self._lock:
            self._ran += 1

    def _handler_failed(self, prepared: PreparedTask, exc: BaseException) -> None:
        task = prepared.task
        logger.error(
            "task %s (task id %s, message %s, receive count %d) failed: %r; it will be retried "
            "after the visibility timeout",
            task.name,
            task.id,
            task.message_id,
            task.receive_count,
            exc,
            exc_info=exc,
            extra=_log_fields(prepared),
        )
        if isinstance(exc, Exception):
            exc.add_note(
                f"raised by task {task.name!r} (task id {task.id}, message {task.message_id})"
            )
            self._record(exc)
        else:
            wrapped = RuntimeError(f"task {task.name!r} (task id {task.id}) raised {exc!r}")
            wrapped.__cause__ = exc
            self._record(wrapped)

    def _record(self, exc: BaseException) -> None:
        if self._record_errors:
            with self._lock:
                if self.first_error is None:
                    self.first_error = exc

    def _dead_letter(self, message: ReceivedMessage, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:_REASON_MAX_CHARS]
        fields = {"message_id": message.message_id, "queue": message.queue_name}
        dead_letter_queue = self.broker.dead_letter_queue(message.queue_name)
        if dead_letter_queue is None:
            logger.error(
                "poison message %s on %s left in the queue for its redrive policy (no "
                "dead-letter queue configured): %s",
                message.message_id,
                message.queue_name,
                reason,
                extra=fields,
            )
            return
        attributes = {
            **message.attributes,
            DEAD_LETTER_REASON_ATTRIBUTE: reason,
            SOURCE_QUEUE_ATTRIBUTE: message.queue_name,
            RECEIVE_COUNT_ATTRIBUTE: str(message.receive_count),
        }
        copy = OutgoingMessage(ref=message.message_id, body=message.body, attributes=attributes)
        try:
            self.broker.send(dead_letter_queue, [copy])
        except BrokerError as send_error:
            logger.error(
                "poison message %s on %s could not be moved to %s (%s); left in the queue: %s",
                message.message_id,
                message.queue_name,
                dead_letter_queue,
                send_error,
                reason,
                extra=fields,
            )
            return
        # Deleted only after the copy is safely in the dead-letter queue.
        self.acks.add(
            message.queue_name,
            PendingAck(
                receipt=message.receipt, message_id=message.message_id, task_name="(poison message)"
            ),
        )
        logger.error(
            "poison message %s moved from %s to %s: %s",
            message.message_id,
            message.queue_name,
            dead_letter_queue,
            reason,
            extra=fields,
        )


def _log_fields(prepared: PreparedTask) -> dict[str, object]:
    task = prepared.task
    return {
        "task_name": task.name,
        "task_id": task.id,
        "message_id": task.message_id,
        "queue": task.queue,
    }
