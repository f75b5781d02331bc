"""Validation problems with lazily built paths, and the short value descriptions they show."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

_MAX_REPR_CHARS: Final = 40
_CONTAINERS: Final = (dict, list, tuple, set, frozenset)


class Problem:
    """One problem; converters append path segments innermost-first as it bubbles up.

    Building the path only when something is wrong keeps the valid path free of string work.
    """

    __slots__ = ("message", "segments")

    def __init__(self, message: str, segment: str | None = None) -> None:
        self.message = message
        self.segments: list[str] = [] if segment is None else [segment]

    def render(self) -> str:
        path = "".join(reversed(self.segments))
        return f"{path}: {self.message}" if path else self.message


def prefix(problems: Sequence[Problem], start: int, segment: str) -> None:
    """Add ``segment`` to the path of every problem from index ``start`` on."""
    for index in range(start, len(problems)):
        problems[index].segments.append(segment)


def key_segment(key: object) -> str:
    """The path segment of a dict key: ``["k"]``."""
    if isinstance(key, str):
        return "[" + json.dumps(key, ensure_ascii=False) + "]"
    return f"[{_short(key)}]"


def field_segment(name: object) -> str:
    """The path segment of a record field: ``.name`` (or ``[5]`` for a key that is no name)."""
    return "." + name if isinstance(name, str) else key_segment(name)


def got(value: object) -> str:
    """``int (5)``, ``str ("x")``, ``dict``, ``None``: the kind of a wrong value, for messages."""
    if value is None:
        return "None"
    kind = type(value).__name__
    if isinstance(value, _CONTAINERS):
        return kind
    return f"{kind} ({show(value)})"


def show(value: object) -> str:
    """A short, safe rendering of a value: strings in double quotes, others by repr."""
    if isinstance(value, str):
        text = json.dumps(value[: _MAX_REPR_CHARS + 1], ensure_ascii=False)
        return text if len(text) <= _MAX_REPR_CHARS else text[: _MAX_REPR_CHARS - 3] + "..."
    if isinstance(value, _CONTAINERS):
        return type(value).__name__
    return _short(value)


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__, an int over the digit limit, deep recursion
        return f"<{type(value).__name__}>"
    return text if len(text) <= _MAX_REPR_CHARS else text[: _MAX_REPR_CHARS - 3] + "..."


def render_literal(value: str | int | bool) -> str:
    """A Literal value as written in a contract: strings double-quoted."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
