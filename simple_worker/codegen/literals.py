"""Python source for contract values, types, strings and docstrings, laid out as ruff formats them.

Everything the templates print as Python (a default, a string, a docstring, a type) is rendered
here, so templates only place text. Output is deterministic: no sets, no hashing, no clocks.
"""

from __future__ import annotations

import datetime
import decimal
import math
import textwrap
import uuid
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from simple_worker.contract.model import (
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

LINE_LENGTH: Final = 100
INDENT: Final = "    "

_PYTHON_SCALARS: Final[Mapping[str, str]] = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
    "uuid": "uuid.UUID",
    "decimal": "decimal.Decimal",
}
# The module each scalar's Python type lives in (imported by the generated module that uses it).
SCALAR_MODULES: Final[Mapping[str, str]] = {
    "datetime": "datetime",
    "date": "datetime",
    "uuid": "uuid",
    "decimal": "decimal",
}


def python_string(text: str) -> str:
    """A string literal as ruff formats it: double quotes unless that needs more escapes."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    parts = []
    for char in text:
        if char in {"\\", quote}:
            parts.append("\\" + char)
        elif char.isprintable() or char in {"'", '"'}:
            parts.append(char)
        else:
            parts.append(repr(char)[1:-1])
    return quote + "".join(parts) + quote


def python_type(expr: TypeExpr) -> str:
    """The Python annotation for a contract type (records by their generated class name)."""
    match expr:
        case ScalarType(name=name):
            return _PYTHON_SCALARS[name]
        case ListType(item=item):
            return f"list[{python_type(item)}]"
        case DictType(value=value):
            return f"dict[str, {python_type(value)}]"
        case OptionalType(inner=inner):
            return f"{python_type(inner)} | None"
        case LiteralType(values=values):
            return "Literal[" + ", ".join(_literal_value(v) for v in values) + "]"
        case RecordRef(name=name):
            return name
    raise AssertionError(f"unknown type expression {expr!r}")  # pragma: no cover


def type_names(expr: TypeExpr) -> frozenset[str]:
    """Names an annotation of this type needs: modules, ``Literal`` and record classes."""
    match expr:
        case ScalarType(name=name):
            module = SCALAR_MODULES.get(name)
            return frozenset({module} if module else ())
        case ListType(item=inner) | DictType(value=inner) | OptionalType(inner=inner):
            return type_names(inner)
        case LiteralType():
            return frozenset({"Literal"})
        case RecordRef(name=name):
            return frozenset({name})
    raise AssertionError(f"unknown type expression {expr!r}")  # pragma: no cover


@attrs.frozen
class Value:
    """A default rendered as Python: flat text, or a bracketed group ruff may explode.

    ``names`` are the modules and record classes the expression refers to.
    """

    flat: str
    names: frozenset[str] = frozenset()
    opener: str = ""
    items: tuple[Value, ...] = ()
    closer: str = ""
    is_call: bool = False

    def lines(self, indent: str, prefix: str, suffix: str = "") -> list[str]:
        """Lines of ``indent + prefix + value + suffix``, exploded like ruff when too long."""
        flat = f"{indent}{prefix}{self.flat}{suffix}"
        if len(flat) <= LINE_LENGTH or not self.items:
            return [flat]
        inner = indent + INDENT
        lines = [f"{indent}{prefix}{self.opener}"]
        hugged = inner + ", ".join(item.flat for item in self.items)
        if self.is_call and len(hugged) <= LINE_LENGTH:
            # ruff keeps a call's arguments together on one line when they fit there.
            return [*lines, hugged, f"{indent}{self.closer}{suffix}"]
        for item in self.items:
            lines += item.lines(inner, "", ",")
        lines.append(f"{indent}{self.closer}{suffix}")
        return lines


def python_value(
    expr: TypeExpr, value: object, *, records: Mapping[str, Record], where: str
) -> Value:
    """The Python expression for a wire-form (JSON) default of type ``expr``."""
    match expr:
        case OptionalType(inner=inner):
            if value is None:
                return Value("None")
            return python_value(inner, value, records=records, where=where)
        case ScalarType(name=name):
            return attrs.evolve(_scalar_value(name, value, where=where), names=type_names(expr))
        case LiteralType() if isinstance(value, str | int | bool):
            return Value(_literal_value(value))
        case ListType(item=item) if isinstance(value, list):
            items = [
                python_value(item, v, records=records, where=f"{where}[{i}]")
                for i, v in enumerate(value)
            ]
            return _group("[", items, "]")
        case DictType(value=item) if isinstance(value, dict):
            entries = [
                _prefixed(
                    python_string(str(k)) + ": ",
                    python_value(item, v, records=records, where=f"{where}.{k}"),
                )
                for k, v in value.items()
            ]
            return _group("{", entries, "}")
        case RecordRef(name=name) if isinstance(value, dict) and name in records:
            return _record_value(records[name], value, records=records, where=where)
    raise ContractError(f"{where}: cannot render default {value!r} as {expr.render()}")


def is_immutable_inline(expr: TypeExpr, value: object) -> bool:
    """Whether a default may sit in a signature: immutable, and a call ruff deems immutable.

    ``uuid.UUID(...)`` is immutable but ruff's B008 does not know it, so it is built per call
    like lists, dicts and records.
    """
    match expr:
        case OptionalType(inner=inner):
            return value is None or is_immutable_inline(inner, value)
        case ScalarType(name=name):
            return name != "uuid"
        case LiteralType():
            return True
    return False


def docstring(text: str, indent: str) -> str:
    """A docstring literal (without leading indent) as ruff formats it; long lines wrapped."""
    body = textwrap.dedent(text.strip("\n")).strip()
    body = body.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines: list[str] = []
    for index, line in enumerate(body.splitlines()):
        stripped = line.rstrip()
        room = LINE_LENGTH - len(indent) - (3 if index == 0 else 0) - 3
        lines += _wrap(stripped, room) if len(stripped) > room else [stripped]
    if lines and lines[-1].endswith('"'):
        lines[-1] = lines[-1][:-1] + '\\"'
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    rest = [f"{indent}{line}" if line else "" for line in lines[1:]]
    return "\n".join([f'"""{lines[0]}', *rest, f'{indent}"""'])


def string_lines(text: str, indent: str, prefix: str) -> list[str]:
    """A long string as ruff keeps it: one literal, or implicitly concatenated pieces in parens.

    Pieces end at newlines (and are cut further when a line is too long), so the embedded text
    reads like the original file; concatenated, they are exactly ``text``.
    """
    flat = f"{indent}{prefix}{python_string(text)}"
    if len(flat) <= LINE_LENGTH:
        return [flat]
    inner = indent + INDENT
    lines = [f"{indent}{prefix}("]
    for line in text.splitlines(keepends=True):
        lines += [inner + python_string(piece) for piece in _pieces(line, LINE_LENGTH - len(inner))]
    lines.append(f"{indent})")
    return lines


def string_call_lines(function: str, text: str, indent: str) -> list[str]:
    """``function("text")`` with one string argument, laid out as ruff does (pieces if long)."""
    literal = python_string(text)
    inner = indent + INDENT
    if len(f"{indent}{function}({literal})") <= LINE_LENGTH:
        return [f"{indent}{function}({literal})"]
    if len(inner + literal) <= LINE_LENGTH:
        return [f"{indent}{function}(", inner + literal, f"{indent})"]
    room = LINE_LENGTH - len(inner)
    pieces = [piece for line in text.splitlines(keepends=True) for piece in _pieces(line, room)]
    return [f"{indent}{function}(", *(inner + python_string(p) for p in pieces), f"{indent})"]


def _pieces(line: str, room: int) -> list[str]:
    """``line`` cut into pieces whose literals fit ``room``, after a space where one is near."""
    pieces = []
    while len(python_string(line)) > room:
        cut = 1
        while cut < len(line) and len(python_string(line[: cut + 1])) <= room:
            cut += 1
        space = line.rfind(" ", 0, cut)
        if space > 0:
            cut = space + 1
        pieces.append(line[:cut])
        line = line[cut:]
    return [*pieces, line] if line or not pieces else pieces


def _wrap(line: str, width: int) -> list[str]:
    lead = line[: len(line) - len(line.lstrip())]
    return textwrap.wrap(
        line,
        width=max(width, 20),
        subsequent_indent=lead,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [line]


def _record_value(
    record: Record, value: Mapping[object, object], *, records: Mapping[str, Record], where: str
) -> Value:
    fields = {field.name: field for field in record.fields}
    unknown = [key for key in value if key not in fields]
    if unknown:
        raise ContractError(f"{where}: record {record.name} has no field {unknown[0]!r}")
    # Fields at their own default are left to the class: the value is the same, the code shorter.
    items = [
        _prefixed(
            f"{field.name}=",
            python_value(
                field.type, value[field.name], records=records, where=f"{where}.{field.name}"
            ),
        )
        for field in record.fields
        if field.name in value and (field.required or value[field.name] != field.default)
    ]
    return _group(f"{record.name}(", items, ")", names=frozenset({record.name}), is_call=True)


def _group(
    opener: str,
    items: Sequence[Value],
    closer: str,
    *,
    names: frozenset[str] = frozenset(),
    is_call: bool = False,
) -> Value:
    flat = opener + ", ".join(item.flat for item in items) + closer
    names = names.union(*(item.names for item in items))
    return Value(flat, names, opener, tuple(items), closer, is_call)


def _prefixed(prefix: str, value: Value) -> Value:
    return attrs.evolve(
        value, flat=prefix + value.flat, opener=prefix + value.opener if value.items else ""
    )


def _literal_value(value: str | int | bool) -> str:
    return python_string(value) if isinstance(value, str) else repr(value)


def _scalar_value(name: str, value: object, *, where: str) -> Value:
    try:
        match name:
            case "str" if isinstance(value, str):
                return Value(python_string(value))
            case "bool" if isinstance(value, bool):
                return Value(repr(value))
            case "int" if isinstance(value, int) and not isinstance(value, bool):
                return Value(repr(value))
            case "float" if isinstance(value, int | float) and not isinstance(value, bool):
                if math.isfinite(value):
                    return Value(repr(float(value)))
            case "datetime" if isinstance(value, str | datetime.datetime):
                return _datetime_value(value)
            case "date" if isinstance(value, str | datetime.date):
                day = (
                    value
                    if isinstance(value, datetime.date)
                    else datetime.date.fromisoformat(value)
                )
                return _call("datetime.date", [str(day.year), str(day.month), str(day.day)])
            case "uuid" if isinstance(value, str | uuid.UUID):
                return _call("uuid.UUID", [python_string(str(uuid.UUID(str(value))))])
            case "decimal" if isinstance(value, str | int | decimal.Decimal):
                return _call("decimal.Decimal", [python_string(str(decimal.Decimal(value)))])
    except (ValueError, ArithmeticError):
        pass
    raise ContractError(f"{where}: cannot render default {value!r} as {name}")


def _datetime_value(value: str | datetime.datetime) -> Value:
    moment = (
        value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)
    )
    parts = [moment.year, moment.month, moment.day, moment.hour, moment.minute]
    if moment.second or moment.microsecond:
        parts.append(moment.second)
    if moment.microsecond:
        parts.append(moment.microsecond)
    args = [str(part) for part in parts]
    offset = moment.utcoffset()
    if offset is not None:
        args.append("tzinfo=" + _timezone_value(offset))
    return _call("datetime.datetime", args)


def _call(function: str, args: Sequence[str]) -> Value:
    return _group(f"{function}(", [Value(arg) for arg in args], ")", is_call=True)


def _timezone_value(offset: datetime.timedelta) -> str:
    if not offset:
        return "datetime.UTC"
    minutes, seconds = divmod(int(offset.total_seconds()), 60)
    if seconds or offset.microseconds:
        delta = f"seconds={offset.total_seconds()!r}"
    elif minutes % 60:
        delta = f"minutes={minutes}"
    else:
        delta = f"hours={minutes // 60}"
    return f"datetime.timezone(datetime.timedelta({delta}))"
