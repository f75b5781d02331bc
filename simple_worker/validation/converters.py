"""Compile a contract's types into converter closures, once, for one direction.

A converter walks a value only as deep as its type (so hostile nesting cannot exhaust the
stack), returns the converted value, and appends every problem it finds; paths are added as
problems bubble up, so a valid value costs no string work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from simple_worker.contract.model import (
    Argument,
    DictType,
    ListType,
    LiteralType,
    OptionalType,
    Record,
    RecordRef,
    ScalarType,
    TypeExpr,
)
from simple_worker.errors import ContractError
from simple_worker.validation.problems import (
    Problem,
    field_segment,
    got,
    key_segment,
    prefix,
    render_literal,
    show,
)
from simple_worker.validation.scalars import Converter, scalar_converter

DefaultFactory = Callable[[], object]
FieldSpec = tuple[str, str, Converter, DefaultFactory | None, type | None]
"""(name, path segment, converter, default factory or None when required, exact type).

A value of exactly the exact type (str, int, bool) is valid as is: the fast path.
"""

_ABSENT: Final = object()


def leave_out() -> object:
    """The default slot of a deprecated optional argument on the producer side (a marker,
    compared by identity): left out of the message when not given, so workers whose contract
    no longer has the argument accept it, and older workers fill in the default themselves."""
    return _ABSENT


_EXACT_TYPES: Final[Mapping[str, type]] = {"str": str, "int": int, "bool": bool}


class ConverterFactory:
    """Builds converters for one direction over a contract's records, caching record converters.

    ``incoming``: JSON values in, Python values out (record class instances). Otherwise
    (outgoing): Python values or wire forms in, JSON values out. Outgoing record instances are
    accepted only for records that have a class in ``record_classes``.
    """

    def __init__(
        self,
        records: Mapping[str, Record],
        record_classes: Mapping[str, type],
        *,
        incoming: bool,
    ) -> None:
        self.records = records
        self.record_classes = record_classes
        self.incoming = incoming
        self._record_cache: dict[tuple[str, str], Converter] = {}

    def for_type(self, type_: TypeExpr, label: str | None = None) -> Converter:
        """The converter of a type; ``label`` names the type in messages (default: rendered)."""
        label = label or type_.render()
        if isinstance(type_, ScalarType):
            return scalar_converter(type_.name, label, incoming=self.incoming)
        if isinstance(type_, OptionalType):
            return _optional(self.for_type(type_.inner, label))
        if isinstance(type_, ListType):
            return self._list(type_, label)
        if isinstance(type_, DictType):
            return _dict(self.for_type(type_.value), label, strict_type=self.incoming)
        if isinstance(type_, LiteralType):
            return _literal(type_.values)
        return self._record(type_, label)

    def field_specs(self, arguments: Sequence[Argument], *, nested: bool) -> tuple[FieldSpec, ...]:
        """Compile arguments (task args, or record fields when ``nested``) into field specs."""
        specs = []
        for argument in arguments:
            convert = self.for_type(argument.type)
            segment = "." + argument.name if nested else argument.name
            default: DefaultFactory | None
            if argument.required:
                default = None
            elif argument.deprecated is not None and not nested and not self.incoming:
                default = leave_out
            else:
                default = self._default(argument, convert)
            exact = _exact_type(argument.type)
            specs.append((argument.name, segment, convert, default, exact))
        return tuple(specs)

    def _default(self, argument: Argument, convert: Converter) -> DefaultFactory:
        problems: list[Problem] = []
        value = convert(argument.default, problems)
        if problems:
            prefix(problems, 0, argument.name)
            lines = "; ".join(problem.render() for problem in problems)
            raise ContractError(f"default of {argument.name!r} does not match its type: {lines}")
        if isinstance(argument.default, list | dict):  # mutable: a fresh copy per message
            wire = argument.default
            return lambda: convert(wire, [])
        return lambda: value

    def _list(self, type_: ListType, label: str) -> Converter:
        exact = _exact_type(type_.item)
        return _list(self.for_type(type_.item), label, exact, strict_type=self.incoming)

    def _record(self, ref: RecordRef, label: str) -> Converter:
        key = (ref.name, label)
        if key not in self._record_cache:
            record = self.records[ref.name]
            specs = self.field_specs(record.fields, nested=True)
            cls = self.record_classes.get(ref.name)
            if self.incoming:
                if cls is None:
                    raise ContractError(f"no record class for record {ref.name!r}")
                self._record_cache[key] = _incoming_record(record, specs, cls, label)
            else:
                self._record_cache[key] = _outgoing_record(record, specs, cls, label)
        return self._record_cache[key]


def convert_fields(
    specs: tuple[FieldSpec, ...],
    names: frozenset[str],
    value: Mapping[str, object],
    problems: list[Problem],
    unexpected: str,
    *,
    nested: bool,
) -> dict[str, object]:
    """Convert a mapping of named fields: every field, defaults filled, unknown keys refused."""
    out: dict[str, object] = {}
    found = 0
    for name, segment, convert, default, exact in specs:
        item = value.get(name, _ABSENT)
        if type(item) is exact:
            out[name] = item
            found += 1
            continue
        if item is _ABSENT:
            if default is None:
                problems.append(Problem("missing", segment))
            elif default is not leave_out:
                out[name] = default()
            continue
        found += 1
        start = len(problems)
        out[name] = convert(item, problems)
        if len(problems) != start:
            prefix(problems, start, segment)
    if found != len(value):
        for key in value:
            if key not in names:
                segment = field_segment(key) if nested or not isinstance(key, str) else key
                problems.append(Problem(unexpected, segment))
    return out


def _exact_type(type_: TypeExpr) -> type | None:
    """The type whose exact instances a converter of ``type_`` returns unchanged, if any."""
    return _EXACT_TYPES.get(type_.name) if isinstance(type_, ScalarType) else None


def _optional(inner: Converter) -> Converter:
    def convert(value: object, problems: list[Problem]) -> object:
        if value is None:
            return None
        return inner(value, problems)

    return convert


def _list(item: Converter, label: str, exact: type | None, *, strict_type: bool) -> Converter:
    def convert(value: object, problems: list[Problem]) -> object:
        if type(value) is not list and (strict_type or not isinstance(value, list)):
            problems.append(Problem(f"expected {label}, got {got(value)}"))
            return None
        if exact is not None and all(type(element) is exact for element in value):
            return list(value)
        out = []
        for index, element in enumerate(value):
            start = len(problems)
            out.append(item(element, problems))
            if len(problems) != start:
                prefix(problems, start, f"[{index}]")
        return out

    return convert


def _dict(item: Converter, label: str, *, strict_type: bool) -> Converter:
    def convert(value: object, problems: list[Problem]) -> object:
        if type(value) is not dict and (strict_type or not isinstance(value, dict)):
            problems.append(Problem(f"expected {label}, got {got(value)}"))
            return None
        out: dict[str, object] = {}
        for key, element in value.items():
            if not isinstance(key, str):
                problems.append(Problem(f"dict keys must be str, got {got(key)}"))
                continue
            start = len(problems)
            out[str.__str__(key)] = item(element, problems)
            if len(problems) != start:
                prefix(problems, start, key_segment(key))
        return out

    return convert


def _literal(values: tuple[str | int | bool, ...]) -> Converter:
    allowed = frozenset((type(value), value) for value in values)
    expected = ", ".join(render_literal(value) for value in values)

    def convert(value: object, problems: list[Problem]) -> object:
        if type(value) in (str, int, bool) and (type(value), value) in allowed:
            return value
        problems.append(Problem(f"expected one of {expected}, got {show(value)}"))
        return None

    return convert


def _incoming_record(
    record: Record, specs: tuple[FieldSpec, ...], cls: type, label: str
) -> Converter:
    names = frozenset(field.name for field in record.fields)
    unexpected = f"unexpected field ({record.name} has: {', '.join(spec[0] for spec in specs)})"

    def convert(value: object, problems: list[Problem]) -> object:
        if not isinstance(value, dict):
            problems.append(Problem(f"expected {label}, got {got(value)}"))
            return None
        start = len(problems)
        fields = convert_fields(specs, names, value, problems, unexpected, nested=True)
        return cls(**fields) if len(problems) == start else None

    return convert


def _outgoing_record(
    record: Record, specs: tuple[FieldSpec, ...], cls: type | None, label: str
) -> Converter:
    names = frozenset(field.name for field in record.fields)
    unexpected = f"unexpected field ({record.name} has: {', '.join(spec[0] for spec in specs)})"

    def convert(value: object, problems: list[Problem]) -> object:
        if isinstance(value, dict):
            return convert_fields(specs, names, value, problems, unexpected, nested=True)
        if cls is not None and isinstance(value, cls):
            return _instance_fields(specs, value, problems)
        problems.append(Problem(f"expected {label}, got {got(value)}"))
        return None

    return convert


def _instance_fields(
    specs: tuple[FieldSpec, ...], instance: object, problems: list[Problem]
) -> dict[str, object]:
    # attrs classes do not validate, so an instance's fields are checked like a dict's.
    out: dict[str, object] = {}
    for name, segment, convert, _, _ in specs:
        start = len(problems)
        out[name] = convert(getattr(instance, name), problems)
        if len(problems) != start:
            prefix(problems, start, segment)
    return out
