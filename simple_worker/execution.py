"""Running one received message: decode it, find its handler, validate, call inside the hooks."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from simple_worker.brokers.base import ReceivedMessage
from simple_worker.handlers import Registration
from simple_worker.wire import TASK_ID_ATTRIBUTE, decode_body

if TYPE_CHECKING:
    from simple_worker.app import App, ContextFactory


@attrs.frozen(kw_only=True)
class RunningTask:
    """What a ``@app.task_context`` factory is told about the task it wraps.

    ``id`` is None for messages from producers that assign no task id (simple-worker 0.2.x).
    """

    name: str
    id: str | None
    queue: str
    message_id: str
    receive_count: int
    payload: Mapping[str, object]


@attrs.frozen(kw_only=True)
class PreparedTask:
    """A message that passed decoding and validation, ready for its handler."""

    registration: Registration
    task: RunningTask
    kwargs: dict[str, object]


def prepare(app: App, message: ReceivedMessage) -> PreparedTask:
    """Decode and validate a message.

    Raises ``MessageDecodeError``, ``UnknownTaskError`` or ``PayloadValidationError`` for a
    message no handler may see (a poison message).
    """
    envelope = decode_body(message.body)
    registration = app.registration(envelope.task_name)
    kwargs = app.incoming_payload(registration, envelope.payload)
    task = RunningTask(
        name=envelope.task_name,
        id=message.attributes.get(TASK_ID_ATTRIBUTE),
        queue=message.queue_name,
        message_id=message.message_id,
        receive_count=message.receive_count,
        payload=kwargs,
    )
    return PreparedTask(registration=registration, task=task, kwargs=kwargs)


def run(prepared: PreparedTask, context_factories: Sequence[ContextFactory]) -> None:
    """Call the handler with its keyword arguments inside every context factory, in order."""
    with contextlib.ExitStack() as stack:
        for factory in context_factories:
            stack.enter_context(factory(prepared.task))
        prepared.registration.handler(**prepared.kwargs)
