"""Depths of queues and of their dead-letter queues, for the ``stats`` command and the demo."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from simple_worker.brokers.base import Broker, QueueCounts
from simple_worker.errors import QueueNotFoundError


@attrs.frozen(kw_only=True)
class QueueStats:
    """One queue's counts (None: the queue does not exist) and its dead-letter queue's."""

    queue_name: str
    counts: QueueCounts | None
    dead_letter_queue: str | None = None
    dead_letter_counts: QueueCounts | None = None

    @property
    def dead_letters(self) -> int | None:
        """Messages in the dead-letter queue, visible or not (None: no dead-letter queue)."""
        counts = self.dead_letter_counts
        return None if counts is None else counts.visible + counts.in_flight + counts.delayed


def queue_stats(broker: Broker, queue_names: Sequence[str]) -> list[QueueStats]:
    """Counts of each queue (full names) and of its dead-letter queue, in the given order."""
    return [_stats(broker, name) for name in queue_names]


def without_dead_letter_queues(broker: Broker, queue_names: Sequence[str]) -> list[str]:
    """The names that are not the dead-letter queue of another name in the list.

    Those show up as the dead-letter column of their source queue instead of as rows.
    """
    dead_letter_queues = set()
    for name in queue_names:
        try:
            dead_letter_queues.add(broker.dead_letter_queue(name))
        except QueueNotFoundError:  # deleted since it was listed
            continue
    return [name for name in queue_names if name not in dead_letter_queues]


def _stats(broker: Broker, queue_name: str) -> QueueStats:
    try:
        counts = broker.counts(queue_name)
        dead_letter_queue = broker.dead_letter_queue(queue_name)
    except QueueNotFoundError:
        return QueueStats(queue_name=queue_name, counts=None)
    dead_letter_counts = None
    if dead_letter_queue is not None:
        try:
            dead_letter_counts = broker.counts(dead_letter_queue)
        except QueueNotFoundError:  # the policy names a queue that was deleted
            dead_letter_counts = None
    return QueueStats(
        queue_name=queue_name,
        counts=counts,
        dead_letter_queue=dead_letter_queue,
        dead_letter_counts=dead_letter_counts,
    )
