"""TaskRef: a typed handle on a task name, produced by the generator for each contract task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import attrs

HandlerT = TypeVar("HandlerT", bound=Callable[..., object])


@attrs.frozen
class TaskRef(Generic[HandlerT]):
    """A task's name, typed with the Protocol its handler must satisfy.

    ``app.register_task_handler(tasks.send_welcome_email)`` lets a type checker compare the
    decorated function with ``SendWelcomeEmailHandler``; at run time it is just the name.
    """

    name: str

    def __str__(self) -> str:
        return self.name
