"""SQS queue naming shared by every part: FIFO queues and the dead-letter queue of a queue."""

from __future__ import annotations

from typing import Final

FIFO_SUFFIX: Final = ".fifo"
DEAD_LETTER_SUFFIX: Final = "-dlq"


def is_fifo(queue_name: str) -> bool:
    """SQS FIFO queues are the ones whose name ends in ``.fifo``."""
    return queue_name.endswith(FIFO_SUFFIX)


def dead_letter_queue_name(queue_name: str) -> str:
    """``<queue>-dlq``, or ``<queue>-dlq.fifo`` for a FIFO queue ``<queue>.fifo``."""
    if is_fifo(queue_name):
        return queue_name.removesuffix(FIFO_SUFFIX) + DEAD_LETTER_SUFFIX + FIFO_SUFFIX
    return queue_name + DEAD_LETTER_SUFFIX


def is_dead_letter_queue(queue_name: str) -> bool:
    """Whether a name follows the dead-letter naming (``-dlq`` before any ``.fifo``)."""
    return queue_name.removesuffix(FIFO_SUFFIX).endswith(DEAD_LETTER_SUFFIX)
