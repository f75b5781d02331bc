"""Registered handlers: what a handler's signature accepts, and checking payload keys against it."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Final

import attrs

from simple_worker.errors import HandlerSignatureError

Handler = Callable[..., object]

_UNSUPPORTED_KINDS: Final = {
    inspect.Parameter.VAR_POSITIONAL: "takes *{name}; tasks take keyword arguments only",
    inspect.Parameter.POSITIONAL_ONLY: (
        "parameter '{name}' is positional-only; tasks take keyword arguments only"
    ),
}


@attrs.frozen(kw_only=True)
class HandlerSignature:
    """The keyword parameters a handler takes: all names, the required ones, and **kwargs."""

    parameters: tuple[str, ...]
    required: frozenset[str]
    takes_any_keyword: bool

    def payload_problems(self, payload: Mapping[str, object]) -> list[str]:
        """One line per missing required key or key the handler cannot take."""
        problems = [
            f"{name}: missing"
            for name in self.parameters
            if name in self.required and name not in payload
        ]
        if not self.takes_any_keyword:
            accepted = set(self.parameters)
            takes = ", ".join(self.parameters) or "no arguments"
            problems += [
                f"{key}: unexpected argument (handler takes: {takes})"
                for key in payload
                if key not in accepted
            ]
        return problems


@attrs.frozen(kw_only=True)
class Registration:
    """A task name bound to its handler and queue (short name, without the prefix)."""

    task_name: str
    queue: str
    handler: Handler
    signature: HandlerSignature


def describe(handler: Handler) -> str:
    """``module.qualname (file:line)`` for error messages."""
    name = getattr(handler, "__qualname__", repr(handler))
    module = getattr(handler, "__module__", None)
    try:
        code = inspect.unwrap(handler).__code__
        where = f" ({code.co_filename}:{code.co_firstlineno})"
    except AttributeError:
        where = ""
    return f"{module}.{name}{where}" if module else f"{name}{where}"


def inspect_handler(task_name: str, handler: Handler) -> HandlerSignature:
    """Read a handler's signature; refuse *args and positional-only parameters."""
    if not callable(handler):
        raise HandlerSignatureError(
            f"the handler for task {task_name!r} must be callable, got {type(handler).__name__}"
        )
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError) as exc:
        raise HandlerSignatureError(
            f"cannot read the signature of the handler for task {task_name!r}: {exc}"
        ) from exc
    problems = [
        _UNSUPPORTED_KINDS[p.kind].format(name=p.name)
        for p in parameters
        if p.kind in _UNSUPPORTED_KINDS
    ]
    if problems:
        raise HandlerSignatureError(
            f"handler {describe(handler)} cannot run task {task_name!r}:", problems
        )
    named = [p for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return HandlerSignature(
        parameters=tuple(p.name for p in named),
        required=frozenset(p.name for p in named if p.default is inspect.Parameter.empty),
        takes_any_keyword=len(named) != len(parameters),
    )
