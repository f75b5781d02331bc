"""Strict payload validation against a contract, in both directions."""

from __future__ import annotations

import datetime as dt
import functools
import json
import textwrap
import uuid
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simple_worker.contract import (
    Argument,
    Contract,
    ListType,
    Record,
    RecordRef,
    ScalarType,
    Task,
    load_contract_text,
)
from simple_worker.errors import ContractError, PayloadValidationError, UnknownTaskError
from simple_worker.validation import ContractValidator

RECORDS = """
[types.Point]
x = "float"
y = "float"

[types.Route]
name = "str"
stops = "list[Point]"

[types.Address]
street = "str"
zip = "str"
country = { type = "str", default = "NL" }
"""


def validator(args: str, *, task: str = "t", records: str = RECORDS) -> ContractValidator:
    text = f"version = 1\n{records}\n[tasks.{task}.args]\n{textwrap.dedent(args)}"
    return ContractValidator(load_contract_text(text, source="c.toml"))


@functools.cache
def one(type_: str) -> ContractValidator:
    """A validator for task ``t`` with one argument ``a`` of ``type_``."""
    return validator(f"a = {json.dumps(type_)}")


def incoming(type_: str, value: object) -> object:
    return one(type_).incoming("t", {"a": value})["a"]


def outgoing(type_: str, value: object) -> object:
    return one(type_).outgoing("t", {"a": value})["a"]


def problems(call: Any, payload: dict[str, object], task: str = "t") -> list[str]:
    with pytest.raises(PayloadValidationError) as info:
        call(task, payload)
    return list(info.value.errors)


def both_problems(type_: str, value: object) -> list[str]:
    """The problems, asserting both directions agree."""
    checker = one(type_)
    found = problems(checker.incoming, {"a": value})
    assert problems(checker.outgoing, {"a": value}) == found
    return found


FLAT = """
user_id = "int"
email = "str"
score = "float"
active = "bool"
locale = { type = "str", default = "en" }
tags = { type = "list[str]", default = [] }
"""


# --- flat payloads, defaults, every problem at once ----------------------------------------


def test_valid_flat_payload_passes_both_ways() -> None:
    payload = {"user_id": 1, "email": "a@b.c", "score": 0.5, "active": True, "locale": "de"}
    checker = validator(FLAT)

    expected = {**payload, "tags": []}
    assert checker.incoming("t", payload) == expected
    assert checker.outgoing("t", payload) == expected


def test_defaults_are_filled_in_both_ways() -> None:
    checker = validator(FLAT)
    payload = {"user_id": 1, "email": "a@b.c", "score": 0.5, "active": False}

    for result in (checker.incoming("t", payload), checker.outgoing("t", payload)):
        assert result["locale"] == "en"
        assert result["tags"] == []


def test_mutable_defaults_are_fresh_for_each_payload() -> None:
    checker = validator(FLAT)
    payload = {"user_id": 1, "email": "a@b.c", "score": 0.5, "active": False}

    first = checker.incoming("t", payload)
    first["tags"].append("x")  # type: ignore[attr-defined]

    assert checker.incoming("t", payload)["tags"] == []


def test_outgoing_result_lists_arguments_in_contract_order() -> None:
    payload = {"active": True, "score": 1.0, "email": "e", "user_id": 2}

    assert list(validator(FLAT).outgoing("t", payload)) == [
        "user_id",
        "email",
        "score",
        "active",
        "locale",
        "tags",
    ]


def test_every_problem_is_reported_at_once() -> None:
    payload = {"user_id": "5", "score": True, "active": 1, "tags": ["a", 2], "colour": "red"}

    assert problems(validator(FLAT).incoming, payload) == [
        'user_id: expected int, got str ("5")',
        "email: missing",
        "score: expected float, got bool (True)",
        "active: expected bool, got int (1)",
        "tags[1]: expected str, got int (2)",
        "colour: unexpected argument (task takes: user_id, email, score, active, locale, tags)",
    ]


def test_error_message_has_a_header_and_one_line_per_problem() -> None:
    with pytest.raises(PayloadValidationError) as info:
        validator(FLAT).outgoing("t", {"user_id": 1})

    assert str(info.value) == (
        "invalid payload for task 't' (3 problems)\n"
        "  email: missing\n  score: missing\n  active: missing"
    )
    assert info.value.task_name == "t"


def test_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(UnknownTaskError) as info:
        validator(FLAT, task="send_email").incoming("send_mail", {})

    assert info.value.task_name == "send_mail"
    assert "known tasks: send_email" in str(info.value)


def test_task_without_arguments_refuses_any() -> None:
    checker = ContractValidator(Contract(version=1, tasks={"ping": Task(name="ping", args=())}))

    assert problems(checker.incoming, {"x": 1}, task="ping") == [
        "x: unexpected argument (task takes none)"
    ]


def test_payload_that_is_not_a_mapping() -> None:
    assert problems(validator(FLAT).incoming, [1, 2]) == [  # type: ignore[arg-type]
        "expected a mapping of named arguments, got list"
    ]


# --- strictness -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "value", "problem"),
    [
        ("int", 1.7, "a: expected int, got float (1.7)"),
        ("int", True, "a: expected int, got bool (True)"),
        ("int", "5", 'a: expected int, got str ("5")'),
        ("float", True, "a: expected float, got bool (True)"),
        ("float", "1.5", 'a: expected float, got str ("1.5")'),
        ("str", 3, "a: expected str, got int (3)"),
        ("str", None, "a: expected str, got None"),
        ("bool", 1, "a: expected bool, got int (1)"),
        ("bool", "true", 'a: expected bool, got str ("true")'),
        ("int | None", "x", 'a: expected int | None, got str ("x")'),
        ("list[str]", {"a": 1}, "a: expected list[str], got dict"),
        ("list[str]", "abc", 'a: expected list[str], got str ("abc")'),
        ("dict[str, int]", [], "a: expected dict[str, int], got list"),
        ('Literal["a", "b"]', "c", 'a: expected one of "a", "b", got "c"'),
        ("Literal[1, 2]", True, "a: expected one of 1, 2, got True"),
        ("Literal[True]", 1, "a: expected one of True, got 1"),
        ('Literal["1"]', 1, 'a: expected one of "1", got 1'),
        ("Address", "x", 'a: expected Address, got str ("x")'),
        ("Address | None", 5, "a: expected Address | None, got int (5)"),
        ("datetime", 5, "a: expected datetime, got int (5)"),
        ("decimal", 1.5, "a: expected decimal, got float (1.5)"),
        ("decimal", 2, "a: expected decimal, got int (2)"),
    ],
)
def test_strict_types_refuse(type_: str, value: object, problem: str) -> None:
    assert both_problems(type_, value) == [problem]


def test_int_is_accepted_for_float_and_becomes_float() -> None:
    assert type(incoming("float", 3)) is float
    assert type(outgoing("float", 3)) is float


def test_none_is_accepted_only_by_optional_types() -> None:
    assert incoming("int | None", None) is None
    assert outgoing("Optional[Address]", None) is None


def test_literal_accepts_its_values() -> None:
    assert incoming('Literal["a", 1, True]', 1) == 1
    assert incoming('Literal["a", 1, True]', True) is True


def test_infinite_float_is_refused() -> None:
    assert both_problems("float", json.loads("1e999")) == [
        "a: expected a finite float, got float (inf)"
    ]


def test_long_values_are_truncated_in_messages() -> None:
    assert both_problems("int", "x" * 100) == [f'a: expected int, got str ("{"x" * 36}...)']


def test_str_enum_is_sent_as_plain_str() -> None:
    import enum

    class Colour(enum.StrEnum):
        RED = "red"

    assert type(outgoing("str", Colour.RED)) is str


# --- datetime, date, uuid, decimal ---------------------------------------------------------


def test_datetime_incoming_parses_iso_strings() -> None:
    assert incoming("datetime", "2024-05-06T07:08:09+02:00") == dt.datetime(
        2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )


def test_naive_datetime_round_trips_naive() -> None:
    naive = dt.datetime(2024, 5, 6, 7, 8, 9, 123456)

    assert outgoing("datetime", naive) == "2024-05-06T07:08:09.123456"
    assert incoming("datetime", "2024-05-06T07:08:09.123456") == naive


def test_datetime_outgoing_accepts_and_normalises_strings() -> None:
    assert outgoing("datetime", "2024-05-06T07:08:09Z") == "2024-05-06T07:08:09+00:00"


def test_datetime_with_sub_second_utc_offset_is_refused() -> None:
    # datetime.fromisoformat (3.11) drops the fraction, so it could not round-trip.
    odd = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(microseconds=1)))

    assert problems(one("datetime").outgoing, {"a": odd}) == [
        "a: expected a datetime whose UTC offset is whole seconds, got datetime "
        "(datetime.datetime(2024, 1, 1, 0, 0, t...)"
    ]


def test_invalid_datetime_string() -> None:
    assert both_problems("datetime", "yesterday") == [
        'a: expected an ISO 8601 datetime string, got "yesterday"'
    ]


def test_date_round_trip() -> None:
    assert outgoing("date", dt.date(2024, 2, 29)) == "2024-02-29"
    assert incoming("date", "2024-02-29") == dt.date(2024, 2, 29)


def test_datetime_object_is_not_a_date() -> None:
    assert problems(one("date").outgoing, {"a": dt.datetime(2024, 1, 1)}) == [
        "a: expected date, got datetime (datetime.datetime(2024, 1, 1, 0, 0))"
    ]


def test_datetime_string_is_not_a_date() -> None:
    assert both_problems("date", "2024-01-01T00:00:00") == [
        'a: expected an ISO 8601 date string, got "2024-01-01T00:00:00"'
    ]


def test_uuid_round_trip() -> None:
    value = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")

    assert outgoing("uuid", value) == "123e4567-e89b-12d3-a456-426614174000"
    assert incoming("uuid", "123E4567-E89B-12D3-A456-426614174000") == value


@pytest.mark.parametrize(
    "text", ["nope", "{123e4567-e89b-12d3-a456-426614174000}", "123e4567e89b12d3a456426614174000"]
)
def test_non_canonical_uuid_strings_are_refused(text: str) -> None:
    assert both_problems("uuid", text) == [
        f'a: expected a UUID string like "123e4567-e89b-12d3-a456-426614174000", '
        f"got {json.dumps(text)}"
    ]


def test_decimal_round_trip_keeps_precision() -> None:
    assert outgoing("decimal", Decimal("12.50")) == "12.50"
    assert incoming("decimal", "12.50") == Decimal("12.50")
    assert str(incoming("decimal", "12.50")) == "12.50"


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf", "1,5", " 1", "1_000", ""])
def test_invalid_decimal_strings_are_refused(text: str) -> None:
    assert both_problems("decimal", text) == [
        f'a: expected a decimal string like "12.50", got {json.dumps(text)}'
    ]


def test_non_finite_decimal_object_is_refused() -> None:
    assert problems(one("decimal").outgoing, {"a": Decimal("NaN")}) == [
        "a: expected a finite decimal, got Decimal (Decimal('NaN'))"
    ]


# --- containers and records -----------------------------------------------------------------


def test_dict_keys_must_be_str() -> None:
    assert problems(one("dict[str, int]").outgoing, {"a": {1: 2}}) == [
        "a: dict keys must be str, got int (1)"
    ]


def test_dict_value_path_uses_the_key() -> None:
    assert both_problems("dict[str, int]", {"k": "v", 'q"': 1.5}) == [
        'a["k"]: expected int, got str ("v")',
        'a["q\\""]: expected int, got float (1.5)',
    ]


def test_record_incoming_returns_an_instance_with_defaults() -> None:
    address = incoming("Address", {"street": "Main 1", "zip": "1234"})

    assert attrs.asdict(address) == {"street": "Main 1", "zip": "1234", "country": "NL"}  # type: ignore[arg-type]
    assert type(address).__name__ == "Address"


def test_record_outgoing_fills_defaults() -> None:
    assert outgoing("Address", {"street": "Main 1", "zip": "1234"}) == {
        "street": "Main 1",
        "zip": "1234",
        "country": "NL",
    }


def test_record_missing_and_unexpected_fields() -> None:
    checker = validator('shipping = "Address"')

    assert problems(checker.incoming, {"shipping": {"street": "s", "zp": "1"}}) == [
        "shipping.zip: missing",
        "shipping.zp: unexpected field (Address has: street, zip, country)",
    ]


def test_record_instance_is_accepted_outgoing() -> None:
    checker = validator('shipping = "Address"')
    address_cls = checker.contract.record_classes["Address"]

    wire = checker.outgoing("t", {"shipping": address_cls(street="s", zip="1")})

    assert wire == {"shipping": {"street": "s", "zip": "1", "country": "NL"}}


def test_record_instance_fields_are_checked() -> None:
    checker = validator('shipping = "Address"')
    address_cls = checker.contract.record_classes["Address"]

    assert problems(checker.outgoing, {"shipping": address_cls(street="s", zip=5)}) == [
        "shipping.zip: expected str, got int (5)"
    ]


def test_record_instance_is_refused_incoming() -> None:
    checker = validator('shipping = "Address"')
    address = checker.contract.record_classes["Address"](street="s", zip="1")

    assert problems(checker.incoming, {"shipping": address}) == [
        "shipping: expected Address, got Address (Address(street='s', zip='1', country=...)"
    ]


def test_nested_path_through_records_and_lists() -> None:
    route = {"name": "r", "stops": [{"x": 1.0, "y": "2"}, {"x": 1}]}

    assert problems(validator('route = "Route"').incoming, {"route": route}) == [
        'route.stops[0].y: expected float, got str ("2")',
        "route.stops[1].y: missing",
    ]


def test_nested_records_become_nested_instances() -> None:
    route = validator('route = "Route"').incoming(
        "t", {"route": {"name": "r", "stops": [{"x": 1, "y": 2.5}]}}
    )["route"]

    assert route.stops[0].x == 1.0  # type: ignore[attr-defined]
    assert type(route.stops[0]).__name__ == "Point"  # type: ignore[attr-defined]


def test_given_record_classes_are_instantiated() -> None:
    @attrs.frozen(kw_only=True)
    class Point:
        x: float
        y: float

    contract = Contract(
        version=1,
        tasks={"t": Task(name="t", args=(Argument(name="p", type=RecordRef("Point")),))},
        records={
            "Point": Record(
                name="Point",
                fields=(
                    Argument(name="x", type=ScalarType("float")),
                    Argument(name="y", type=ScalarType("float")),
                ),
            )
        },
        record_classes={"Point": Point},
    )

    assert ContractValidator(contract).incoming("t", {"p": {"x": 1, "y": 2}}) == {
        "p": Point(x=1.0, y=2.0)
    }


def test_hand_built_contract_with_a_bad_default_is_refused() -> None:
    contract = Contract(
        version=1,
        tasks={
            "t": Task(name="t", args=(Argument(name="a", type=ScalarType("int"), default="0"),))
        },
    )

    with pytest.raises(ContractError, match="default of 'a' does not match its type"):
        ContractValidator(contract)


def test_deeply_nested_input_does_not_exhaust_the_stack() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]

    assert both_problems("list[list[int]]", deep) == ["a[0][0]: expected int, got list"]


def test_deeply_nested_list_type_is_fine() -> None:
    contract = Contract(
        version=1,
        tasks={"t": Task(name="t", args=(Argument(name="a", type=_nested_list(50)),))},
    )
    value: object = 1
    for _ in range(50):
        value = [value]

    assert ContractValidator(contract).incoming("t", {"a": value}) == {"a": value}


def _nested_list(depth: int) -> ListType | ScalarType:
    type_: ListType | ScalarType = ScalarType("int")
    for _ in range(depth):
        type_ = ListType(type_)
    return type_


# --- round trip ------------------------------------------------------------------------------

ROUND_TRIP = """
s = "str"
i = "int"
f = "float"
b = "bool"
when = "datetime"
day = "date"
id = "uuid"
amount = "decimal"
tags = "list[str]"
counts = "dict[str, int]"
maybe = "int | None"
colour = 'Literal["red", "green", 3]'
stops = "list[Point]"
"""

_offsets = st.integers(-86_399, 86_399).map(lambda s: dt.timezone(dt.timedelta(seconds=s)))
_finite_floats = st.floats(allow_nan=False, allow_infinity=False)


def _python_payloads(point: type) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {
            "s": st.text(),
            "i": st.integers(),
            "f": _finite_floats | st.integers(-(2**53), 2**53),
            "b": st.booleans(),
            "when": st.datetimes(timezones=st.none() | _offsets),
            "day": st.dates(),
            "id": st.uuids(),
            "amount": st.decimals(allow_nan=False, allow_infinity=False),
            "tags": st.lists(st.text()),
            "counts": st.dictionaries(st.text(), st.integers()),
            "maybe": st.none() | st.integers(),
            "colour": st.sampled_from(["red", "green", 3]),
            "stops": st.lists(st.builds(point, x=_finite_floats, y=_finite_floats)),
        }
    )


ROUND_TRIP_CHECKER = validator(ROUND_TRIP)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_outgoing_then_json_then_incoming_gives_back_the_values(data: st.DataObject) -> None:
    point = ROUND_TRIP_CHECKER.contract.record_classes["Point"]
    payload = data.draw(_python_payloads(point))

    wire = ROUND_TRIP_CHECKER.outgoing("t", payload)
    received = ROUND_TRIP_CHECKER.incoming("t", json.loads(json.dumps(wire, allow_nan=False)))

    assert received == {**payload, "f": float(payload["f"])}  # type: ignore[arg-type]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _finite_floats | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
_type_exprs = st.sampled_from(
    [
        "str",
        "float",
        "datetime",
        "date",
        "decimal",
        "list[int]",
        "dict[str, float | None]",
        "Address",
        "list[Point]",
    ]
)
_stringly = st.sampled_from(["2024-01-01", "2024-01-01T10:00:00+01:00", "1.50", "1e3", "-0"])


@settings(max_examples=300, deadline=None)
@given(_type_exprs, _json_values | _stringly)
def test_anything_outgoing_accepts_incoming_accepts_too(type_: str, value: object) -> None:
    checker = one(type_)
    try:
        wire = checker.outgoing("t", {"a": value})
    except PayloadValidationError:
        return

    received = checker.incoming("t", json.loads(json.dumps(wire, allow_nan=False)))

    assert checker.outgoing("t", received) == wire
