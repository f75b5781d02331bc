"""The Amazon SQS broker: the only module that imports boto3 and botocore.

One boto3 client per broker, created on first use (constructing a broker never touches the
network) under a lock, because boto3 sessions are not thread-safe while clients are. Queue URLs
and the static attributes of a queue (maximum message size, dead-letter queue) are fetched once
and cached. Every botocore exception is translated here into ``BrokerError`` (or the more
specific ``QueueNotFoundError``), chained with ``from exc``; credentials never reach a message,
a log line or a repr.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final, cast

import attrs
import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from simple_worker.brokers import sqs_shapes as shapes
from simple_worker.brokers.base import OutgoingMessage, QueueCounts, ReceivedMessage
from simple_worker.brokers.sqs_limits import (
    MAX_BATCH_ENTRIES,
    MAX_MESSAGE_BYTES,
    MAX_RECEIVE_MESSAGES,
    MAX_VISIBILITY_TIMEOUT_S,
    MAX_WAIT_S,
    chunks,
    send_batches,
)
from simple_worker.errors import BatchSendError, BrokerError, QueueNotFoundError, SendFailure

if TYPE_CHECKING:
    from botocore.model import OperationModel
    from types_boto3_sqs.client import SQSClient
    from types_boto3_sqs.literals import QueueAttributeFilterType, QueueAttributeNameType

logger = logging.getLogger(__name__)

LONG_POLL_S: Final = MAX_WAIT_S
DEFAULT_MAX_ATTEMPTS: Final = 5  # botocore "standard" retries: first try + 4 retries, backoff
DEFAULT_CONNECT_TIMEOUT_S: Final = 5.0
DEFAULT_READ_TIMEOUT_S: Final = LONG_POLL_S + 10.0  # a long poll holds the response for 20 s
DEFAULT_MAX_POOL_CONNECTIONS: Final = 32  # receive threads + ack and heartbeat batches
DEFAULT_VISIBILITY_TIMEOUT_S: Final = 30  # SQS's default for a queue created without one

_MISSING_QUEUE_CODES: Final = frozenset(
    {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
)
_CREDENTIAL_CODES: Final = frozenset(
    {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch"}
)
_COUNT_ATTRIBUTES: Final = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
_MIN_SECRET_CHARS_TO_SCRUB: Final = 4  # shorter values would mangle ordinary words


@attrs.frozen
class _QueueInfo:
    """The attributes of a queue that are read once and cached."""

    max_message_bytes: int
    visibility_timeout_s: int
    dead_letter_queue: str | None


class SqsBroker:
    """A broker on Amazon SQS (or an SQS-compatible endpoint); thread-safe, one per App.

    Without explicit credentials, region or endpoint, boto3's standard chains apply
    (environment variables such as ``AWS_PROFILE``, ``AWS_DEFAULT_REGION`` and
    ``AWS_ENDPOINT_URL_SQS``, config files, instance roles).
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        max_pool_connections: int = DEFAULT_MAX_POOL_CONNECTIONS,
        long_poll_s: int = LONG_POLL_S,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if connect_timeout_s <= 0:
            raise ValueError(f"connect_timeout_s must be > 0, got {connect_timeout_s}")
        if read_timeout_s <= LONG_POLL_S:
            raise ValueError(
                f"read_timeout_s must be more than the {LONG_POLL_S} s long poll, "
                f"got {read_timeout_s}"
            )
        if not 1 <= long_poll_s <= MAX_WAIT_S:
            raise ValueError(f"long_poll_s must be 1 to {MAX_WAIT_S} seconds, got {long_poll_s}")
        if max_pool_connections < 1:
            raise ValueError(f"max_pool_connections must be >= 1, got {max_pool_connections}")
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self._access_key_id = access_key_id
        self._long_poll_s = long_poll_s
        self._secret_access_key = secret_access_key
        self._config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            max_pool_connections=max_pool_connections,
        )
        self._lock = threading.Lock()  # guards the client, the caches and the call counter
        self._lookup_lock = threading.Lock()  # one GetQueueUrl at a time, so each runs once
        self._sqs: SQSClient | None = None
        self._closed = False
        self._urls: dict[str, str] = {}
        self._infos: dict[str, _QueueInfo] = {}
        self._calls: Counter[str] = Counter()

    def __repr__(self) -> str:
        credentials = "explicit" if self._access_key_id is not None else "default chain"
        return (
            f"SqsBroker(region={self.region!r}, "
            f"endpoint_url={shapes.without_userinfo(self.endpoint_url)!r}, "
            f"profile={self.profile!r}, credentials={credentials!r})"
        )

    # -- the Broker protocol --------------------------------------------------------------

    @property
    def long_poll_s(self) -> float:
        return float(self._long_poll_s)

    def max_message_bytes(self, queue_name: str) -> int:
        return self._info(queue_name).max_message_bytes

    def visibility_timeout_s(self, queue_name: str) -> int:
        return self._info(queue_name).visibility_timeout_s

    def dead_letter_queue(self, queue_name: str) -> str | None:
        return self._info(queue_name).dead_letter_queue

    def send(self, queue_name: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Send messages; raise ``BatchSendError`` naming the ones SQS did not take, if any."""
        if not messages:
            return []
        url = self.queue_url(queue_name)
        client = self._client()
        if len(messages) == 1:
            with self._translated("SendMessage", queue_name):
                response = client.send_message(**shapes.send_request(url, messages[0]))
            return [response["MessageId"]]
        return self._send_in_batches(queue_name, url, messages)

    def receive(
        self, queue_name: str, *, max_messages: int, wait_s: float
    ) -> list[ReceivedMessage]:
        """Receive up to ``max_messages`` (at most 10); ``wait_s`` is rounded down to seconds."""
        if max_messages < 1:
            return []
        url = self.queue_url(queue_name)
        client = self._client()
        with self._translated("ReceiveMessage", queue_name):
            response = client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(max_messages, MAX_RECEIVE_MESSAGES),
                WaitTimeSeconds=max(0, min(MAX_WAIT_S, int(wait_s))),
                MessageSystemAttributeNames=["ApproximateReceiveCount", "MessageGroupId"],
                MessageAttributeNames=["All"],
            )
        return [shapes.received(queue_name, message) for message in response.get("Messages", [])]

    def ack(self, queue_name: str, receipts: Sequence[str]) -> list[str]:
        """Delete messages in batches of 10; return the receipts SQS refused (expired, invalid)."""
        unique = list(dict.fromkeys(receipts))  # SQS rejects a batch with a receipt twice
        if not unique:
            return []
        url = self.queue_url(queue_name)
        client = self._client()
        failed: list[str] = []
        for chunk in chunks(unique, MAX_BATCH_ENTRIES):
            with self._translated("DeleteMessageBatch", queue_name):
                response = client.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(chunk)],
                )
            for entry in response.get("Failed", []):
                failed.append(chunk[int(entry["Id"])])
                logger.debug(
                    "SQS could not delete a message from %s: %s", queue_name, entry["Code"]
                )
        return failed

    def change_visibility(self, queue_name: str, changes: Sequence[tuple[str, int]]) -> None:
        """Re-time messages in batches of 10; messages already deleted are skipped quietly."""
        if not changes:
            return
        url = self.queue_url(queue_name)
        client = self._client()
        for chunk in chunks(changes, MAX_BATCH_ENTRIES):
            with self._translated("ChangeMessageVisibilityBatch", queue_name):
                response = client.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {
                            "Id": str(i),
                            "ReceiptHandle": receipt,
                            # SQS rejects more than its 12-hour maximum; the intent is "as long
                            # as possible", so clamp rather than fail the whole batch.
                            "VisibilityTimeout": max(0, min(MAX_VISIBILITY_TIMEOUT_S, timeout)),
                        }
                        for i, (receipt, timeout) in enumerate(chunk)
                    ],
                )
            for entry in response.get("Failed", []):
                shapes.log_visibility_failure(queue_name, entry["Code"], entry.get("Message", ""))

    def counts(self, queue_name: str) -> QueueCounts:
        url = self.queue_url(queue_name)
        client = self._client()
        with self._translated("GetQueueAttributes", queue_name):
            found = client.get_queue_attributes(
                QueueUrl=url, AttributeNames=list(_COUNT_ATTRIBUTES)
            ).get("Attributes", {})
        visible, in_flight, delayed = (int(found.get(name, "0")) for name in _COUNT_ATTRIBUTES)
        return QueueCounts(visible=visible, in_flight=in_flight, delayed=delayed)

    def close(self) -> None:
        """Close the client's connections; the broker raises ``BrokerError`` if used again."""
        with self._lock:
            client, self._sqs, self._closed = self._sqs, None, True
        if client is not None:
            client.close()

    # -- tools for the CLI and tests ---------------------------------------------------------

    def queue_url(self, queue_name: str) -> str:
        """The queue's URL (GetQueueUrl once per queue, then cached)."""
        with self._lock:
            url = self._urls.get(queue_name)
        if url is not None:
            return url
        with self._lookup_lock:
            with self._lock:
                url = self._urls.get(queue_name)  # another thread may have looked it up
            if url is None:
                client = self._client()
                with self._translated("GetQueueUrl", queue_name):
                    url = client.get_queue_url(QueueName=queue_name)["QueueUrl"]
                with self._lock:
                    self._urls[queue_name] = url
            return url

    def create_queue(self, queue_name: str, *, attributes: Mapping[str, str] | None = None) -> str:
        """Create a queue (or find the identical one) with SQS attributes; return its URL."""
        client = self._client()
        with self._translated("CreateQueue", queue_name):
            # SQS checks the attribute names itself (InvalidAttributeName, translated above).
            names = cast("dict[QueueAttributeNameType, str]", dict(attributes or {}))
            url = client.create_queue(QueueName=queue_name, Attributes=names)["QueueUrl"]
        with self._lock:
            self._urls[queue_name] = url
            self._infos.pop(queue_name, None)
        logger.info("SQS queue %s created", queue_name)
        return url

    def queue_attributes(self, queue_name: str, names: Sequence[str] = ("All",)) -> dict[str, str]:
        """SQS attributes of a queue (GetQueueAttributes); ``QueueNotFoundError`` if missing."""
        url = self.queue_url(queue_name)
        with self._translated("GetQueueAttributes", queue_name):
            response = self._client().get_queue_attributes(
                QueueUrl=url, AttributeNames=cast("list[QueueAttributeFilterType]", list(names))
            )
        return {str(name): value for name, value in response.get("Attributes", {}).items()}

    def list_queues(self, prefix: str = "") -> list[str]:
        """Names of every queue whose name starts with ``prefix``, sorted (all pages)."""
        paginator = self._client().get_paginator("list_queues")
        names: list[str] = []
        with self._translated("ListQueues", None):
            for page in paginator.paginate(QueueNamePrefix=prefix):
                names += [url.rstrip("/").rsplit("/", 1)[-1] for url in page.get("QueueUrls", [])]
        return sorted(names)

    def api_calls(self) -> dict[str, int]:
        """How many requests this broker made, by SQS operation name (retries not counted)."""
        with self._lock:
            return dict(self._calls)

    # -- internals ----------------------------------------------------------------------------

    def _send_in_batches(
        self, queue_name: str, url: str, messages: Sequence[OutgoingMessage]
    ) -> list[str]:
        ids: list[str | None] = [None] * len(messages)
        failed: dict[int, SendFailure] = {}  # by input index
        client = self._client()
        for batch in send_batches(messages):
            entries = [shapes.batch_entry(str(index), messages[index]) for index in batch]
            try:
                response = client.send_message_batch(QueueUrl=url, Entries=entries)
            except ClientError as exc:
                if _code(exc) in _MISSING_QUEUE_CODES and not failed and not any(ids):
                    raise self._error(exc, "SendMessageBatch", queue_name) from exc
                reason = self._text(exc)
                failed |= {i: SendFailure(messages[i].ref, _code(exc), reason) for i in batch}
                logger.warning(
                    "SQS refused a batch of %d for %s: %s", len(batch), queue_name, reason
                )
                continue
            except BotoCoreError as exc:  # the connection or credentials: stop trying
                if not failed and not any(ids):
                    raise self._error(exc, "SendMessageBatch", queue_name) from exc
                reason = self._text(exc)
                unsent = [i for i, mid in enumerate(ids) if mid is None and i not in failed]
                failed |= {i: SendFailure(messages[i].ref, "NotSent", reason) for i in unsent}
                break
            shapes.read_batch_result(messages, batch, response, ids, failed)
        if failed:
            sent = {messages[i].ref: mid for i, mid in enumerate(ids) if mid is not None}
            raise BatchSendError(queue_name, [failed[i] for i in sorted(failed)], sent)
        return [mid for mid in ids if mid is not None]

    def _info(self, queue_name: str) -> _QueueInfo:
        with self._lock:
            info = self._infos.get(queue_name)
        if info is not None:
            return info
        url = self.queue_url(queue_name)
        client = self._client()
        with self._translated("GetQueueAttributes", queue_name):
            found = client.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["MaximumMessageSize", "VisibilityTimeout", "RedrivePolicy"],
            ).get("Attributes", {})
        info = _QueueInfo(
            max_message_bytes=int(found.get("MaximumMessageSize", MAX_MESSAGE_BYTES)),
            visibility_timeout_s=int(found.get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT_S)),
            dead_letter_queue=shapes.dead_letter_queue(queue_name, found.get("RedrivePolicy")),
        )
        with self._lock:
            self._infos[queue_name] = info
        return info

    def _client(self) -> SQSClient:
        with self._lock:
            if self._closed:
                raise BrokerError("the SQS broker is closed; create a new one")
            if self._sqs is None:
                self._sqs = self._create_client()
            return self._sqs

    def _create_client(self) -> SQSClient:
        has_key, has_secret = bool(self._access_key_id), bool(self._secret_access_key)
        if has_key != has_secret:
            raise BrokerError(
                "the SQS broker was given an access key id without a secret access key (or a "
                "secret without a key id), e.g. sqs://KEY@HOST; give both as "
                "sqs://KEY:SECRET@HOST (percent-encoded), or neither to use the standard AWS "
                "credential chain (environment variables, profile, instance role)"
            )
        try:
            session = boto3.session.Session(
                aws_access_key_id=self._access_key_id or None,
                aws_secret_access_key=self._secret_access_key or None,
                region_name=self.region,
                profile_name=self.profile,
            )
            client = session.client("sqs", endpoint_url=self.endpoint_url, config=self._config)
        except BotoCoreError as exc:
            raise self._error(exc, "creating the SQS client", None) from exc
        client.meta.events.register("before-call.sqs.*", self._count_call)
        logger.info(
            "SQS client created (region %s, endpoint %s)",
            client.meta.region_name,
            shapes.without_userinfo(client.meta.endpoint_url),
        )
        return client

    def _count_call(self, model: OperationModel, **_: object) -> None:
        with self._lock:
            self._calls[model.name] += 1

    @contextmanager
    def _translated(self, operation: str, queue_name: str | None) -> Iterator[None]:
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, operation, queue_name) from exc

    def _error(
        self, exc: ClientError | BotoCoreError, operation: str, queue_name: str | None
    ) -> BrokerError:
        where = f"{operation} on SQS queue {queue_name!r}" if queue_name else operation
        if isinstance(exc, ClientError) and _code(exc) in _MISSING_QUEUE_CODES and queue_name:
            with self._lock:
                self._urls.pop(queue_name, None)
            region = self._sqs.meta.region_name if self._sqs is not None else self.region
            return QueueNotFoundError(self._scrub(shapes.missing_queue_text(queue_name, region)))
        return BrokerError(self._scrub(f"{where} failed: {self._text(exc)}{_hint(exc)}"))

    def _text(self, exc: ClientError | BotoCoreError) -> str:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            return self._scrub(f"{_code(exc)}: {error.get('Message', '')}")
        return self._scrub(str(exc))

    def _scrub(self, text: str) -> str:
        # Defence in depth: no message should hold a credential, but botocore texts are not ours.
        for secret in (self._secret_access_key, self._access_key_id):
            if secret and len(secret) >= _MIN_SECRET_CHARS_TO_SCRUB:
                text = text.replace(secret, "***")
        return text


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _hint(exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "; no usable AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "a profile (AWS_PROFILE or ?profile=), or sqs://KEY:SECRET@ in the broker URL"
        )
    if isinstance(exc, NoRegionError):
        return "; set ?region= in the broker URL or AWS_DEFAULT_REGION"
    if isinstance(exc, ProfileNotFound):
        return "; check ?profile= in the broker URL or AWS_PROFILE against ~/.aws/config"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError):
        return "; check the endpoint (host and port, or ?endpoint_url=) and the network"
    if isinstance(exc, ReadTimeoutError):
        return "; SQS did not answer in time: check the network, or raise ?read_timeout="
    if isinstance(exc, ClientError) and _code(exc) in _CREDENTIAL_CODES:
        return "; check the AWS credentials (access key id and secret) and the region"
    if isinstance(exc, ClientError) and "AccessDenied" in _code(exc):
        return "; grant the credentials in use the sqs:* permissions this queue needs"
    return ""
