"""A moto SQS server on 127.0.0.1 for tests that talk to "SQS" over real HTTP (not a test module).

Credentials are dummies given in the broker URL and the endpoint is always explicit, so nothing
here can reach real AWS.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import attrs
import boto3
from moto.server import ThreadedMotoServer

from simple_worker.brokers.sqs import SqsBroker
from simple_worker.ops.local_sqs import make_moto_receives_atomic

if TYPE_CHECKING:
    from types_boto3_sqs.client import SQSClient
    from types_boto3_sqs.literals import QueueAttributeNameType

REGION = "us-east-1"
_DUMMY_KEY = "testing"


@attrs.frozen
class MotoSqs:
    """A running moto server: its endpoint, a broker URL for it, and a raw client for setup."""

    endpoint_url: str
    client: SQSClient

    @property
    def host_and_port(self) -> str:
        return self.endpoint_url.removeprefix("http://")

    def broker_url(self, query: str = "") -> str:
        extra = f"&{query}" if query else ""
        return f"sqs://{_DUMMY_KEY}:{_DUMMY_KEY}@{self.host_and_port}?region={REGION}{extra}"

    def broker(self) -> SqsBroker:
        return SqsBroker(
            region=REGION,
            endpoint_url=self.endpoint_url,
            access_key_id=_DUMMY_KEY,
            secret_access_key=_DUMMY_KEY,
        )

    def create_queue_pair(
        self, *, visibility_timeout_s: int, max_receive_count: int, prefix: str = "t-"
    ) -> tuple[str, str]:
        """A fresh queue and its dead-letter queue (``<queue>-dlq``) with a RedrivePolicy."""
        queue = f"{prefix}{uuid.uuid4().hex[:12]}"
        dead_letter_queue = f"{queue}-dlq"
        dlq_url = self.client.create_queue(QueueName=dead_letter_queue)["QueueUrl"]
        dlq_arn = self.client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
        self.client.create_queue(
            QueueName=queue,
            Attributes={
                "VisibilityTimeout": str(visibility_timeout_s),
                "RedrivePolicy": json.dumps(policy),
            },
        )
        return queue, dead_letter_queue

    def create_queue(self, attributes: dict[QueueAttributeNameType, str] | None = None) -> str:
        """A fresh queue without a dead-letter queue; return its name."""
        queue = f"t-{uuid.uuid4().hex[:12]}"
        self.client.create_queue(QueueName=queue, Attributes=attributes or {})
        return queue


@contextmanager
def moto_sqs() -> Iterator[MotoSqs]:
    """Start moto's threaded server on a free port of 127.0.0.1; stop it on exit.

    Its receives are made atomic as ``simple-worker dev-sqs`` makes them: a worker polls a busy
    queue with several receivers, and plain moto can hand one message to two of them.
    """
    make_moto_receives_atomic()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint_url = f"http://{host}:{port}"
        client = boto3.session.Session(
            aws_access_key_id=_DUMMY_KEY, aws_secret_access_key=_DUMMY_KEY, region_name=REGION
        ).client("sqs", endpoint_url=endpoint_url)
        try:
            yield MotoSqs(endpoint_url=endpoint_url, client=client)
        finally:
            client.close()
    finally:
        server.stop()


def unused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
