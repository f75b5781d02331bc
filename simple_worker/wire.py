"""The message body on the wire: encode and decode the seed's JSON task envelope.

The body is exactly what simple-worker 0.2.x produced and consumed,
``{"task_name": NAME, "task_payload": {...}}`` as JSON in UTF-8, so old and new producers and
workers interoperate. Everything else (task id, contract fingerprint) travels in message
attributes, named here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Final

import attrs

from simple_worker.errors import MessageDecodeError

TASK_ID_ATTRIBUTE: Final = "simple_worker.task_id"
"""Message attribute carrying the task id (a UUID) that ``add_task`` returns."""

DEAD_LETTER_REASON_ATTRIBUTE: Final = "simple_worker.dead_letter_reason"
"""Message attribute the worker sets when it moves a poison message to a dead-letter queue."""

_DECODE_ERROR_PREVIEW_CHARS: Final = 80


@attrs.frozen
class Envelope:
    """A decoded body: the task's name and its keyword payload (JSON values)."""

    task_name: str
    payload: dict[str, object]


def encode_body(task_name: str, payload: Mapping[str, object]) -> str:
    """Return the JSON body for a task; the payload must already be JSON values only.

    Raises ``ValueError``/``TypeError`` from ``json`` for anything else: callers check first
    (see ``find_non_json``) so the user gets a message with the offending path.
    """
    return json.dumps({"task_name": task_name, "task_payload": dict(payload)}, allow_nan=False)


def decode_body(body: str | bytes) -> Envelope:
    """Parse a message body into an Envelope, or raise ``MessageDecodeError`` saying why.

    Survives anything a queue can hold: invalid UTF-8, invalid JSON, duplicate keys, NaN,
    nesting deep enough to exhaust the recursion limit, integers too long to convert.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        document = json.loads(
            text, object_pairs_hook=_object_without_duplicates, parse_constant=_reject_constant
        )
    except UnicodeDecodeError as exc:
        raise MessageDecodeError(f"body is not valid UTF-8 ({exc.reason})") from exc
    except RecursionError as exc:
        raise MessageDecodeError("body is JSON nested too deeply to decode") from exc
    except json.JSONDecodeError as exc:
        raise MessageDecodeError(
            f"body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): "
            f"{_preview(text)}"
        ) from exc
    except ValueError as exc:  # duplicate keys, NaN, or an integer over the digit limit
        raise MessageDecodeError(f"body is not acceptable JSON: {exc}") from exc
    return _envelope_from(document)


def _envelope_from(document: object) -> Envelope:
    if not isinstance(document, dict):
        raise MessageDecodeError(
            f"body must be a JSON object with task_name and task_payload, "
            f"got {_json_kind(document)}"
        )
    missing = [key for key in ("task_name", "task_payload") if key not in document]
    if missing:
        raise MessageDecodeError(f"body is missing {' and '.join(missing)}")
    task_name = document["task_name"]
    payload = document["task_payload"]
    if not isinstance(task_name, str) or not task_name:
        raise MessageDecodeError(
            f"task_name must be a non-empty string, got {_json_kind(task_name)}"
        )
    if not isinstance(payload, dict):
        raise MessageDecodeError(
            f"task_payload must be a JSON object of named arguments, got {_json_kind(payload)}"
        )
    return Envelope(task_name=task_name, payload=payload)


def find_non_json(value: object, path: str = "") -> list[str]:
    """Return one problem line per value that JSON cannot carry faithfully, with its path."""
    problems: list[str] = []
    try:
        _walk_json(value, path, problems)
    except RecursionError:
        problems.append(f"{path or '<payload>'}: nested too deeply to be sent as JSON")
    return problems


def _walk_json(value: object, path: str, problems: list[str]) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append(f"{path or '<payload>'}: {value!r} cannot be represented in JSON")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(
                    f"{path or '<payload>'}: object keys must be strings, got "
                    f"{type(key).__name__} ({key!r})"
                )
                continue
            _walk_json(item, f"{path}.{key}" if path else key, problems)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk_json(item, f"{path}[{index}]", problems)
        return
    problems.append(
        f"{path or '<payload>'}: {type(value).__name__} is not a JSON value; pass str, int, "
        "float, bool, None, list or dict (or declare the argument's type in a contract)"
    )


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r} in a JSON object")
            seen.add(key)
    return document


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return kinds.get(type(value), type(value).__name__)


def _preview(text: str) -> str:
    if len(text) <= _DECODE_ERROR_PREVIEW_CHARS:
        return repr(text)
    return repr(text[:_DECODE_ERROR_PREVIEW_CHARS]) + "..."
