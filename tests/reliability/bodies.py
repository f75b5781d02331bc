"""Hypothesis strategies for hostile message bodies and contract payloads (not a test module).

Every body is text SQS accepts: its allowed characters are #x9 #xA #xD #x20-#xD7FF
#xE000-#xFFFD #x10000-#x10FFFF, so lone surrogates appear only as JSON escapes (``\\ud800``),
which SQS carries as plain ASCII and the JSON decoder turns into a lone surrogate.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Final

from hypothesis import strategies as st

from simple_worker.contract.model import (
    Contract,
    DictType,
    ListType,
    LiteralType,
    OptionalType,
    RecordRef,
    ScalarType,
    TypeExpr,
)

HOSTILE_TASK_NAMES: Final = (
    "os.system",
    "__class__",
    "__import__",
    "__init__",
    "builtins.eval",
    "register_task_handler",
    "add.__globals__",
    "ADD",
    "add ",
    "",
    "\ud800",
    "\x00",
)


def sqs_allowed(char: str) -> bool:
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


sqs_text = st.text(st.characters(exclude_categories=("Cs",)).filter(sqs_allowed), max_size=30)
"""Text SQS accepts in a body (no lone surrogates, no forbidden control characters)."""

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)  # may hold lone surrogates: json.dumps escapes them
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _nested(depth: int, leaf: str = "0") -> str:
    return "[" * depth + leaf + "]" * depth


def nasty_bodies(bomb_depth: int) -> list[str]:
    """Handcrafted bodies: nesting bombs, huge numbers, duplicate keys, NaN, escapes, BOMs."""
    valid_add = '{"task_name": "add", "task_payload": {"a": 1, "b": 2}}'
    return [
        _nested(bomb_depth),
        '{"task_name": "add", "task_payload": {"a": ' + _nested(bomb_depth) + ', "b": 1}}',
        '{"task_name": "add", "task_payload": {"a": ' + _nested(900) + ', "b": 1}}',
        '{"a":' * bomb_depth + "1" + "}" * bomb_depth,
        '{"task_name": "add", "task_payload": {"a": ' + "9" * 5000 + ', "b": 1}}',
        '{"task_name": "add", "task_payload": {"a": ' + "9" * 4000 + ', "b": 1}}',
        '{"task_name": "add", "task_payload": {"a": 1e999, "b": 1}}',
        '{"task_name": "plan_route", "task_payload": {"route": {"name": "r", "stops": '
        '[{"x": 1e999, "y": -1e999}]}, "max_detour_km": 1e400}}',
        '{"task_name": "plan_route", "task_payload": {"route": {"name": "r", "stops": []}, '
        '"max_detour_km": NaN}}',
        '{"task_name": "add", "task_payload": {"a": Infinity, "b": -Infinity}}',
        '{"task_name": "add", "task_name": "always_fails", "task_payload": {"a": 1, "b": 2}}',
        '{"task_name": "add", "task_payload": {"a": 1, "a": 2, "b": 3}}',
        '{"task_name": "add", "task_payload": {"a": 1, "b": 2, "\\ud800": 3}}',
        '{"task_name": "\\ud800\\udfff\\udc00", "task_payload": {}}',
        '{"task_name": "always_fails", "task_payload": {"reason": "\\ud800"}}',
        '{"task_name": "add\\u0000", "task_payload": {"a": 1, "b": 2}}',
        "\ufeff" + valid_add,
        valid_add + valid_add,
        valid_add[:-1],
        '{"task_name": ["add"], "task_payload": {"a": 1, "b": 2}}',
        '{"task_name": "add", "task_payload": [1, 2]}',
        '{"task_name": "add", "task_payload": null}',
        '{"task_name": "add", "task_payload": "{\\"a\\": 1, \\"b\\": 2}"}',
        '{"task_name": "add", "task_payload": {"a": true, "b": 2}}',
        '{"task_name": "add", "task_payload": {"a": 1.0, "b": 2}}',
        '{"task_name": "add", "task_payload": {"a": "1", "b": 2}}',
        '{"task_name": "add", "task_payload": {"a": 1, "b": 2, "__class__": 3}}',
        '{"task_name": "os.system", "task_payload": {"command": "touch /tmp/pwned"}}',
        '{"task_name": "__class__", "task_payload": {}}',
        '{"task_name": "add", "task_payload": {"a": -0, "b": 0}}',
        "null",
        "[]",
        '""',
        "\x09\x0a\x0d",
        "\U0010ffff",
    ]


def wire_values(
    type_expr: TypeExpr, contract: Contract, *, mutate: bool = True
) -> st.SearchStrategy[object]:
    """JSON values (wire forms) that fit ``type_expr``; with ``mutate``, now and then any JSON."""
    valid = _valid_wire(type_expr, contract, mutate)
    return st.one_of(valid, json_values) if mutate else valid


def _valid_wire(type_expr: TypeExpr, contract: Contract, mutate: bool) -> st.SearchStrategy[object]:
    def inner(child: TypeExpr) -> st.SearchStrategy[object]:
        return wire_values(child, contract, mutate=mutate)

    if isinstance(type_expr, ScalarType):
        return _SCALARS[type_expr.name]
    if isinstance(type_expr, ListType):
        return st.lists(inner(type_expr.item), max_size=3)
    if isinstance(type_expr, DictType):
        return st.dictionaries(st.text(max_size=5), inner(type_expr.value), max_size=3)
    if isinstance(type_expr, OptionalType):
        return st.none() | inner(type_expr.inner)
    if isinstance(type_expr, LiteralType):
        return st.sampled_from(type_expr.values)
    if isinstance(type_expr, RecordRef):
        record = contract.records[type_expr.name]
        return st.fixed_dictionaries(
            {f.name: inner(f.type) for f in record.fields if f.required},
            optional={f.name: inner(f.type) for f in record.fields if not f.required},
        )
    raise AssertionError(f"unknown type {type_expr!r}")


_SCALARS: Final[dict[str, st.SearchStrategy[object]]] = {
    "str": st.text(max_size=10),
    "int": st.integers(),
    "float": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**60), 2**60),
    "bool": st.booleans(),
    "datetime": st.datetimes(timezones=st.none() | st.just(dt.UTC)).map(dt.datetime.isoformat),
    "date": st.dates().map(dt.date.isoformat),
    "uuid": st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper()),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False).map(str),
}


def payloads(contract: Contract) -> st.SearchStrategy[tuple[str, dict[str, object]]]:
    """(task name, payload): the task's arguments (some left out) plus now and then a stray key."""

    def for_task(name: str) -> st.SearchStrategy[tuple[str, dict[str, object]]]:
        task = contract.tasks[name]
        payload = st.fixed_dictionaries(
            {},
            optional={
                **{arg.name: wire_values(arg.type, contract) for arg in task.args},
                "unexpected": json_values,
            },
        )
        # Required arguments present most of the time, so that many payloads are valid.
        required = st.fixed_dictionaries(
            {arg.name: wire_values(arg.type, contract) for arg in task.args if arg.required}
        )
        merged = st.tuples(required, payload).map(lambda pair: {**pair[1], **pair[0]})
        valid = st.fixed_dictionaries(
            {
                arg.name: wire_values(arg.type, contract, mutate=False)
                for arg in task.args
                if arg.required
            },
            optional={
                arg.name: wire_values(arg.type, contract, mutate=False)
                for arg in task.args
                if not arg.required
            },
        )
        return st.tuples(st.just(name), st.one_of(valid, merged, payload))

    return st.sampled_from(sorted(contract.tasks)).flatmap(for_task)


def envelope_bodies(contract: Contract) -> st.SearchStrategy[str]:
    """Bodies in the seed's envelope with contract payloads or hostile names and shapes."""
    well_formed = payloads(contract).map(
        lambda pair: json.dumps({"task_name": pair[0], "task_payload": pair[1]})
    )
    hostile_names = st.tuples(
        st.sampled_from(HOSTILE_TASK_NAMES) | st.text(max_size=12), json_values
    ).map(lambda pair: json.dumps({"task_name": pair[0], "task_payload": pair[1]}))
    wrong_shapes = st.dictionaries(
        st.sampled_from(["task_name", "task_payload", "args", "kwargs"]) | st.text(max_size=5),
        json_values,
        max_size=4,
    ).map(json.dumps)
    return st.one_of(well_formed, well_formed, hostile_names, wrong_shapes)


def bodies(contract: Contract, *, bomb_depth: int) -> st.SearchStrategy[str]:
    """Any body a hostile or broken producer could put on an SQS queue (never empty)."""
    raw = sqs_text.filter(bool)
    any_json = json_values.map(lambda value: json.dumps(value, allow_nan=False))
    return st.one_of(
        envelope_bodies(contract),
        envelope_bodies(contract),
        envelope_bodies(contract),
        raw,
        any_json,
        st.sampled_from(nasty_bodies(bomb_depth)),
    )
