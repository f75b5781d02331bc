"""One run of a worker: the held-message budget, handler threads, acks, retries and poison.

A ``WorkerRun`` is what ``Worker.start()`` and ``Worker.drain()`` share; see ``worker.py``
for the threads and the shutdown order. Work reaches handler threads in bundles: one message,
or (FIFO queues) the messages of one group from one receive, run in order by one thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import attrs

from simple_worker.acks import AckBatcher, PendingAck
from simple_worker.brokers.base import ReceivedMessage
from simple_worker.dead_letters import copy_to_dead_letter_queue, dead_letter_reason
from simple_worker.errors import (
    BrokerError,
    MessageDecodeError,
    PayloadValidationError,
    UnknownTaskError,
)
from simple_worker.execution import PreparedTask, prepare, run
from simple_worker.heartbeat import Heartbeat, change_visibility
from simple_worker.provenance import ForeignFingerprints

if TYPE_CHECKING:
    from simple_worker.app import App

logger = logging.getLogger("simple_worker.worker")

RECEIVE_BATCH_SIZE: Final = 10
"""SQS's ReceiveMessage MaxNumberOfMessages limit."""
_JOIN_SLICE_S: Final = 0.1

_POISON_ERRORS = (MessageDecodeError, UnknownTaskError, PayloadValidationError)
Bundle = tuple[ReceivedMessage, ...]


@attrs.frozen(kw_only=True)
class RetryBackoff:
    """Opt-in exponential backoff: a failed message comes back after ``base_s * 2**(n - 1)``.

    ``n`` is the message's receive count; the delay is capped at ``max_s`` (SQS allows up to
    12 hours). Without it, the queue's visibility timeout decides, as SQS does by default.
    """

    base_s: int = 10
    max_s: int = 900

    def delay_s(self, receive_count: int) -> int:
        doublings = max(0, min(receive_count - 1, 30))
        return min(self.max_s, self.base_s * (1 << doublings))


def held_capacity(*, concurrency: int, queue_count: int, receivers_per_queue: int) -> int:
    """The most messages a worker holds at once (running, waiting, or being received).

    Two per handler thread (one running, one waiting), plus room for one full receive batch
    per receiver thread, so a receiver waiting in a long poll never starves the others.
    """
    return concurrency * 2 + RECEIVE_BATCH_SIZE * queue_count * receivers_per_queue


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
        """Reserve room for ``want`` messages; 0 if there is none (without blocking).

        Without blocking, a smaller reservation is granted only when nothing is held, so a
        busy drain receives full batches instead of one message per call.
        """
        with self._changed:
            while block and self.capacity - self._held < want and not stopping.is_set():
                self._changed.wait(0.25)
            if not block and self._held and self.capacity - self._held < want:
                return 0
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
    """Handler threads fed from a local buffer; acks batched; failures retried or dead-lettered."""

    def __init__(
        self,
        app: App,
        *,
        concurrency: int,
        record_errors: bool,
        queue_count: int = 1,
        receivers_per_queue: int = 1,
        retry_backoff: RetryBackoff | None = None,
        foreign_fingerprints: ForeignFingerprints | None = None,
    ) -> None:
        self.app = app
        self.broker = app.broker
        self.stopping = threading.Event()
        self.held = HeldMessages(
            capacity=held_capacity(
                concurrency=concurrency,
                queue_count=queue_count,
                receivers_per_queue=receivers_per_queue,
            )
        )
        self.acks = AckBatcher(app.broker)
        self.heartbeat = Heartbeat(app.broker)
        self.first_error: BaseException | None = None
        self._record_errors = record_errors
        self._retry_backoff = retry_backoff
        self._foreign = foreign_fingerprints or ForeignFingerprints(app.contract)
        self._ready: queue.SimpleQueue[Bundle | None] = queue.SimpleQueue()
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
        self.heartbeat.start()
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
        for message in messages:
            self.heartbeat.track(message)
        if self.stopping.is_set():
            self.requeue(messages)
        else:
            for bundle in _bundles(messages):
                self._ready.put(bundle)
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
        self.heartbeat.stop()
        self.acks.stop()
        return [thread.name for thread in self._threads if thread.is_alive()]

    def requeue(self, messages: Sequence[ReceivedMessage]) -> None:
        """Make received-but-unstarted messages visible again at once (visibility 0)."""
        self._set_visibility(messages, 0, "return unstarted messages to")
        self.held.release(len(messages))

    def take_unstarted(self) -> list[ReceivedMessage]:
        unstarted: list[ReceivedMessage] = []
        while True:
            try:
                bundle = self._ready.get_nowait()
            except queue.Empty:
                return unstarted
            if bundle is not None:
                unstarted.extend(bundle)

    def _set_visibility(
        self, messages: Sequence[ReceivedMessage], timeout_s: int, what: str
    ) -> None:
        by_queue: dict[str, list[tuple[str, int]]] = {}
        for message in messages:
            self.heartbeat.untrack(message)
            by_queue.setdefault(message.queue_name, []).append((message.receipt, timeout_s))
        change_visibility(
            self.broker,
            by_queue,
            failed=f"could not {what} {{queue}} ({{count}} messages: {{error}}); they come back "
            "after their visibility timeout",
        )

    def _handle_forever(self) -> None:
        while (bundle := self._ready.get()) is not None:
            for index, message in enumerate(bundle):
                try:
                    succeeded = self._handle(message)
                finally:
                    self.heartbeat.untrack(message)
                    self.held.release(1)
                if not succeeded and index + 1 < len(bundle):
                    # FIFO: later messages of the group must not overtake the failed one.
                    self.requeue(bundle[index + 1 :])
                    break
            if bundle[0].group_id is not None:
                self.acks.flush()  # the group stays locked on SQS until these are deleted

    def _handle(self, message: ReceivedMessage) -> bool:
        """Run one message; True if it was acked (done or dead-lettered)."""
        try:
            prepared = prepare(self.app, message)
        except _POISON_ERRORS as exc:
            self._record(exc)
            return self._dead_letter(message, exc)
        self._foreign.observe(prepared.task.name, message.attributes)
        try:
            run(prepared, self.app.context_factories)
        except BaseException as exc:  # a handler must never kill the worker, whatever it raises
            self._count_run()
            self._handler_failed(prepared, message, exc)
            return False
        self._count_run()
        self._ack(message, prepared.task.name)
        logger.debug(
            "task %s (task id %s, message %s) done",
            prepared.task.name,
            prepared.task.id,
            message.message_id,
            extra=_log_fields(prepared),
        )
        return True

    def _ack(self, message: ReceivedMessage, task_name: str) -> None:
        pending = PendingAck(
            receipt=message.receipt, message_id=message.message_id, task_name=task_name
        )
        self.acks.add(message.queue_name, pending)

    def _count_run(self) -> None:
        with self._lock:
            self._ran += 1

    def _handler_failed(
        self, prepared: PreparedTask, message: ReceivedMessage, exc: BaseException
    ) -> None:
        task = prepared.task
        retry_in = "after the visibility timeout"
        if self._retry_backoff is not None:
            delay_s = self._retry_backoff.delay_s(task.receive_count)
            self._set_visibility([message], delay_s, "set the retry backoff on")
            retry_in = f"in {delay_s} s"
        logger.error(
            "task %s (task id %s, message %s, receive count %d) failed: %r; it will be retried %s",
            task.name,
            task.id,
            task.message_id,
            task.receive_count,
            exc,
            retry_in,
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

    def _dead_letter(self, message: ReceivedMessage, exc: Exception) -> bool:
        reason = dead_letter_reason(exc)
        fields = {"message_id": message.message_id, "queue": message.queue_name}
        try:
            dead_letter_queue = self.broker.dead_letter_queue(message.queue_name)
            if dead_letter_queue is not None:
                copy_to_dead_letter_queue(self.broker, message, dead_letter_queue, reason)
        except BrokerError as broker_error:
            logger.error(
                "poison message %s on %s could not be dead-lettered (%s); left in the queue: %s",
                message.message_id,
                message.queue_name,
                broker_error,
                reason,
                extra=fields,
            )
            return False
        if dead_letter_queue is None:
            logger.error(
                "poison message %s on %s left in the queue for its redrive policy (no "
                "dead-letter queue configured): %s",
                message.message_id,
                message.queue_name,
                reason,
                extra=fields,
            )
            return False
        self._ack(message, "(poison message)")  # only after the copy is safely in the DLQ
        logger.error(
            "poison message %s moved from %s to %s: %s",
            message.message_id,
            message.queue_name,
            dead_letter_queue,
            reason,
            extra=fields,
        )
        return True


def _bundles(messages: Sequence[ReceivedMessage]) -> list[Bundle]:
    """One bundle per message; FIFO messages of one group together, in received order."""
    groups: dict[str, list[ReceivedMessage]] = {}
    bundles: list[Bundle] = []
    for message in messages:
        if message.group_id is None:
            bundles.append((message,))
        else:
            groups.setdefault(message.group_id, []).append(message)
    return bundles + [tuple(group) for group in groups.values()]


def _log_fields(prepared: PreparedTask) -> dict[str, object]:
    task = prepared.task
    return {
        "task_name": task.name,
        "task_id": task.id,
        "message_id": task.message_id,
        "queue": task.queue,
    }
