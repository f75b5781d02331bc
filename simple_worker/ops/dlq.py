"""Looking at dead-lettered messages without consuming them, and moving them back (redrive).

Redrive sends a copy to the source queue before it deletes the dead letter, so an interruption
at any point can duplicate a message but never lose one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Final

import attrs

from simple_worker.brokers.base import Broker, OutgoingMessage, ReceivedMessage
from simple_worker.dead_letters import RECEIVE_COUNT_ATTRIBUTE, SOURCE_QUEUE_ATTRIBUTE
from simple_worker.errors import BatchSendError, BrokerError, MessageDecodeError
from simple_worker.wire import DEAD_LETTER_REASON_ATTRIBUTE, TASK_ID_ATTRIBUTE, decode_body

DEAD_LETTER_ATTRIBUTES: Final = frozenset(
    {DEAD_LETTER_REASON_ATTRIBUTE, SOURCE_QUEUE_ATTRIBUTE, RECEIVE_COUNT_ATTRIBUTE}
)
RECEIVE_BATCH: Final = 10  # SQS's ReceiveMessage maximum
RECEIVE_WAIT_S: Final = 1  # a short long poll: SQS short polls may miss messages that exist
SQS_REDRIVE_REASON: Final = "moved by the queue's RedrivePolicy (maxReceiveCount reached)"


@attrs.frozen(kw_only=True)
class DeadLetter:
    """A dead-lettered message as people want to see it."""

    message_id: str
    task_name: str | None
    payload: object
    """The decoded payload, or the raw body when it is not a task envelope."""
    task_id: str | None
    reason: str
    source_queue: str | None
    receive_count: int
    """The receives the worker recorded, else SQS's count (which includes peeks)."""


def describe(message: ReceivedMessage) -> DeadLetter:
    """What a dead-lettered message is, from its body and attributes."""
    try:
        envelope = decode_body(message.body)
        task_name: str | None = envelope.task_name
        payload: object = envelope.payload
    except MessageDecodeError:
        task_name, payload = None, message.body
    attributes = message.attributes
    recorded_count = attributes.get(RECEIVE_COUNT_ATTRIBUTE, "")
    return DeadLetter(
        message_id=message.message_id,
        task_name=task_name,
        payload=payload,
        task_id=attributes.get(TASK_ID_ATTRIBUTE),
        reason=attributes.get(DEAD_LETTER_REASON_ATTRIBUTE, SQS_REDRIVE_REASON),
        source_queue=attributes.get(SOURCE_QUEUE_ATTRIBUTE),
        receive_count=int(recorded_count) if recorded_count.isdigit() else message.receive_count,
    )


def payload_text(letter: DeadLetter) -> str:
    """The payload as one line of JSON (or the raw body's repr)."""
    if isinstance(letter.payload, str) and letter.task_name is None:
        return repr(letter.payload)
    return json.dumps(letter.payload, sort_keys=True)


def peek(broker: Broker, dead_letter_queue: str, *, limit: int) -> list[DeadLetter]:
    """Up to ``limit`` messages of the queue, left in it (received, then made visible again)."""
    held: list[ReceivedMessage] = []
    try:
        while len(held) < limit:
            received = broker.receive(
                dead_letter_queue,
                max_messages=min(RECEIVE_BATCH, limit - len(held)),
                wait_s=RECEIVE_WAIT_S,
            )
            if not received:
                break
            held += received
    finally:
        _release(broker, dead_letter_queue, held)
    return [describe(message) for message in held]


@attrs.frozen(kw_only=True)
class RedriveResult:
    """How many messages moved, and how many were copied but could not be deleted."""

    moved: int
    not_deleted: int = 0


def redrive(
    broker: Broker,
    dead_letter_queue: str,
    source_queue: str,
    *,
    limit: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> RedriveResult:
    """Move messages from ``dead_letter_queue`` to ``source_queue``: send, then delete.

    Moves at most ``limit`` and at most what the queue held when the redrive began (so a
    message that fails again at once cannot make it loop). Keeps the body and every attribute
    except the dead-letter ones. ``on_progress(moved, total)`` after each batch. Copies whose
    delete failed come back to the dead-letter queue: redriving them again duplicates them.
    """
    counts = broker.counts(dead_letter_queue)
    total = counts.visible if limit is None else min(limit, counts.visible)
    moved = not_deleted = 0
    while moved + not_deleted < total:
        wanted = min(RECEIVE_BATCH, total - moved - not_deleted)
        received = broker.receive(dead_letter_queue, max_messages=wanted, wait_s=RECEIVE_WAIT_S)
        if not received:
            break
        moved_now, refused = _move(broker, received, dead_letter_queue, source_queue)
        moved += moved_now
        not_deleted += refused
        if on_progress is not None:
            on_progress(moved, total)
    return RedriveResult(moved=moved, not_deleted=not_deleted)


def _move(
    broker: Broker, received: Sequence[ReceivedMessage], dead_letter_queue: str, source_queue: str
) -> tuple[int, int]:
    """Copy a batch to the source queue, then delete what was copied; (moved, not deleted)."""
    deleted: set[str] = set()
    try:
        try:
            broker.send(source_queue, [_copy(message) for message in received])
            copied = list(received)
        except BatchSendError as exc:
            copied = [m for m in received if m.message_id in exc.sent_message_ids]
            deleted = _delete(broker, dead_letter_queue, copied)
            raise
        deleted = _delete(broker, dead_letter_queue, copied)
    except BaseException:
        # What was not deleted becomes visible again at once, for the next redrive.
        _release(broker, dead_letter_queue, [m for m in received if m.message_id not in deleted])
        raise
    return len(deleted), len(received) - len(deleted)


def _copy(message: ReceivedMessage) -> OutgoingMessage:
    return OutgoingMessage(
        ref=message.message_id,
        body=message.body,
        attributes=_kept_attributes(message.attributes),
        group_id=message.group_id,
        # FIFO: the same dead letter redriven twice within SQS's five-minute window is one message.
        deduplication_id=f"redrive-{message.message_id}" if message.group_id is not None else None,
    )


def _kept_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in attributes.items() if k not in DEAD_LETTER_ATTRIBUTES}


def _delete(broker: Broker, queue_name: str, messages: Sequence[ReceivedMessage]) -> set[str]:
    """Delete messages; return the ids of those deleted (SQS may refuse an expired receipt)."""
    if not messages:
        return set()
    refused = set(broker.ack(queue_name, [m.receipt for m in messages]))
    return {m.message_id for m in messages if m.receipt not in refused}


def _release(broker: Broker, queue_name: str, messages: Sequence[ReceivedMessage]) -> None:
    """Make received messages visible again; best effort (else they return after the timeout)."""
    if messages:
        with contextlib.suppress(BrokerError):
            broker.change_visibility(queue_name, [(m.receipt, 0) for m in messages])
