"""Brokers: the seam between the app/worker and a queue service, and URL parsing for them."""

from simple_worker.brokers.base import Broker, OutgoingMessage, QueueCounts, ReceivedMessage
from simple_worker.brokers.memory import MemoryBroker
from simple_worker.brokers.url import broker_from_url

__all__ = [
    "Broker",
    "MemoryBroker",
    "OutgoingMessage",
    "QueueCounts",
    "ReceivedMessage",
    "broker_from_url",
]
