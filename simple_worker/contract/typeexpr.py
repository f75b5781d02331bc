"""Parse a contract's type expressions (``"list[str]"``, ``"Address | None"``) into the model.

Grammar (no other forms are accepted)::

    type    := primary ("|" primary)*          at most one non-None member, i.e. T | None
    primary := "None" | NAME | NAME "[" args "]"
    NAME    := str int float bool datetime date uuid decimal | a record name
               | list[T] | dict[str, T] | Optional[T] | Literal[v, ...]

Literal values are double- or single-quoted strings, integers or True/False.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Collection
from typing import Final

from simple_worker.contract.model import (
    SCALAR_NAMES,
    DictType,
    ListType,
    LiteralType,
    OptionalType,
    RecordRef,
    ScalarType,
    TypeExpr,
)
from simple_worker.errors import ContractError

GENERIC_FORMS: Final = ("list[T]", "dict[str, T]", "T | None", "Optional[T]", 'Literal["a", ...]')
_GENERIC_NAMES: Final = ("list", "dict", "Optional", "Literal")
_TOKEN: Final = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<int>[-+]?[0-9]+(?![A-Za-z_0-9]))
      | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
      | (?P<punct>[\[\],|])
    )""",
    re.VERBOSE,
)
_LiteralValue = str | int | bool
_SCALARS: Final = {name: ScalarType(name) for name in SCALAR_NAMES}


def parse_type(expr: str, *, records: Collection[str]) -> TypeExpr:
    """Parse one type expression; ``records`` are the record names it may refer to.

    Raises ``ContractError`` with a message that says what is wrong and what is allowed (the
    loader prefixes it with the file and key path).
    """
    parser = _Parser(expr, records)
    result = parser.parse_union()
    parser.expect_end()
    if result is None:
        raise ContractError(f'"None" alone is not a type in {expr!r}; use T | None')
    return result


def allowed_types(records: Collection[str]) -> str:
    """The list of type forms shown in error messages."""
    record_part = f"; records: {', '.join(sorted(records))}" if records else ""
    return ", ".join((*SCALAR_NAMES, *GENERIC_FORMS)) + record_part


class _Parser:
    """A recursive-descent parser over a token list; depth is bounded by the expression text."""

    def __init__(self, expr: str, records: Collection[str]) -> None:
        self.expr = expr
        self.records = records
        self.tokens = _tokenize(expr)
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end of type expression")
        self.position += 1
        return token

    def expect(self, token: str) -> None:
        found = self.take()
        if found != token:
            raise self.error(f'expected "{token}", found "{found}"')

    def expect_end(self) -> None:
        if self.peek() is not None:
            raise self.error(f'unexpected "{self.peek()}"')

    def error(self, message: str) -> ContractError:
        return ContractError(f"invalid type {self.expr!r}: {message}")

    def parse_union(self) -> TypeExpr | None:
        members = [self.parse_primary()]
        while self.peek() == "|":
            self.take()
            members.append(self.parse_primary())
        non_none = [member for member in members if member is not None]
        if len(members) == 1:
            return members[0]
        if len(non_none) != 1 or len(members) != 2:
            raise self.error("the only union allowed is T | None")
        return _optional(non_none[0], self)

    def parse_primary(self) -> TypeExpr | None:
        name = self.take()
        if name == "None":
            return None
        if not (name[0].isalpha() or name[0] == "_"):
            raise self.error(f'expected a type name, found "{name}"')
        if name in _GENERIC_NAMES:
            return self.parse_generic(name)
        if name in _SCALARS:
            return _SCALARS[name]
        if name in self.records:
            return RecordRef(name)
        raise ContractError(_unknown_type_message(name, self.records))

    def parse_generic(self, name: str) -> TypeExpr:
        if self.peek() != "[":
            raise self.error(f"{name} needs type arguments, e.g. {_example(name)}")
        self.take()
        if name == "Literal":
            return self.parse_literal()
        if name == "dict":
            key = self.parse_union()
            if key != ScalarType("str"):
                raise self.error("dict keys must be str: use dict[str, T]")
            self.expect(",")
        inner = self.parse_union()
        self.expect("]")
        if inner is None:
            raise self.error(f'"None" alone is not a type; use {name}[T | None]')
        if name == "list":
            return ListType(inner)
        if name == "dict":
            return DictType(inner)
        return _optional(inner, self)

    def parse_literal(self) -> LiteralType:
        values: list[_LiteralValue] = []
        if self.peek() == "]":
            raise self.error('Literal needs at least one value, e.g. Literal["a", "b"]')
        while True:
            values.append(self.parse_literal_value())
            separator = self.take()
            if separator == "]":
                break
            if separator != ",":
                raise self.error(f'expected "," or "]" in Literal[...], found "{separator}"')
        keys = [(type(value), value) for value in values]
        if len(set(keys)) != len(keys):
            raise self.error("Literal values must be distinct")
        return LiteralType(tuple(values))

    def parse_literal_value(self) -> _LiteralValue:
        token = self.take()
        if token in ("True", "False"):
            return token == "True"
        if token[0] in "\"'":
            value: object = ast.literal_eval(token)
            assert isinstance(value, str)
            return value
        if token[0] in "+-" or token.isdigit():
            return int(token)
        raise self.error(f"Literal values must be strings, integers or True/False, found {token}")


def _optional(inner: TypeExpr, parser: _Parser) -> OptionalType:
    if isinstance(inner, OptionalType):
        raise parser.error("None is given twice")
    return OptionalType(inner)


def _tokenize(expr: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    stripped = expr.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            bad = stripped[position:].lstrip()[:1]
            raise ContractError(f"invalid type {expr!r}: unexpected character {bad!r}")
        tokens.append(match.group().strip())
        position = match.end()
    if not tokens:
        raise ContractError("empty type expression")
    return tokens


def _unknown_type_message(name: str, records: Collection[str]) -> str:
    candidates = [*SCALAR_NAMES, *_GENERIC_NAMES, *records]
    close = difflib.get_close_matches(name, candidates, n=1)
    if not close:
        close = [c for c in candidates if c.lower() == name.lower()]
    hint = f'did you mean "{close[0]}"? ' if close else ""
    return f'unknown type "{name}" ({hint}allowed: {allowed_types(records)})'


def _example(name: str) -> str:
    examples = {
        "list": "list[str]",
        "dict": "dict[str, int]",
        "Optional": "Optional[str]",
        "Literal": 'Literal["a", "b"]',
    }
    return examples[name]
