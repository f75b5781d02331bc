"""simple-worker: typed tasks on Amazon SQS.

The public API is what this module exports; everything else is private and may change.
"""

from simple_worker.app import App
from simple_worker.brokers.base import QueueCounts
from simple_worker.brokers.memory import MemoryBroker
from simple_worker.clock import ManualClock
from simple_worker.errors import (
    BrokerError,
    ContractError,
    DuplicateHandlerError,
    HandlerSignatureError,
    MessageDecodeError,
    PayloadTooLargeError,
    PayloadValidationError,
    QueueNotFoundError,
    SimpleWorkerError,
    UnknownTaskError,
)
from simple_worker.execution import RunningTask
from simple_worker.run import RetryBackoff
from simple_worker.taskref import TaskRef
from simple_worker.worker import Worker

__all__ = [
    "App",
    "BrokerError",
    "ContractError",
    "DuplicateHandlerError",
    "HandlerSignatureError",
    "ManualClock",
    "MemoryBroker",
    "MessageDecodeError",
    "PayloadTooLargeError",
    "PayloadValidationError",
    "QueueCounts",
    "QueueNotFoundError",
    "RetryBackoff",
    "RunningTask",
    "SimpleWorkerError",
    "TaskRef",
    "UnknownTaskError",
    "Worker",
]
