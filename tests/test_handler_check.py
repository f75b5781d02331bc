"""Handlers compared with their contract task: parameter names and annotations."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal, Optional, Union

import attrs
import pytest

from simple_worker.contract import Contract, load_contract_text
from simple_worker.handler_check import contract_signature_problems

CONTRACT = load_contract_text(
    """
version = 1
[types.Address]
street = "str"

[tasks.t.args]
user_id = "int"
email = "str"
locale = { type = "str", default = "en" }

[tasks.typed.args]
when = "datetime"
day = "date"
id = "uuid"
amount = "decimal"
tags = "list[str]"
counts = "dict[str, int]"
maybe = "int | None"
colour = 'Literal["red", "green"]'
shipping = "Address | None"
""",
    source="c.toml",
)


@attrs.frozen
class Address:
    street: str


def check(
    handler: Callable[..., object], task: str = "t", contract: Contract = CONTRACT
) -> list[str]:
    return contract_signature_problems(handler, contract.tasks[task], contract)


# --- names ---------------------------------------------------------------------------------


def test_matching_unannotated_handler_has_no_problems() -> None:
    def handler(user_id, email, locale):  # type: ignore[no-untyped-def]
        pass

    assert check(handler) == []


def test_parameter_without_default_for_an_optional_argument_is_fine() -> None:
    def handler(*, user_id: int, email: str, locale: str) -> None:
        pass

    assert check(handler) == []


def test_missing_parameters_are_each_reported() -> None:
    def handler(user_id: int) -> None:
        pass

    assert check(handler) == [
        "parameter 'email' is missing: task t passes argument 'email'",
        "parameter 'locale' is missing: task t passes argument 'locale'",
    ]


def test_extra_parameter_is_reported_even_with_a_default() -> None:
    def handler(user_id: int, email: str, locale: str, retries: int = 3) -> None:
        pass

    assert check(handler) == ["parameter 'retries' is not an argument of task t"]


def test_kwargs_takes_any_missing_arguments() -> None:
    def handler(user_id: int, **rest: object) -> None:
        pass

    assert check(handler) == []


def test_kwargs_does_not_excuse_wrong_annotations() -> None:
    def handler(user_id: str, **rest: object) -> None:
        pass

    assert check(handler) == ["parameter 'user_id': annotated str, contract says int"]


def test_var_positional_is_refused() -> None:
    def handler(*args: object, **kwargs: object) -> None:
        pass

    assert check(handler) == ["parameter '*args': the worker passes arguments by keyword only"]


def test_positional_only_is_refused() -> None:
    def handler(user_id: int, /, email: str, locale: str) -> None:
        pass

    assert check(handler) == [
        "parameter 'user_id' is positional-only; the worker passes arguments by keyword"
    ]


def test_bound_method_is_checked_without_self() -> None:
    class Handlers:
        def send(self, user_id: int, email: str, locale: str) -> None:
            pass

    assert check(Handlers().send) == []


def test_callable_instance_is_checked() -> None:
    class Handler:
        def __call__(self, user_id: str, email: str, locale: str) -> None:
            pass

    assert check(Handler()) == ["parameter 'user_id': annotated str, contract says int"]


def test_partial_is_checked() -> None:
    def handler(user_id: int, email: str, locale: str, extra: int) -> None:
        pass

    assert check(functools.partial(handler, extra=1)) == [
        "parameter 'extra' is not an argument of task t"
    ]


# --- annotations ---------------------------------------------------------------------------


def test_wrong_annotation_names_the_parameter_and_both_types() -> None:
    def handler(user_id: str, email: str, locale: str) -> None:
        pass

    assert check(handler) == ["parameter 'user_id': annotated str, contract says int"]


def typed_handler(
    *,
    when: dt.datetime,
    day: dt.date,
    id: uuid.UUID,
    amount: decimal.Decimal,
    tags: list[str],
    counts: dict[str, int],
    maybe: int | None,
    colour: Literal["green", "red"],
    shipping: Address | None,
) -> None:
    pass


def test_all_type_kinds_match_their_annotations() -> None:
    assert check(typed_handler, "typed") == []


def test_optional_spellings_are_equal() -> None:
    def one(maybe: Optional[int], **rest: object) -> None:  # noqa: UP045
        pass

    def two(maybe: Union[int, None], **rest: object) -> None:  # noqa: UP007
        pass

    assert check(one, "typed") == []
    assert check(two, "typed") == []


def test_literal_values_must_be_the_same_set() -> None:
    def handler(colour: Literal["red", "blue"], **rest: object) -> None:
        pass

    assert check(handler, "typed") == [
        'parameter \'colour\': annotated Literal["red", "blue"], '
        'contract says Literal["red", "green"]'
    ]


def test_date_is_not_datetime() -> None:
    def handler(when: dt.date, **rest: object) -> None:
        pass

    assert check(handler, "typed") == ["parameter 'when': annotated date, contract says datetime"]


def test_missing_optional_is_reported() -> None:
    def handler(maybe: int, shipping: Address, **rest: object) -> None:
        pass

    assert check(handler, "typed") == [
        "parameter 'maybe': annotated int, contract says int | None",
        "parameter 'shipping': annotated Address, contract says Address | None",
    ]


def test_record_class_is_matched_by_name() -> None:
    address_cls = CONTRACT.record_classes["Address"]

    def handler(shipping: Optional[address_cls], **rest: object) -> None:  # type: ignore[valid-type]  # noqa: UP045
        pass

    handler.__annotations__["shipping"] = Optional[address_cls]  # noqa: UP045
    assert check(handler, "typed") == []


def test_unsupported_annotation_is_reported_whole() -> None:
    def handler(tags: Sequence[str], **rest: object) -> None:
        pass

    assert check(handler, "typed") == [
        "parameter 'tags': annotated Sequence[str], contract says list[str]"
    ]


def test_other_class_is_reported_by_name() -> None:
    class Shipping:
        pass

    def handler(shipping: Shipping | None, **rest: object) -> None:
        pass

    handler.__annotations__["shipping"] = Shipping | None
    assert check(handler, "typed") == [
        "parameter 'shipping': annotated Shipping | None, contract says Address | None"
    ]


def test_any_matches_anything() -> None:
    def handler(user_id: Any, email: str, locale: str) -> None:
        pass

    assert check(handler) == []


def test_unresolvable_annotation_is_a_problem_not_a_crash() -> None:
    def handler(user_id: Nope, email: int, locale: str) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    assert check(handler) == [
        "parameter 'user_id': cannot resolve annotation 'Nope' (name 'Nope' is not defined)",
        "parameter 'email': annotated int, contract says str",
    ]


def test_return_annotation_is_ignored() -> None:
    def handler(user_id: int, email: str, locale: str) -> Nope:  # type: ignore[name-defined]  # noqa: F821
        pass

    assert check(handler) == []


def test_unreadable_signature_is_a_problem() -> None:
    assert check(min) == [
        "cannot read the handler's signature: "
        "no signature found for builtin <built-in function min>"
    ]


@pytest.mark.parametrize("annotation", [int, "int"])
def test_string_and_real_annotations_agree(annotation: object) -> None:
    def handler(user_id, email: str, locale: str) -> None:  # type: ignore[no-untyped-def]
        pass

    handler.__annotations__["user_id"] = annotation
    assert check(handler) == []
