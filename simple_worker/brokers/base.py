"""The broker seam: what the app and the worker need from a queue service, nothing more.

A broker moves message bodies and receipts. It never sees handlers, tasks' types or contracts.
Queue names here are full names (prefix included); the app does the routing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs


@attrs.frozen(kw_only=True)
class OutgoingMessage:
    """A message to send. ``ref`` is the caller's id for it (the task id), used in errors.

    ``group_id`` and ``deduplication_id`` are for FIFO queues only (SQS's MessageGroupId and
    MessageDeduplicationId; without a deduplication id, FIFO queues deduplicate by content).
    """

    ref: str
    body: str
    attributes: Mapping[str, str] = attrs.field(factory=dict)
    delay_s: int = 0
    group_id: str | None = None
    deduplication_id: str | None = None


@attrs.frozen(kw_only=True)
class ReceivedMessage:
    """A message handed out by ``receive``; ``receipt`` acknowledges or re-times it."""

    queue_name: str
    message_id: str
    receipt: str
    body: str
    attributes: Mapping[str, str]
    receive_count: int
    group_id: str | None = None


@attrs.frozen(kw_only=True)
class QueueCounts:
    """Approximate depths of one queue, as SQS reports them."""

    visible: int
    in_flight: int
    delayed: int


class Broker(Protocol):
    """The operations both brokers implement; the worker talks to nothing else."""

    @property
    def long_poll_s(self) -> float:
        """How long a receive should wait for messages (long polling) before returning empty."""
        ...

    def max_message_bytes(self, queue_name: str) -> int:
        """The largest message the queue accepts, in bytes."""
        ...

    def send(self, queue_name: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Send messages (batched as the service allows); return their message ids in order."""
        ...

    def receive(
        self, queue_name: str, *, max_messages: int, wait_s: float
    ) -> list[ReceivedMessage]:
        """Receive up to ``max_messages``, waiting up to ``wait_s`` for the first one."""
        ...

    def ack(self, queue_name: str, receipts: Sequence[str]) -> list[str]:
        """Delete received messages; return the receipts that could not be deleted (expired)."""
        ...

    def change_visibility(self, queue_name: str, changes: Sequence[tuple[str, int]]) -> None:
        """Set the remaining visibility timeout, in seconds, of received messages."""
        ...

    def visibility_timeout_s(self, queue_name: str) -> int:
        """The queue's visibility timeout: how long a received message stays invisible."""
        ...

    def dead_letter_queue(self, queue_name: str) -> str | None:
        """The name of the queue's dead-letter queue, or None when it has none."""
        ...

    def counts(self, queue_name: str) -> QueueCounts:
        """Visible, in-flight and delayed message counts of a queue."""
        ...

    def close(self) -> None:
        """Release connections; the broker is not used afterwards."""
        ...
