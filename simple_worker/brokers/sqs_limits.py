"""SQS's service limits as named constants, and the arithmetic of fitting messages into batches.

The limits come from the Amazon SQS quotas for messages:
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final, TypeVar

from simple_worker.brokers.base import OutgoingMessage

MAX_BATCH_ENTRIES: Final = 10
"""Entries per SendMessageBatch / DeleteMessageBatch / ChangeMessageVisibilityBatch call
(quota "Batched message ID": a batch request holds at most 10 messages)."""

MAX_BATCH_BYTES: Final = 1_048_576
"""Total payload of one SendMessageBatch call, 1 MiB: the sum of the sizes of its messages
(quota "Message size"; see also the SendMessageBatch API reference,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html)."""

MAX_MESSAGE_BYTES: Final = 1_048_576
"""Largest message SQS accepts, 1 MiB including attributes (quota "Message size");
a queue's MaximumMessageSize attribute may set it lower."""

MAX_RECEIVE_MESSAGES: Final = 10
"""Messages one ReceiveMessage call returns at most (MaxNumberOfMessages 1-10)."""

MAX_WAIT_S: Final = 20
"""Longest long poll, in seconds (quota "Long polling wait time": WaitTimeSeconds 0-20)."""

MAX_DELAY_S: Final = 900
"""Longest delay of a message, in seconds: 15 minutes (quota "Message timer")."""

MAX_VISIBILITY_TIMEOUT_S: Final = 43_200
"""Longest visibility timeout, in seconds: 12 hours (quota "Message visibility timeout")."""

_STRING_TYPE_BYTES: Final = len("String")

T = TypeVar("T")


def message_bytes(message: OutgoingMessage) -> int:
    """Size of a message as SQS counts it: the body plus each attribute's name, type and value."""
    size = len(message.body.encode("utf-8"))
    for name, value in message.attributes.items():
        size += len(name.encode("utf-8")) + _STRING_TYPE_BYTES + len(value.encode("utf-8"))
    return size


def send_batches(messages: Sequence[OutgoingMessage]) -> list[list[int]]:
    """Split messages (by index, order kept) into batches within the entry and byte limits.

    A message larger than ``MAX_BATCH_BYTES`` on its own gets a batch of its own, for SQS to
    reject with its reason.
    """
    batches: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for index, message in enumerate(messages):
        size = message_bytes(message)
        if current and (
            len(current) == MAX_BATCH_ENTRIES or current_bytes + size > MAX_BATCH_BYTES
        ):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(index)
        current_bytes += size
    if current:
        batches.append(current)
    return batches


def chunks(items: Sequence[T], size: int = MAX_BATCH_ENTRIES) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
