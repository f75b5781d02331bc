"""In-process broker with the semantics of SQS queues, for tests and development.

Like SQS: a received message stays invisible for the visibility timeout and comes back with
its receive count incremented unless acked; delays are honoured; with ``max_receive_count``
every queue has a dead-letter queue ``<queue>-dlq`` (``<queue>-dlq.fifo``) to which a message
moves when it would be received once more than that. Queues named ``*.fifo`` behave like SQS
FIFO queues: messages need a group id, a group's messages come out in order and never while
one of them is in flight, and duplicates (by deduplication id, else by body) within five
minutes are dropped. Time comes from an injectable clock, so tests can move it.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Final

import attrs

from simple_worker.brokers.base import OutgoingMessage, QueueCounts, ReceivedMessage
from simple_worker.clock import Clock, SystemClock
from simple_worker.errors import BrokerError
from simple_worker.queue_names import dead_letter_queue_name, is_dead_letter_queue, is_fifo

DEFAULT_VISIBILITY_TIMEOUT_S: Final = 30
DEFAULT_MAX_MESSAGE_BYTES: Final = 1_048_576
DEDUPLICATION_WINDOW_S: Final = 300  # SQS FIFO's five-minute deduplication interval
_LONG_POLL_S: Final = 1.0  # receives are free here; short enough for a prompt stop()
_WAIT_SLICE_S: Final = 0.05  # re-check a manual clock this often while waiting


@attrs.define(kw_only=True)
class _StoredMessage:
    message_id: str
    body: str
    attributes: Mapping[str, str]
    visible_at_s: float
    receive_count: int = 0
    receipt: str | None = None
    group_id: str | None = None


class MemoryBroker:
    """A thread-safe in-memory broker; one per App."""

    def __init__(
        self,
        *,
        visibility_timeout_s: int = DEFAULT_VISIBILITY_TIMEOUT_S,
        max_receive_count: int | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        clock: Clock | None = None,
    ) -> None:
        if visibility_timeout_s < 0:
            raise ValueError(f"visibility_timeout_s must be >= 0, got {visibility_timeout_s}")
        if max_receive_count is not None and max_receive_count < 1:
            raise ValueError(f"max_receive_count must be >= 1, got {max_receive_count}")
        self.default_visibility_timeout_s = visibility_timeout_s
        self.max_receive_count = max_receive_count
        self._max_message_bytes = max_message_bytes
        self._clock: Clock = clock or SystemClock()
        self._queues: dict[str, dict[str, _StoredMessage]] = {}
        self._changed = threading.Condition()
        self._receipt_numbers = itertools.count(1)
        self._by_receipt: dict[str, _StoredMessage] = {}
        self._deduplication: dict[tuple[str, str], tuple[float, str]] = {}

    def __repr__(self) -> str:
        return (
            f"MemoryBroker(visibility_timeout_s={self.default_visibility_timeout_s}, "
            f"max_receive_count={self.max_receive_count})"
        )

    @property
    def long_poll_s(self) -> float:
        return _LONG_POLL_S

    def max_message_bytes(self, queue_name: str) -> int:
        return self._max_message_bytes

    def send(self, queue_name: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        now_s = self._clock.monotonic()
        with self._changed:
            queue = self._queue(queue_name)
            ids = []
            for message in messages:
                duplicate_of = self._duplicate_of(queue_name, message, now_s)
                if duplicate_of is not None:
                    ids.append(duplicate_of)
                    continue
                message_id = str(uuid.uuid4())
                queue[message_id] = _StoredMessage(
                    message_id=message_id,
                    body=message.body,
                    attributes=dict(message.attributes),
                    visible_at_s=now_s + message.delay_s,
                    group_id=message.group_id,
                )
                self._remember_for_deduplication(queue_name, message, now_s, message_id)
                ids.append(message_id)
            self._changed.notify_all()
        return ids

    def receive(
        self, queue_name: str, *, max_messages: int, wait_s: float
    ) -> list[ReceivedMessage]:
        deadline_s = time.monotonic() + wait_s
        with self._changed:
            while True:
                received = self._take_visible(queue_name, max_messages)
                remaining_s = deadline_s - time.monotonic()
                if received or remaining_s <= 0:
                    return received
                self._changed.wait(min(remaining_s, _WAIT_SLICE_S))

    def ack(self, queue_name: str, receipts: Sequence[str]) -> list[str]:
        with self._changed:
            queue = self._queue(queue_name)
            failed = []
            for receipt in receipts:
                message = self._by_receipt.pop(receipt, None)
                if message is None or queue.get(message.message_id) is not message:
                    failed.append(receipt)  # expired and received again, or already deleted
                else:
                    del queue[message.message_id]
            return failed

    def change_visibility(self, queue_name: str, changes: Sequence[tuple[str, int]]) -> None:
        now_s = self._clock.monotonic()
        with self._changed:
            queue = self._queue(queue_name)
            for receipt, timeout_s in changes:
                message = self._by_receipt.get(receipt)
                if message is not None and queue.get(message.message_id) is message:
                    message.visible_at_s = now_s + timeout_s
            self._changed.notify_all()

    def visibility_timeout_s(self, queue_name: str) -> int:
        return self.default_visibility_timeout_s

    def dead_letter_queue(self, queue_name: str) -> str | None:
        if self.max_receive_count is None or is_dead_letter_queue(queue_name):
            return None
        return dead_letter_queue_name(queue_name)

    def counts(self, queue_name: str) -> QueueCounts:
        now_s = self._clock.monotonic()
        with self._changed:
            messages = list(self._queue(queue_name).values())
        waiting = [m for m in messages if m.visible_at_s > now_s]
        in_flight = sum(1 for m in waiting if m.receive_count > 0)
        return QueueCounts(
            visible=len(messages) - len(waiting),
            in_flight=in_flight,
            delayed=len(waiting) - in_flight,
        )

    def messages(self, queue_name: str) -> list[ReceivedMessage]:
        """Every message in a queue, visible or not, without receiving it (for tests and peeks)."""
        with self._changed:
            return [self._view(queue_name, m) for m in self._queue(queue_name).values()]

    def close(self) -> None:
        """Nothing to release; messages stay for anyone still holding the broker."""

    def _queue(self, queue_name: str) -> dict[str, _StoredMessage]:
        return self._queues.setdefault(queue_name, {})

    def _take_visible(self, queue_name: str, max_messages: int) -> list[ReceivedMessage]:
        now_s = self._clock.monotonic()
        received: list[ReceivedMessage] = []
        locked_groups = self._groups_in_flight(queue_name, now_s)
        dead_letter_queue = self.dead_letter_queue(queue_name)
        exhausted: list[_StoredMessage] = []
        # Walks the queue lazily and stops at max_messages; moves happen after the walk.
        for message in self._visible(queue_name, now_s):
            if len(received) == max_messages:
                break
            if message.group_id in locked_groups:
                continue  # FIFO: a group waits while one of its messages is in flight
            if (
                dead_letter_queue is not None
                and self.max_receive_count is not None
                and message.receive_count >= self.max_receive_count
            ):
                exhausted.append(message)
                continue
            message.receive_count += 1
            if message.receipt is not None:
                del self._by_receipt[message.receipt]  # the old receipt expires, as on SQS
            message.receipt = f"{message.message_id}#{next(self._receipt_numbers)}"
            self._by_receipt[message.receipt] = message
            message.visible_at_s = now_s + self.default_visibility_timeout_s
            received.append(self._view(queue_name, message))
        if dead_letter_queue is not None:
            for message in exhausted:
                self._move(queue_name, message, dead_letter_queue)
        return received

    def _groups_in_flight(self, queue_name: str, now_s: float) -> set[str]:
        if not is_fifo(queue_name):
            return set()
        return {
            m.group_id
            for m in self._queue(queue_name).values()
            if m.group_id is not None and m.receive_count > 0 and m.visible_at_s > now_s
        }

    def _duplicate_of(self, queue_name: str, message: OutgoingMessage, now_s: float) -> str | None:
        if not is_fifo(queue_name):
            return None
        if message.group_id is None:
            raise BrokerError(f"a message sent to FIFO queue {queue_name} needs a group id")
        seen = self._deduplication.get((queue_name, _deduplication_key(message)))
        if seen is None or now_s - seen[0] >= DEDUPLICATION_WINDOW_S:
            return None
        return seen[1]

    def _remember_for_deduplication(
        self, queue_name: str, message: OutgoingMessage, now_s: float, message_id: str
    ) -> None:
        if is_fifo(queue_name):
            self._deduplication[(queue_name, _deduplication_key(message))] = (now_s, message_id)

    def _visible(self, queue_name: str, now_s: float) -> Iterator[_StoredMessage]:
        return (m for m in self._queue(queue_name).values() if m.visible_at_s <= now_s)

    def _move(self, queue_name: str, message: _StoredMessage, dead_letter_queue: str) -> None:
        # Like SQS's redrive: the message keeps its id, body, attributes and receive count.
        del self._queue(queue_name)[message.message_id]
        if message.receipt is not None:
            del self._by_receipt[message.receipt]
        message.receipt = None
        message.visible_at_s = self._clock.monotonic()
        self._queue(dead_letter_queue)[message.message_id] = message

    @staticmethod
    def _view(queue_name: str, message: _StoredMessage) -> ReceivedMessage:
        return ReceivedMessage(
            queue_name=queue_name,
            message_id=message.message_id,
            receipt=message.receipt or "",
            body=message.body,
            attributes=dict(message.attributes),
            receive_count=message.receive_count,
            group_id=message.group_id,
        )


def _deduplication_key(message: OutgoingMessage) -> str:
    if message.deduplication_id is not None:
        return message.deduplication_id
    return hashlib.sha256(message.body.encode()).hexdigest()
