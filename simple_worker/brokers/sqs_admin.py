"""Queue administration the operations CLI needs beyond the Broker seam, on an ``SqsBroker``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simple_worker.brokers.sqs import SqsBroker


class SqsAdmin:
    """Create, inspect and list SQS queues through an ``SqsBroker`` (sharing its client)."""

    def __init__(self, broker: SqsBroker) -> None:
        self.broker = broker

    def queue_url(self, queue_name: str) -> str:
        """The queue's URL; ``QueueNotFoundError`` when it does not exist."""
        return self.broker.queue_url(queue_name)

    def create_queue(self, queue_name: str, attributes: Mapping[str, str]) -> str:
        """Create the queue with these SQS attributes; return its URL."""
        return self.broker.create_queue(queue_name, attributes=attributes)

    def queue_attributes(self, queue_name: str, names: Sequence[str] = ("All",)) -> dict[str, str]:
        """SQS attributes of a queue; ``QueueNotFoundError`` if missing."""
        return self.broker.queue_attributes(queue_name, names)

    def list_queues(self, prefix: str = "") -> list[str]:
        """Names of every queue whose name starts with ``prefix``, sorted."""
        return self.broker.list_queues(prefix)
