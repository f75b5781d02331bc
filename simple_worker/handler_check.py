"""Compare a handler's signature with its contract task: parameter names and annotations.

The worker calls a handler with every argument of the task by keyword (defaults filled in), so
the parameters must be exactly the task's arguments (``**kwargs`` may take any of them), and
each annotation, where present, must be the contract's type. ``typing.Any`` matches anything.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import inspect
import re
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Final

from simple_worker.contract.model import (
    Contract,
    DictType,
    ListType,
    LiteralType,
    OptionalType,
    RecordRef,
    ScalarName,
    ScalarType,
    Task,
    TypeExpr,
)

_SCALARS: Final[Mapping[object, ScalarName]] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    dt.datetime: "datetime",
    dt.date: "date",
    uuid.UUID: "uuid",
    decimal.Decimal: "decimal",
}
_UNRESOLVED: Final = object()


class _UnsupportedAnnotationError(Exception):
    """An annotation (or part of one) with no contract equivalent."""


def contract_signature_problems(
    handler: Callable[..., object], task: Task, contract: Contract
) -> list[str]:
    """One line per way the handler's parameters differ from the task's arguments."""
    try:
        parameters = inspect.signature(handler).parameters
    except (TypeError, ValueError) as exc:
        return [f"cannot read the handler's signature: {exc}"]
    problems: list[str] = []
    arguments = {arg.name: arg for arg in task.args}
    takes_kwargs = False
    for parameter in parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            takes_kwargs = True
        elif parameter.kind is parameter.VAR_POSITIONAL:
            problems.append(
                f"parameter '*{parameter.name}': the worker passes arguments by keyword only"
            )
        elif parameter.kind is parameter.POSITIONAL_ONLY:
            problems.append(
                f"parameter '{parameter.name}' is positional-only; "
                "the worker passes arguments by keyword"
            )
        elif parameter.name not in arguments:
            problems.append(f"parameter '{parameter.name}' is not an argument of task {task.name}")
    if not takes_kwargs:
        problems.extend(
            f"parameter '{name}' is missing: task {task.name} passes argument '{name}'"
            for name in arguments
            if name not in parameters
        )
    expected = {arg.name: arg.type for arg in task.args}
    problems.extend(_annotation_problems(handler, parameters, expected, contract))
    return problems


def _annotation_problems(
    handler: Callable[..., object],
    parameters: Mapping[str, inspect.Parameter],
    expected: Mapping[str, TypeExpr],
    contract: Contract,
) -> list[str]:
    annotations = _resolved_annotations(handler, parameters)
    problems = []
    for name, annotation in annotations.items():
        if name not in expected or annotation is typing.Any:
            continue
        want = expected[name]
        if isinstance(annotation, str):  # could not be resolved; annotation holds the reason
            problems.append(f"parameter '{name}': {annotation}")
            continue
        try:
            have = annotation_type(annotation, contract)
        except _UnsupportedAnnotationError:
            problems.append(
                f"parameter '{name}': annotated {_render_annotation(annotation)}, "
                f"contract says {want.render()}"
            )
            continue
        if not same_type(have, want):
            problems.append(
                f"parameter '{name}': annotated {have.render()}, contract says {want.render()}"
            )
    return problems


def _resolved_annotations(
    handler: Callable[..., object], parameters: Mapping[str, inspect.Parameter]
) -> dict[str, object]:
    """Parameter annotations with strings resolved; an unresolvable one maps to its reason."""
    raw = {
        name: parameter.annotation
        for name, parameter in parameters.items()
        if parameter.annotation is not inspect.Parameter.empty
    }
    target = _function_of(handler)
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # NameError, SyntaxError, TypeError: resolve one by one below
        hints = {}
    resolved = {}
    for name, annotation in raw.items():
        if name in hints:
            resolved[name] = hints[name]
        elif isinstance(annotation, str):
            resolved[name] = _resolve_one(annotation, target)
        else:
            resolved[name] = annotation
    return resolved


def _function_of(handler: Callable[..., object]) -> object:
    """The object whose annotations and globals describe the handler's parameters."""
    target: object = handler
    while isinstance(target, functools.partial):
        target = target.func
    if not isinstance(target, types.FunctionType | types.MethodType | type) and callable(target):
        target = type(target).__call__  # a callable instance: its class's __call__
    return target


def _resolve_one(annotation: str, target: object) -> object:
    unwrapped = inspect.unwrap(target) if callable(target) else target
    namespace = getattr(unwrapped, "__globals__", {})
    try:
        # What typing.get_type_hints does, one parameter at a time so one bad name does not
        # hide the others; the text is the handler module's own source.
        return eval(annotation, dict(namespace))
    except NameError as exc:
        return f"cannot resolve annotation {annotation!r} ({exc})"
    except Exception as exc:
        return f"cannot resolve annotation {annotation!r} ({type(exc).__name__}: {exc})"


def annotation_type(annotation: object, contract: Contract) -> TypeExpr:
    """The contract type an annotation stands for, or ``_UnsupportedAnnotationError``."""
    if isinstance(annotation, type) and annotation in _SCALARS:
        return ScalarType(_SCALARS[annotation])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and len(args) == 1:
        return ListType(annotation_type(args[0], contract))
    if origin is dict and len(args) == 2 and args[0] is str:
        return DictType(annotation_type(args[1], contract))
    if origin is typing.Literal:
        return LiteralType(tuple(args))
    if origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
        inner = next(arg for arg in args if arg is not type(None))
        return OptionalType(annotation_type(inner, contract))
    if isinstance(annotation, type) and annotation.__name__ in contract.records:
        return RecordRef(annotation.__name__)
    raise _UnsupportedAnnotationError(annotation)


def same_type(have: TypeExpr, want: TypeExpr) -> bool:
    """Equal types, with Literal values compared as sets (of value and exact type)."""
    if isinstance(have, LiteralType) and isinstance(want, LiteralType):
        return {(type(v), v) for v in have.values} == {(type(v), v) for v in want.values}
    if isinstance(have, ListType) and isinstance(want, ListType):
        return same_type(have.item, want.item)
    if isinstance(have, DictType) and isinstance(want, DictType):
        return same_type(have.value, want.value)
    if isinstance(have, OptionalType) and isinstance(want, OptionalType):
        return same_type(have.inner, want.inner)
    return have == want


def _render_annotation(annotation: object) -> str:
    """An annotation as a person would write it: ``Sequence[str] | None``."""
    if annotation is type(None):
        return "None"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_render_annotation(arg) for arg in args)
    if origin is typing.Literal:
        return LiteralType(args).render()
    if origin is not None and args:
        name = getattr(origin, "__name__", None) or re.sub(r"\btyping\.", "", repr(origin))
        return f"{name}[{', '.join(_render_annotation(arg) for arg in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return re.sub(r"\btyping\.", "", repr(annotation))
