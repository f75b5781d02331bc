"""The frozen model of a task contract: tasks, their arguments, argument types and records.

Built by the loader from ``contracts/tasks.toml``; read by validation, codegen, the app and the
compatibility checker. Defaults are stored in their wire form (JSON values), so a contract
compares and fingerprints the same however it was loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import attrs

ScalarName = Literal["str", "int", "float", "bool", "datetime", "date", "uuid", "decimal"]
SCALAR_NAMES: Final[tuple[ScalarName, ...]] = (
    "str",
    "int",
    "float",
    "bool",
    "datetime",
    "date",
    "uuid",
    "decimal",
)
DEFAULT_QUEUE: Final = "default"


@attrs.frozen
class ScalarType:
    """A JSON scalar, or one carried as a canonical string (datetime, date, uuid, decimal)."""

    name: ScalarName

    def render(self) -> str:
        return self.name


@attrs.frozen
class ListType:
    """``list[T]``: a JSON array of T."""

    item: TypeExpr

    def render(self) -> str:
        return f"list[{self.item.render()}]"


@attrs.frozen
class DictType:
    """``dict[str, T]``: a JSON object with string keys and T values."""

    value: TypeExpr

    def render(self) -> str:
        return f"dict[str, {self.value.render()}]"


@attrs.frozen
class OptionalType:
    """``T | None``: T or JSON null."""

    inner: TypeExpr

    def render(self) -> str:
        return f"{self.inner.render()} | None"


@attrs.frozen
class LiteralType:
    """``Literal["a", "b"]``: one of a fixed set of strings, ints or bools."""

    values: tuple[str | int | bool, ...]

    def render(self) -> str:
        return "Literal[" + ", ".join(_render_literal(v) for v in self.values) + "]"


@attrs.frozen
class RecordRef:
    """A named record type from ``[types.NAME]``: a JSON object on the wire."""

    name: str

    def render(self) -> str:
        return self.name


TypeExpr = ScalarType | ListType | DictType | OptionalType | LiteralType | RecordRef


class _Missing:
    """Marker for an argument without a default (required)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@attrs.frozen(kw_only=True)
class Argument:
    """One named argument of a task (or field of a record).

    ``default`` is a JSON value (wire form) or ``MISSING`` when the argument is required.
    """

    name: str
    type: TypeExpr
    default: object = MISSING
    deprecated: str | None = None

    @property
    def required(self) -> bool:
        return self.default is MISSING


@attrs.frozen(kw_only=True)
class Record:
    """A named record type: ordered fields, each like an argument."""

    name: str
    fields: tuple[Argument, ...]
    doc: str | None = None


@attrs.frozen(kw_only=True)
class Task:
    """One task: its name, queue, ordered arguments and FIFO settings."""

    name: str
    args: tuple[Argument, ...]
    queue: str = DEFAULT_QUEUE
    doc: str | None = None
    fifo_group: str | None = None
    deduplication: str | None = None
    deprecated: str | None = None

    def argument(self, name: str) -> Argument | None:
        return next((arg for arg in self.args if arg.name == name), None)


@attrs.frozen(kw_only=True)
class Contract:
    """A whole contract file: its format version, records and tasks (in file order)."""

    version: int
    tasks: Mapping[str, Task]
    records: Mapping[str, Record] = attrs.field(factory=dict)
    source: str = "<contract>"
    """Where it came from (a file path), for error messages and generated headers."""
    record_classes: Mapping[str, type] = attrs.field(eq=False, factory=dict, repr=False)
    """Record name to the (attrs) class handlers receive; not part of the contract's identity."""

    def task(self, name: str) -> Task | None:
        return self.tasks.get(name)


def referenced_record(type_: TypeExpr) -> str | None:
    """The record a type refers to (``list[Address] | None``: Address), if any.

    There is at most one: the only union is ``T | None``.
    """
    while isinstance(type_, ListType | DictType | OptionalType):
        type_ = type_.item if isinstance(type_, ListType) else _inner(type_)
    return type_.name if isinstance(type_, RecordRef) else None


def _inner(type_: DictType | OptionalType) -> TypeExpr:
    return type_.value if isinstance(type_, DictType) else type_.inner


def _render_literal(value: str | int | bool) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
