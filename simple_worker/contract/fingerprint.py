"""Short, stable hashes of what a task (or a whole contract) puts on the wire.

A fingerprint is the first 12 hex digits of the SHA-256 of a canonical JSON rendering: keys
sorted, ASCII only, no spaces, arguments and fields sorted by name (their order in the file does
not change the wire), record types expanded in place (a record's name never travels), defaults
in wire form. Docs and deprecation texts are left out, so editing them keeps the fingerprint;
any change to names, types, defaults (or, for the contract, queues and FIFO settings) changes it.
The same contract gives the same fingerprint on every run, Python version and dict order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Final, TypeAlias

from simple_worker.contract.model import (
    Argument,
    Contract,
    DictType,
    ListType,
    LiteralType,
    OptionalType,
    Record,
    RecordRef,
    ScalarType,
    Task,
    TypeExpr,
)

FINGERPRINT_HEX_DIGITS: Final = 12

_Json: TypeAlias = bool | int | float | str | list["_Json"] | dict[str, "_Json"] | None


def task_fingerprint(task: Task, contract: Contract) -> str:
    """The fingerprint of a task's arguments (names, types with records expanded, defaults).

    The task's name, queue and doc are not part of it: two tasks that take the same payloads
    have the same fingerprint.
    """
    return _digest(_arguments(task.args, contract.records))


def contract_fingerprint(contract: Contract) -> str:
    """The fingerprint of every task (arguments, queue, FIFO settings) and every record."""
    tasks: dict[str, _Json] = {
        name: {
            "args": _arguments(task.args, contract.records),
            "queue": task.queue,
            "fifo_group": task.fifo_group,
            "deduplication": task.deduplication,
        }
        for name, task in contract.tasks.items()
    }
    records: dict[str, _Json] = {
        name: _arguments(record.fields, contract.records)
        for name, record in contract.records.items()
    }
    return _digest({"version": contract.version, "tasks": tasks, "records": records})


def canonical_type(type_: TypeExpr, records: Mapping[str, Record]) -> _Json:
    """A type as JSON, records expanded into their fields (the compat checker's view too)."""
    match type_:
        case ScalarType(name=name):
            return name
        case ListType(item=item):
            return {"list": canonical_type(item, records)}
        case DictType(value=value):
            return {"dict": canonical_type(value, records)}
        case OptionalType(inner=inner):
            return {"optional": canonical_type(inner, records)}
        case LiteralType(values=values):
            # JSON keeps true and 1 apart; order does not matter to validation.
            return {"literal": sorted(values, key=json.dumps)}
        case RecordRef(name=name):
            return {"record": _arguments(records[name].fields, records)}
    raise AssertionError(f"unknown type expression {type_!r}")  # pragma: no cover


def _arguments(arguments: Iterable[Argument], records: Mapping[str, Record]) -> list[_Json]:
    rendered: list[_Json] = []
    for argument in sorted(arguments, key=lambda a: a.name):
        item: dict[str, _Json] = {
            "name": argument.name,
            "type": canonical_type(argument.type, records),
        }
        if not argument.required:
            item["default"] = _wire(argument.default)
        rendered.append(item)
    return rendered


def _wire(value: object) -> _Json:
    """A wire-form default as JSON (the loader stores defaults as JSON values already)."""
    loaded: _Json = json.loads(json.dumps(value))
    return loaded


def _digest(document: _Json) -> str:
    text = json.dumps(document, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:FINGERPRINT_HEX_DIGITS]
