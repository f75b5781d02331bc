"""A JSON Schema (draft 2020-12) of the message bodies a contract's workers accept.

The body is ``{"task_name": NAME, "task_payload": {...}}``: the schema is a ``oneOf`` over the
tasks, each fixing ``task_name`` with ``const`` and describing the payload as an object with
``additionalProperties: false``. ``required`` lists the arguments without a default: workers
fill defaults for the others (this library's producers send every argument anyway). Records are
``$defs`` referenced with ``$ref``. Types map as follows::

    str, int, float, bool   string, integer, number, boolean
    T | None                anyOf [T, null]
    list[T], dict[str, T]   array of T; object whose additionalProperties are T
    Literal[...]            enum (JSON keeps true and 1 apart, as validation does)
    datetime, date          string, format date-time / date
    uuid                    string, format uuid, and a pattern (the hyphenated form only)
    decimal                 string with a pattern (plain or exponent notation)

Where the schema and the runtime differ (a validator needs format checking switched on to
assert formats at all): JSON Schema's ``integer`` accepts ``1.0``, the runtime does not;
``date-time`` is RFC 3339 and requires a UTC offset, while the runtime also accepts naive
datetimes and anything else ``datetime.fromisoformat`` reads (a bare date, a space for ``T``),
and ``date`` is ``YYYY-MM-DD`` while the runtime also reads ISO 8601's basic and week forms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from simple_worker.contract.model import (
    Argument,
    Contract,
    DictType,
    ListType,
    LiteralType,
    OptionalType,
    RecordRef,
    ScalarType,
    Task,
    TypeExpr,
)

DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"
DECIMAL_PATTERN: Final = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
UUID_PATTERN: Final = r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
_SCALARS: Final[Mapping[str, Mapping[str, str]]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "uuid": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
    "decimal": {"type": "string", "pattern": DECIMAL_PATTERN},
}


def message_schema(contract: Contract) -> dict[str, object]:
    """The schema of every message body the contract's workers accept, as a JSON-ready dict."""
    schema: dict[str, object] = {
        "$schema": DRAFT,
        "title": f"simple-worker messages of {contract.source}",
        "type": "object",
        "oneOf": [_task_schema(task) for task in contract.tasks.values()],
    }
    if contract.records:
        schema["$defs"] = {
            name: _object_schema(record.fields, doc=record.doc)
            for name, record in contract.records.items()
        }
    return schema


def type_schema(type_: TypeExpr) -> dict[str, object]:
    """The schema of one contract type; records are ``$ref``s into ``#/$defs``."""
    match type_:
        case ScalarType(name=name):
            return dict(_SCALARS[name])
        case ListType(item=item):
            return {"type": "array", "items": type_schema(item)}
        case DictType(value=value):
            return {"type": "object", "additionalProperties": type_schema(value)}
        case OptionalType(inner=inner):
            return {"anyOf": [type_schema(inner), {"type": "null"}]}
        case LiteralType(values=values):
            return {"enum": list(values)}
        case RecordRef(name=name):
            return {"$ref": f"#/$defs/{name}"}
    raise AssertionError(f"unknown type expression {type_!r}")  # pragma: no cover


def _task_schema(task: Task) -> dict[str, object]:
    payload = _object_schema(task.args, doc=task.doc)
    schema: dict[str, object] = {
        "title": task.name,
        "type": "object",
        "properties": {"task_name": {"const": task.name}, "task_payload": payload},
        "required": ["task_name", "task_payload"],
        "additionalProperties": False,
    }
    if task.deprecated is not None:
        schema["deprecated"] = True
    return schema


def _object_schema(fields: Iterable[Argument], *, doc: str | None) -> dict[str, object]:
    properties: dict[str, object] = {}
    required: list[str] = []
    for field in fields:
        prop = type_schema(field.type)
        if field.required:
            required.append(field.name)
        else:
            prop["default"] = field.default
        if field.deprecated is not None:
            prop["deprecated"] = True
        properties[field.name] = prop
    schema: dict[str, object] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if doc is not None:
        schema["description"] = doc.strip()
    return schema
