"""Every exception simple-worker raises, in one place.

The tree (each error is also the matching builtin where one fits, so callers can catch either)::

    SimpleWorkerError
    ├── UnknownTaskError (LookupError)          no handler and no contract entry for a task name
    ├── DuplicateHandlerError (ValueError)      a task name registered twice
    ├── HandlerSignatureError (TypeError)       a handler whose parameters cannot take the payload
    ├── PayloadValidationError (ValueError)     a payload that breaks its task's signature/contract
    ├── PayloadTooLargeError (ValueError)       an encoded message over the size limit
    ├── MessageDecodeError (ValueError)         a message body that is not a task envelope
    ├── ContractError (ValueError)              a contract file that cannot be loaded
    ├── BrokerURLError (ValueError)             a broker URL that cannot be understood
    └── BrokerError                             the broker failed (network, permissions, ...)
        ├── QueueNotFoundError (LookupError)    a queue that does not exist
        └── BatchSendError                      some messages of a send failed, the others went
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple


class SimpleWorkerError(Exception):
    """Base class of every error raised by simple-worker."""


class UnknownTaskError(SimpleWorkerError, LookupError):
    """A task name that has no handler on this app and is not in its contract."""

    def __init__(self, task_name: str, known: Sequence[str] = ()) -> None:
        self.task_name = task_name
        hint = (
            f"known tasks: {', '.join(sorted(known))}"
            if known
            else "no tasks are registered on this app"
        )
        super().__init__(
            f"unknown task {task_name!r} ({hint}); register a handler with "
            f"@app.register_task_handler({task_name!r}) or add it to the contract"
        )

    def __str__(self) -> str:
        # LookupError would otherwise repr() the message like KeyError does.
        return str(self.args[0])


class DuplicateHandlerError(SimpleWorkerError, ValueError):
    """A second handler registered for a task name that already has one."""


class HandlerSignatureError(SimpleWorkerError, TypeError):
    """A handler whose parameters cannot fit its task (*args, positional-only, contract)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems = tuple(problems)
        text = message + "".join(f"\n  {problem}" for problem in self.problems)
        super().__init__(text)


class PayloadValidationError(SimpleWorkerError, ValueError):
    """A payload that does not fit its task; ``errors`` holds one readable line per problem."""

    def __init__(self, task_name: str, errors: Sequence[str], *, hint: str = "") -> None:
        self.task_name = task_name
        self.errors = tuple(errors)
        count = len(self.errors)
        header = f"invalid payload for task {task_name!r} ({count} problem{'s' * (count != 1)})"
        lines = "".join(f"\n  {error}" for error in self.errors)
        super().__init__(header + lines + (f"\n{hint}" if hint else ""))


class PayloadTooLargeError(SimpleWorkerError, ValueError):
    """An encoded message larger than the queue accepts; nothing was sent."""

    def __init__(self, task_name: str, size_bytes: int, limit_bytes: int) -> None:
        self.task_name = task_name
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        super().__init__(
            f"message for task {task_name!r} is {size_bytes:,} bytes, over the limit of "
            f"{limit_bytes:,} bytes; nothing was sent. Store large data elsewhere (S3, a database) "
            "and pass a reference in the payload"
        )


class MessageDecodeError(SimpleWorkerError, ValueError):
    """A message body that is not a simple-worker envelope (the worker treats it as poison)."""


class ContractError(SimpleWorkerError, ValueError):
    """A contract that cannot be loaded; the message names the file and key path."""


class BrokerURLError(SimpleWorkerError, ValueError):
    """A broker URL that simple-worker cannot understand."""


class BrokerError(SimpleWorkerError):
    """The broker failed to do what was asked (network, permissions, service errors)."""


class QueueNotFoundError(BrokerError, LookupError):
    """A queue that does not exist on the broker."""

    def __str__(self) -> str:
        return str(self.args[0])


class SendFailure(NamedTuple):
    """One message a batch send could not deliver: the caller's ``ref`` and the service's reason."""

    ref: str
    code: str
    message: str


class BatchSendError(BrokerError):
    """Some messages of a send were not delivered; every other message was (do not re-send those).

    ``failures`` lists the undelivered messages by ``ref``; ``sent_message_ids`` maps the ref of
    every delivered message to its message id.
    """

    def __init__(
        self,
        queue_name: str,
        failures: Sequence[SendFailure],
        sent_message_ids: Mapping[str, str],
    ) -> None:
        self.queue_name = queue_name
        self.failures = tuple(failures)
        self.sent_message_ids = dict(sent_message_ids)
        total = len(self.failures) + len(self.sent_message_ids)
        header = (
            f"{len(self.failures)} of {total} messages could not be sent to queue "
            f"{queue_name!r} ({len(self.sent_message_ids)} were sent: do not re-send those)"
        )
        lines = "".join(f"\n  {f.ref}: {f.code}: {f.message}" for f in self.failures)
        super().__init__(header + lines)
