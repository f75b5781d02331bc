"""Shaping SQS requests from our messages and SQS responses into ours (no boto3 at run time)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from simple_worker.brokers.base import OutgoingMessage, ReceivedMessage
from simple_worker.errors import BrokerError, SendFailure

if TYPE_CHECKING:
    from types_boto3_sqs.type_defs import (
        MessageAttributeValueTypeDef,
        MessageTypeDef,
        SendMessageBatchRequestEntryTypeDef,
        SendMessageBatchResultTypeDef,
        SendMessageRequestTypeDef,
    )

logger = logging.getLogger("simple_worker.brokers.sqs")

_GONE_RECEIPT_CODES: Final = frozenset(
    {"ReceiptHandleIsInvalid", "AWS.SimpleQueueService.MessageNotInflight", "MessageNotInflight"}
)


def batch_entry(entry_id: str, message: OutgoingMessage) -> SendMessageBatchRequestEntryTypeDef:
    entry: SendMessageBatchRequestEntryTypeDef = {"Id": entry_id, "MessageBody": message.body}
    if message.delay_s > 0:  # leave 0 out so a queue-level DelaySeconds still applies
        entry["DelaySeconds"] = message.delay_s
    if message.attributes:
        entry["MessageAttributes"] = _attribute_values(message)
    if message.group_id is not None:
        entry["MessageGroupId"] = message.group_id
    if message.deduplication_id is not None:
        entry["MessageDeduplicationId"] = message.deduplication_id
    return entry


def send_request(url: str, message: OutgoingMessage) -> SendMessageRequestTypeDef:
    entry = batch_entry("0", message)
    request: SendMessageRequestTypeDef = {"QueueUrl": url, "MessageBody": entry["MessageBody"]}
    if "DelaySeconds" in entry:
        request["DelaySeconds"] = entry["DelaySeconds"]
    if "MessageAttributes" in entry:
        request["MessageAttributes"] = entry["MessageAttributes"]
    if "MessageGroupId" in entry:
        request["MessageGroupId"] = entry["MessageGroupId"]
    if "MessageDeduplicationId" in entry:
        request["MessageDeduplicationId"] = entry["MessageDeduplicationId"]
    return request


def _attribute_values(message: OutgoingMessage) -> dict[str, MessageAttributeValueTypeDef]:
    return {
        name: {"DataType": "String", "StringValue": value}
        for name, value in message.attributes.items()
    }


def read_batch_result(
    messages: Sequence[OutgoingMessage],
    batch: Sequence[int],
    response: SendMessageBatchResultTypeDef,
    ids: list[str | None],
    failed: dict[int, SendFailure],
) -> None:
    """Record each entry of a SendMessageBatch answer in ``ids`` or ``failed`` (by input index)."""
    for sent in response.get("Successful", []):
        ids[int(sent["Id"])] = sent["MessageId"]
    for refused in response.get("Failed", []):
        index = int(refused["Id"])
        failed[index] = SendFailure(
            messages[index].ref, refused["Code"], refused.get("Message", "")
        )
    for index in batch:
        if ids[index] is None and index not in failed:
            failed[index] = SendFailure(
                messages[index].ref, "NoAnswer", "SQS reported neither success nor failure"
            )


def received(queue_name: str, message: MessageTypeDef) -> ReceivedMessage:
    attributes = {
        name: value["StringValue"]
        for name, value in message.get("MessageAttributes", {}).items()
        if "StringValue" in value and not value["DataType"].startswith("Binary")
    }
    system = message.get("Attributes", {})
    return ReceivedMessage(
        queue_name=queue_name,
        message_id=message["MessageId"],
        receipt=message["ReceiptHandle"],
        body=message.get("Body", ""),
        attributes=attributes,
        receive_count=int(system.get("ApproximateReceiveCount", "1")),
        group_id=system.get("MessageGroupId"),
    )


def dead_letter_queue(queue_name: str, redrive_policy: str | None) -> str | None:
    if not redrive_policy:
        return None
    try:
        arn = json.loads(redrive_policy).get("deadLetterTargetArn")
    except (ValueError, AttributeError) as exc:
        raise BrokerError(
            f"SQS queue {queue_name!r} has a RedrivePolicy that is not a JSON object: "
            f"{redrive_policy!r}"
        ) from exc
    if not isinstance(arn, str) or not arn:
        return None
    return arn.rsplit(":", 1)[-1]  # arn:aws:sqs:REGION:ACCOUNT:NAME


def log_visibility_failure(queue_name: str, code: str, message: str) -> None:
    gone = code in _GONE_RECEIPT_CODES or (
        code == "InvalidParameterValue" and "does not exist" in message
    )
    if gone:  # deleted meanwhile (acked, or expired and taken by another worker): nothing to do
        logger.debug("visibility not changed on %s: message gone (%s)", queue_name, code)
    else:
        logger.warning("SQS could not change visibility on %s: %s: %s", queue_name, code, message)


def missing_queue_text(queue_name: str, region: str | None) -> str:
    where = f" in region {region}" if region else ""
    return (
        f"SQS queue {queue_name!r} does not exist{where}; create the queue (e.g. "
        f"`aws sqs create-queue --queue-name {queue_name}`, or `simple-worker queues ensure`)"
    )


def without_userinfo(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
