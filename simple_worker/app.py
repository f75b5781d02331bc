"""The App: the registry of handlers, routing tasks to queues, and producing tasks."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Final, Self, TypeVar, overload

from simple_worker.brokers.base import Broker, OutgoingMessage, QueueCounts
from simple_worker.brokers.url import broker_from_url, redacted_url
from simple_worker.contract import Contract, check_queue_name, load_contract
from simple_worker.contract.model import DEFAULT_QUEUE, Task
from simple_worker.errors import (
    BatchSendError,
    BrokerError,
    ContractError,
    DuplicateHandlerError,
    HandlerSignatureError,
    PayloadTooLargeError,
    PayloadValidationError,
    UnknownTaskError,
)
from simple_worker.handler_check import contract_signature_problems
from simple_worker.handlers import Handler, Registration, describe, inspect_handler
from simple_worker.provenance import fingerprint_attributes
from simple_worker.queue_names import is_fifo
from simple_worker.run import RetryBackoff
from simple_worker.taskref import TaskRef
from simple_worker.validation import ContractValidator
from simple_worker.wire import TASK_ID_ATTRIBUTE, encode_body, find_non_json
from simple_worker.worker import Worker

if TYPE_CHECKING:
    from simple_worker.execution import RunningTask

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES: Final = 1_048_576
"""SQS's largest message body since August 2025 (1 MiB); see the SQS quotas page."""
MAX_DELAY_SECONDS: Final = 900
"""SQS's DelaySeconds limit (15 minutes)."""

HandlerT = TypeVar("HandlerT", bound=Callable[..., object])
ContextFactory = Callable[["RunningTask"], AbstractContextManager[object]]


class App:
    """Tasks by name, their handlers and queues, and the broker they travel on.

    ``App(...)`` and ``App.init(...)`` take the same arguments. ``contract`` is a ``Contract``
    (e.g. ``generated.CONTRACT``) or a path to a contract TOML file; with one, handlers are
    checked against it at registration and payloads are validated strictly at both ends.
    ``broker`` injects a broker instance instead of building one from ``broker_url``.
    """

    def __init__(
        self,
        broker_url: str = "memory://localhost",
        queue_prefix: str = "",
        *,
        contract: Contract | str | os.PathLike[str] | None = None,
        broker: Broker | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.queue_prefix = queue_prefix
        self.max_message_bytes = max_message_bytes
        self._broker_url = broker_url
        self._broker = broker if broker is not None else broker_from_url(broker_url)
        self.contract = _load(contract)
        self._validator = ContractValidator(self.contract) if self.contract else None
        self._fingerprints = fingerprint_attributes(self.contract) if self.contract else {}
        self._registrations: dict[str, Registration] = {}
        self._context_factories: list[ContextFactory] = []
        self._batches = threading.local()
        if self.contract is not None:
            for task in self.contract.tasks.values():
                self._check_queue(task.queue)

    @classmethod
    def init(
        cls,
        broker_url: str = "memory://localhost",
        queue_prefix: str = "",
        *,
        contract: Contract | str | os.PathLike[str] | None = None,
        broker: Broker | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> Self:
        """The seed's constructor: ``App.init(broker_url=..., queue_prefix=...)``."""
        return cls(
            broker_url,
            queue_prefix,
            contract=contract,
            broker=broker,
            max_message_bytes=max_message_bytes,
        )

    def __repr__(self) -> str:
        url = redacted_url(self._broker_url)
        return f"App(broker_url={url!r}, queue_prefix={self.queue_prefix!r})"

    @property
    def broker(self) -> Broker:
        return self._broker

    def queue_name(self, queue: str) -> str:
        """The full SQS name of a queue: the prefix plus its short name."""
        return self.queue_prefix + queue

    @overload
    def register_task_handler(
        self, task: TaskRef[HandlerT], queue: str | None = None
    ) -> Callable[[HandlerT], HandlerT]: ...

    @overload
    def register_task_handler(
        self, task: str, queue: str | None = None
    ) -> Callable[[HandlerT], HandlerT]: ...

    def register_task_handler(
        self, task: TaskRef[HandlerT] | str, queue: str | None = None
    ) -> Callable[[HandlerT], HandlerT]:
        """Decorator: run this function for the task named ``task`` (queue "default")."""
        task_name = task.name if isinstance(task, TaskRef) else task

        def register(handler: HandlerT) -> HandlerT:
            self._register(task_name, queue, handler)
            return handler

        return register

    def task_context(self, factory: ContextFactory) -> ContextFactory:
        """Decorator: wrap every handler call in ``factory(task)`` (a context manager).

        Factories nest in registration order (the first is outermost); exceptions from the
        handler pass through them.
        """
        self._context_factories.append(factory)
        return factory

    @property
    def context_factories(self) -> tuple[ContextFactory, ...]:
        return tuple(self._context_factories)

    def add_task(
        self,
        task_name: str | TaskRef[HandlerT],
        payload: Mapping[str, object],
        *,
        delay_seconds: int = 0,
    ) -> str:
        """Enqueue a task; return its task id (a UUID string). Inside ``batch()``, send later."""
        name = task_name.name if isinstance(task_name, TaskRef) else task_name
        if not isinstance(payload, Mapping):
            raise TypeError(
                f"payload for task {name!r} must be a mapping of argument names to values, "
                f"got {type(payload).__name__}; positional arguments are not allowed, "
                "pass e.g. {'a': 1, 'b': 2}"
            )
        _check_delay(delay_seconds)
        queue = self._queue_of(name)
        queue_name = self.queue_name(queue)
        task_id = str(uuid.uuid4())
        wire_payload = self._outgoing_payload(name, payload)
        group_id, deduplication_id = self._fifo_ids(name, queue_name, wire_payload)
        message = OutgoingMessage(
            ref=task_id,
            body=encode_body(name, wire_payload),
            attributes={TASK_ID_ATTRIBUTE: task_id, **self._fingerprints.get(name, {})},
            delay_s=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
        )
        self._check_size(name, queue_name, message)
        pending: list[tuple[str, OutgoingMessage]] | None = getattr(self._batches, "pending", None)
        if pending is not None:
            pending.append((queue_name, message))
        else:
            self._send(queue_name, [message])
        logger.debug(
            "enqueued task %s (task id %s) on %s",
            name,
            task_id,
            queue_name,
            extra={"task_name": name, "task_id": task_id, "queue": queue_name},
        )
        return task_id

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group the ``add_task`` calls in the block and send them together when it exits.

        If the block raises, nothing in it is sent. Batches are per thread; a nested batch
        joins the outer one.
        """
        if getattr(self._batches, "pending", None) is not None:
            yield
            return
        pending: list[tuple[str, OutgoingMessage]] = []
        self._batches.pending = pending
        try:
            yield
        finally:
            self._batches.pending = None
        by_queue: dict[str, list[OutgoingMessage]] = {}
        for queue_name, message in pending:
            by_queue.setdefault(queue_name, []).append(message)
        sent = 0
        for queue_name, messages in by_queue.items():
            try:
                self._send(queue_name, messages)
            except BrokerError as exc:
                if sent:
                    exc.add_note(f"{sent} tasks of this batch were sent to other queues before")
                raise
            sent += len(messages)

    def _send(self, queue_name: str, messages: list[OutgoingMessage]) -> None:
        """Send through the broker; a failure names every task id that was not sent."""
        try:
            self._broker.send(queue_name, messages)
        except BatchSendError:
            raise  # already lists exactly which tasks were not sent
        except BrokerError as exc:
            task_ids = ", ".join(message.ref for message in messages)
            exc.add_note(f"not sent to {queue_name}: {len(messages)} tasks (task ids {task_ids})")
            raise

    def worker(
        self,
        queues: list[str] | None = None,
        *,
        concurrency: int = 1,
        shutdown_grace_s: float = 30.0,
        retry_backoff: RetryBackoff | None = None,
        receivers_per_queue: int | None = None,
    ) -> Worker:
        """A worker for ``queues`` (short names; None means every queue that has a handler).

        ``concurrency`` handler threads; ``shutdown_grace_s`` for running tasks to finish on a
        stop; ``retry_backoff`` to retry failed tasks with exponential backoff instead of
        after the queue's visibility timeout; ``receivers_per_queue`` receive threads per queue
        (default: 1 at concurrency 1, 2 up to 11, 3 up to 23, then 4; the extra ones poll only
        while the queue is busy).
        """
        if queues is None:
            queues = sorted({r.queue for r in self._registrations.values()})
        return Worker(
            self,
            queues,
            concurrency=concurrency,
            shutdown_grace_s=shutdown_grace_s,
            retry_backoff=retry_backoff,
            receivers_per_queue=receivers_per_queue,
        )

    def queue_counts(self, queue: str) -> QueueCounts:
        """Visible, in-flight and delayed counts of a queue, by short name (``q + "-dlq"``: DLQ)."""
        return self._broker.counts(self.queue_name(queue))

    def registration(self, task_name: str) -> Registration:
        """The handler registered for a task, or ``UnknownTaskError``."""
        try:
            return self._registrations[task_name]
        except KeyError:
            raise UnknownTaskError(task_name, known=list(self._registrations)) from None

    def incoming_payload(
        self, registration: Registration, payload: Mapping[str, object]
    ) -> dict[str, object]:
        """Validate a received payload for its handler; return the handler's keyword arguments."""
        if self._validator is not None and self._in_contract(registration.task_name):
            return self._validator.incoming(registration.task_name, payload)
        problems = registration.signature.payload_problems(payload)
        if problems:
            raise PayloadValidationError(registration.task_name, problems)
        return dict(payload)

    def _register(self, task_name: str, queue: str | None, handler: Handler) -> None:
        if not isinstance(task_name, str) or not task_name:
            raise TypeError(f"task names are non-empty strings, got {task_name!r}")
        if task_name in self._registrations:
            existing = self._registrations[task_name].handler
            raise DuplicateHandlerError(
                f"task {task_name!r} already has a handler, {describe(existing)}; "
                f"cannot register {describe(handler)} too (one handler per task name)"
            )
        signature = inspect_handler(task_name, handler)
        routed_queue = self._contract_queue(task_name, queue, handler)
        resolved_queue = routed_queue or queue or DEFAULT_QUEUE
        self._check_queue(resolved_queue)
        self._registrations[task_name] = Registration(
            task_name=task_name, queue=resolved_queue, handler=handler, signature=signature
        )

    def _contract_queue(self, task_name: str, queue: str | None, handler: Handler) -> str | None:
        """With a contract: check the handler against the task; return the task's queue."""
        if self.contract is None:
            return None
        task = self.contract.task(task_name)
        if task is None:
            raise UnknownTaskError(task_name, known=list(self.contract.tasks))
        if queue is not None and queue != task.queue:
            raise ContractError(
                f"task {task_name!r} is routed to queue {task.queue!r} by {self.contract.source}; "
                f"remove queue={queue!r} from register_task_handler or change the contract"
            )
        problems = contract_signature_problems(handler, task, self.contract)
        if problems:
            raise HandlerSignatureError(
                f"handler {describe(handler)} does not match task {task_name!r} "
                f"in {self.contract.source}:",
                problems,
            )
        return task.queue

    def _in_contract(self, task_name: str) -> bool:
        return self.contract is not None and task_name in self.contract.tasks

    def _queue_of(self, task_name: str) -> str:
        if self.contract is not None and (task := self.contract.task(task_name)) is not None:
            return task.queue
        registration = self._registrations.get(task_name)
        if registration is None:
            known = set(self._registrations) | set(self.contract.tasks if self.contract else ())
            raise UnknownTaskError(task_name, known=sorted(known))
        return registration.queue

    def _outgoing_payload(self, task_name: str, payload: Mapping[str, object]) -> dict[str, object]:
        if self._validator is not None and self._in_contract(task_name):
            return self._validator.outgoing(task_name, payload)
        problems = self._registrations[task_name].signature.payload_problems(payload)
        problems += find_non_json(payload)
        if problems:
            raise PayloadValidationError(task_name, problems)
        return dict(payload)

    def _fifo_ids(
        self, task_name: str, queue_name: str, wire_payload: Mapping[str, object]
    ) -> tuple[str | None, str | None]:
        """MessageGroupId and MessageDeduplicationId for FIFO queues (None, None otherwise).

        The group is the contract's ``fifo_group`` argument, else the task name; without a
        ``deduplication`` argument, the queue deduplicates by content.
        """
        if not is_fifo(queue_name):
            return None, None
        task = self.contract.task(task_name) if self.contract is not None else None
        if task is None:
            return task_name, None
        group_id = (
            task_name
            if task.fifo_group is None
            else _wire_value(task, task.fifo_group, wire_payload)
        )
        deduplication_id = (
            None
            if task.deduplication is None
            else _wire_value(task, task.deduplication, wire_payload)
        )
        return group_id, deduplication_id

    def _check_size(self, task_name: str, queue_name: str, message: OutgoingMessage) -> None:
        size = message_size_bytes(message)
        if size > self.max_message_bytes:  # checked first: no network call needed
            raise PayloadTooLargeError(task_name, size, self.max_message_bytes)
        queue_limit = self._broker.max_message_bytes(queue_name)  # looked up once, then cached
        if size > queue_limit:
            raise PayloadTooLargeError(task_name, size, queue_limit)

    def _check_queue(self, queue: str) -> None:
        problem = check_queue_name(self.queue_name(queue))
        if problem is not None:
            raise ValueError(
                f"queue {self.queue_name(queue)!r} (prefix {self.queue_prefix!r} + queue "
                f"{queue!r}) cannot be an SQS queue name: {problem}"
            )


def message_size_bytes(message: OutgoingMessage) -> int:
    """Size as SQS counts it: the body plus each attribute's name, type and value, in UTF-8."""
    attributes = sum(
        len(name.encode()) + len("String") + len(value.encode())
        for name, value in message.attributes.items()
    )
    return len(message.body.encode()) + attributes


def _check_delay(delay_seconds: int) -> None:
    if (
        isinstance(delay_seconds, bool)
        or not isinstance(delay_seconds, int)
        or not 0 <= delay_seconds <= MAX_DELAY_SECONDS
    ):
        raise ValueError(
            f"delay_seconds must be a whole number from 0 to {MAX_DELAY_SECONDS} "
            f"(SQS's limit), got {delay_seconds!r}"
        )


def _load(contract: Contract | str | os.PathLike[str] | None) -> Contract | None:
    if contract is None or isinstance(contract, Contract):
        return contract
    return load_contract(contract)


def _wire_value(task: Task, name: str, wire_payload: Mapping[str, object]) -> str:
    """An argument's value as sent; a deprecated optional one left out counts as its default."""
    if name in wire_payload:
        return str(wire_payload[name])
    argument = task.argument(name)  # the contract loader checked that it exists
    assert argument is not None
    return str(argument.default)  # validation let it be missing: it has a default
