"""Strict converters for scalar types, one per direction; nothing is ever coerced.

JSON scalars (str, int, float, bool) pass through unchanged; an int is accepted for a float and
becomes a float. datetime, date, uuid and decimal travel as canonical strings: the worker
parses them into Python objects, the producer accepts either form and sends the string.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Final

import attrs

from simple_worker.contract.model import ScalarName
from simple_worker.validation.problems import Problem, got, show

Converter = Callable[[object, list[Problem]], object]
"""Return the converted value, or append problems (paths relative to the value) and None."""

_UUID_TEXT: Final = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_isfinite: Final = math.isfinite


def scalar_converter(name: ScalarName, label: str, *, incoming: bool) -> Converter:
    """The converter for one scalar type; ``label`` is the type named in messages."""
    if name in _STRING_FORMS:
        form = _STRING_FORMS[name]
        return (
            _incoming_string_form(form, label) if incoming else _outgoing_string_form(form, label)
        )
    return _JSON_SCALARS[name](label)


def _str(label: str) -> Converter:
    def convert(value: object, problems: list[Problem]) -> object:
        if type(value) is str:
            return value
        if isinstance(value, str):  # a str subclass (StrEnum): send the plain string
            return str.__str__(value)
        problems.append(Problem(f"expected {label}, got {got(value)}"))
        return None

    return convert


def _int(label: str) -> Converter:
    def convert(value: object, problems: list[Problem]) -> object:
        if type(value) is int:
            return value
        if isinstance(value, int) and not isinstance(value, bool):  # IntEnum
            return int(value)
        problems.append(Problem(f"expected {label}, got {got(value)}"))
        return None

    return convert


def _float(label: str) -> Converter:
    def convert(value: object, problems: list[Problem]) -> object:
        if type(value) is float and _isfinite(value):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                problems.append(Problem(f"expected {label}, got {got(value)}, too large"))
                return None
            if _isfinite(number):
                return number
            problems.append(Problem(f"expected a finite float, got {got(value)}"))
            return None
        problems.append(Problem(f"expected {label}, got {got(value)}"))
        return None

    return convert


def _bool(label: str) -> Converter:
    def convert(value: object, problems: list[Problem]) -> object:
        if value is True or value is False:
            return value
        problems.append(Problem(f"expected {label}, got {got(value)}"))
        return None

    return convert


_JSON_SCALARS: Final[dict[str, Callable[[str], Converter]]] = {
    "str": _str,
    "int": _int,
    "float": _float,
    "bool": _bool,
}


@attrs.frozen(kw_only=True)
class _StringForm:
    """A Python type carried as a string: how to parse it, print it, and describe it."""

    python_type: type
    parse: Callable[[str], object]
    """Return the Python value or raise ValueError."""
    to_wire: Callable[[object], str]
    """Return the canonical string or raise ValueError with the whole message."""
    expected: str
    """What a valid string looks like, for messages."""
    excluded: type | None = None
    """A subclass of python_type that is not acceptable (datetime is a date but not a date)."""


def _incoming_string_form(form: _StringForm, label: str) -> Converter:
    parse = form.parse

    def convert(value: object, problems: list[Problem]) -> object:
        if isinstance(value, str):
            try:
                return parse(value)
            except ValueError:
                problems.append(Problem(f"expected {form.expected}, got {show(value)}"))
                return None
        problems.append(Problem(f"expected {label}, got {got(value)}"))
        return None

    return convert


def _outgoing_string_form(form: _StringForm, label: str) -> Converter:
    parse, to_wire, python_type = form.parse, form.to_wire, form.python_type
    excluded = form.excluded or type(None)

    def convert(value: object, problems: list[Problem]) -> object:
        try:
            if isinstance(value, python_type) and not isinstance(value, excluded):
                return to_wire(value)
            if isinstance(value, str):
                try:
                    parsed = parse(value)
                except ValueError:
                    problems.append(Problem(f"expected {form.expected}, got {show(value)}"))
                    return None
                return to_wire(parsed)
        except ValueError as exc:
            problems.append(Problem(str(exc)))
            return None
        problems.append(Problem(f"expected {label}, got {got(value)}"))
        return None

    return convert


def _parse_uuid(text: str) -> uuid.UUID:
    if _UUID_TEXT.match(text) is None:
        raise ValueError(text)
    return uuid.UUID(text)


def _parse_decimal(text: str) -> Decimal:
    if _DECIMAL_TEXT.match(text) is None:
        raise ValueError(text)
    return Decimal(text)


def _decimal_to_wire(value: object) -> str:
    assert isinstance(value, Decimal)
    if not value.is_finite():
        raise ValueError(f"expected a finite decimal, got {got(value)}")
    return str(value)


def _date_to_wire(value: object) -> str:
    assert isinstance(value, dt.date)
    return value.isoformat()


def _datetime_to_wire(value: object) -> str:
    assert isinstance(value, dt.datetime)
    offset = value.utcoffset()
    if offset is not None and offset.microseconds:  # fromisoformat would drop the fraction
        raise ValueError(f"expected a datetime whose UTC offset is whole seconds, got {got(value)}")
    return value.isoformat()


_STRING_FORMS: Final[dict[str, _StringForm]] = {
    "datetime": _StringForm(
        python_type=dt.datetime,
        parse=dt.datetime.fromisoformat,
        to_wire=_datetime_to_wire,
        expected="an ISO 8601 datetime string",
    ),
    "date": _StringForm(
        python_type=dt.date,
        excluded=dt.datetime,
        parse=dt.date.fromisoformat,
        to_wire=_date_to_wire,
        expected="an ISO 8601 date string",
    ),
    "uuid": _StringForm(
        python_type=uuid.UUID,
        parse=_parse_uuid,
        to_wire=str,
        expected='a UUID string like "123e4567-e89b-12d3-a456-426614174000"',
    ),
    "decimal": _StringForm(
        python_type=Decimal,
        parse=_parse_decimal,
        to_wire=_decimal_to_wire,
        expected='a decimal string like "12.50"',
    ),
}
