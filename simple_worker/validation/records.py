"""Record classes for contracts loaded without generated code, and record dependency order."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from simple_worker.contract.model import Record, referenced_record
from simple_worker.errors import ContractError
from simple_worker.validation.converters import ConverterFactory


def make_record_classes(
    records: Mapping[str, Record], given: Mapping[str, type] | None = None
) -> dict[str, type]:
    """Return a class for every record: the given ones, and frozen attrs classes for the rest.

    A made class is named after its record, takes keyword arguments only, has the record's
    fields in order, and defaults converted from the contract's wire-form defaults.
    """
    classes: dict[str, type] = dict(given or {})
    factory = ConverterFactory(records, classes, incoming=True)
    for name in dependency_order(records):
        if name in classes:
            continue
        specs = factory.field_specs(records[name].fields, nested=True)
        attributes = {
            field_name: attrs.field() if default is None else attrs.field(factory=default)
            for field_name, _, _, default, _ in specs
        }
        classes[name] = attrs.make_class(name, attributes, frozen=True, kw_only=True, slots=True)
    return classes


def dependency_order(records: Mapping[str, Record]) -> list[str]:
    """Record names, each after the records its fields refer to; raise on a cycle."""
    order, cycle = _depth_first(records)
    if cycle is not None:
        raise ContractError(f"records refer to each other in a cycle: {' -> '.join(cycle)}")
    return order


def find_cycle(records: Mapping[str, Record]) -> list[str] | None:
    """A cycle of record references (``["A", "B", "A"]``), or None."""
    return _depth_first(records)[1]


def _depth_first(records: Mapping[str, Record]) -> tuple[list[str], list[str] | None]:
    """Post-order of the records (dependencies first) and the first cycle; iterative."""
    order: list[str] = []
    done: set[str] = set()
    for start in records:
        path: list[str] = []
        stack: list[tuple[str, bool]] = [(start, False)]
        while stack:
            name, leaving = stack.pop()
            if leaving:
                path.pop()
                done.add(name)
                order.append(name)
            elif name in path:
                return order, [*path[path.index(name) :], name]
            elif name not in done and name in records:
                path.append(name)
                stack.append((name, True))
                stack.extend((ref, False) for ref in reversed(_references(records[name])))
    return order, None


def _references(record: Record) -> list[str]:
    return [ref for field in record.fields if (ref := referenced_record(field.type)) is not None]
