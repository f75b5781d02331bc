"""Moving a poison message to its queue's dead-letter queue, with the reason attached."""

from __future__ import annotations

import re
from typing import Final

from simple_worker.brokers.base import Broker, OutgoingMessage, ReceivedMessage
from simple_worker.wire import DEAD_LETTER_REASON_ATTRIBUTE

SOURCE_QUEUE_ATTRIBUTE: Final = "simple_worker.source_queue"
RECEIVE_COUNT_ATTRIBUTE: Final = "simple_worker.receive_count"
REASON_MAX_CHARS: Final = 1000


# Characters SQS refuses in message attributes (lone surrogates, most control characters).
_NOT_SQS_TEXT: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def dead_letter_reason(exc: BaseException) -> str:
    """The reason recorded on a dead-lettered message: the error's type and message, bounded.

    Characters SQS refuses in an attribute (a hostile payload key may hold a lone surrogate or
    a control character) are written as ``\\uXXXX`` escapes.
    """
    text = f"{type(exc).__name__}: {exc}"
    return _NOT_SQS_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)[:REASON_MAX_CHARS]


def copy_to_dead_letter_queue(
    broker: Broker, message: ReceivedMessage, dead_letter_queue: str, reason: str
) -> None:
    """Send a copy of ``message`` to ``dead_letter_queue`` saying why (raises ``BrokerError``).

    The caller deletes the original only after this returned, so a failure here loses nothing.
    """
    attributes = {
        **message.attributes,
        DEAD_LETTER_REASON_ATTRIBUTE: reason,
        SOURCE_QUEUE_ATTRIBUTE: message.queue_name,
        RECEIVE_COUNT_ATTRIBUTE: str(message.receive_count),
    }
    copy = OutgoingMessage(
        ref=message.message_id,
        body=message.body,
        attributes=attributes,
        group_id=message.group_id,
        deduplication_id=message.message_id if message.group_id is not None else None,
    )
    broker.send(dead_letter_queue, [copy])
