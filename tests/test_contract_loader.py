"""Loading contract TOML: the model it builds, and every kind of ContractError."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import attrs
import pytest

from simple_worker.contract import (
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
    check_queue_name,
    load_contract,
    load_contract_text,
    parse_type,
)
from simple_worker.errors import ContractError

FIXTURES = Path(__file__).parent / "contracts_fixtures"
STR, INT = ScalarType("str"), ScalarType("int")


def load(text: str, **kwargs: object) -> Contract:
    return load_contract_text(textwrap.dedent(text), source="c.toml", **kwargs)  # type: ignore[arg-type]


def error(text: str, **kwargs: object) -> str:
    with pytest.raises(ContractError) as info:
        load(text, **kwargs)
    return str(info.value)


def task_with_args(args: str, *, head: str = "") -> str:
    return f"version = 1\n{head}\n[tasks.t]\n[tasks.t.args]\n{textwrap.dedent(args)}"


# --- the golden example ------------------------------------------------------------------


def test_golden_example_loads_to_the_expected_model() -> None:
    contract = load_contract(FIXTURES / "golden.toml")

    address = Record(
        name="Address",
        fields=(Argument(name="street", type=STR), Argument(name="zip", type=STR)),
    )
    task = Task(
        name="send_welcome_email",
        queue="emails",
        doc="Send the welcome email to a new user.",
        deprecated="use send_welcome_email_v2",
        args=(
            Argument(name="user_id", type=INT),
            Argument(name="email", type=STR),
            Argument(name="locale", type=STR, default="en"),
            Argument(name="tags", type=ListType(STR), default=[]),
            Argument(name="referrer", type=OptionalType(STR)),
            Argument(name="shipping", type=OptionalType(RecordRef("Address"))),
            Argument(name="old", type=INT, default=0, deprecated="no longer used"),
        ),
    )
    assert contract == Contract(
        version=1,
        tasks={"send_welcome_email": task},
        records={"Address": address},
        source=str(FIXTURES / "golden.toml"),
    )


def test_loaded_contract_has_frozen_kw_only_record_classes() -> None:
    contract = load_contract(FIXTURES / "golden.toml")
    address_cls = contract.record_classes["Address"]

    address = address_cls(street="Main St 1", zip="12345")

    assert address_cls.__name__ == "Address"
    assert [field.name for field in attrs.fields(address_cls)] == ["street", "zip"]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        address.zip = "0"
    with pytest.raises(TypeError):
        address_cls("Main St 1", "12345")


def test_made_record_classes_get_python_defaults() -> None:
    contract = load(
        """
        version = 1
        [types.Slot]
        at = { type = "datetime", default = "2024-01-02T03:04:05" }
        tags = { type = "list[str]", default = ["a"] }
        """
    )
    slot_cls = contract.record_classes["Slot"]

    first, second = slot_cls(), slot_cls()

    assert first.at == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert first.tags == ["a"]
    assert first.tags is not second.tags


def test_task_without_args_or_options_gets_defaults() -> None:
    contract = load("version = 1\n[tasks.ping]\n")

    assert contract.tasks["ping"] == Task(name="ping", args=())
    assert contract.tasks["ping"].queue == "default"


def test_tasks_and_arguments_keep_file_order() -> None:
    contract = load(
        """
        version = 1
        [tasks.b.args]
        z = "int"
        a = "int"
        [tasks.a]
        """
    )

    assert list(contract.tasks) == ["b", "a"]
    assert [arg.name for arg in contract.tasks["b"].args] == ["z", "a"]


def test_records_may_refer_to_records_defined_later() -> None:
    contract = load(
        """
        version = 1
        [types.Route]
        stops = "list[Point]"
        [types.Point]
        x = "float"
        """
    )

    assert contract.records["Route"].fields[0].type == ListType(RecordRef("Point"))


def test_toml_datetime_default_is_stored_in_wire_form() -> None:
    contract = load(task_with_args('at = { type = "datetime", default = 2024-01-02T03:04:05Z }'))

    assert contract.tasks["t"].args[0].default == "2024-01-02T03:04:05+00:00"


def test_int_default_for_float_is_stored_as_float() -> None:
    contract = load(task_with_args('ratio = { type = "float", default = 1 }'))

    assert contract.tasks["t"].args[0].default == 1.0


def test_fifo_task_loads_group_and_deduplication() -> None:
    contract = load(
        """
        version = 1
        [tasks.t]
        queue = "orders.fifo"
        fifo_group = "user_id"
        deduplication = "order_id"
        [tasks.t.args]
        user_id = "int"
        order_id = "str"
        """
    )

    task = contract.tasks["t"]
    assert (task.queue, task.fifo_group, task.deduplication) == (
        "orders.fifo",
        "user_id",
        "order_id",
    )


def test_load_contract_text_uses_source_in_the_model() -> None:
    assert load("version = 1").source == "c.toml"


# --- record classes given by generated code ----------------------------------------------


@attrs.frozen(kw_only=True)
class Address:
    street: str
    zip: str


def test_given_record_classes_are_used() -> None:
    contract = load_contract(FIXTURES / "golden.toml", record_classes={"Address": Address})

    assert contract.record_classes["Address"] is Address


def test_record_classes_do_not_affect_equality() -> None:
    given = load_contract(FIXTURES / "golden.toml", record_classes={"Address": Address})

    assert given == load_contract(FIXTURES / "golden.toml")


def test_given_record_class_that_is_not_attrs_is_refused() -> None:
    class Address:  # shadows the attrs one on purpose
        street: str
        zip: str

    message = error((FIXTURES / "golden.toml").read_text(), record_classes={"Address": Address})

    assert message == (
        "c.toml: types.Address: record class "
        "test_given_record_class_that_is_not_attrs_is_refused.<locals>.Address is not an attrs "
        "class"
    )


def test_given_record_class_with_other_fields_is_refused() -> None:
    @attrs.frozen
    class Address:
        street: str
        zipcode: str

    message = error((FIXTURES / "golden.toml").read_text(), record_classes={"Address": Address})

    assert message.endswith("has fields street, zipcode; the contract has street, zip")


def test_given_record_class_with_another_name_is_refused() -> None:
    @attrs.frozen
    class Addr:
        street: str
        zip: str

    message = error((FIXTURES / "golden.toml").read_text(), record_classes={"Address": Addr})

    assert (
        message == 'c.toml: types.Address: record class is named "Addr"; it must be named "Address"'
    )


def test_missing_and_unknown_record_classes_are_refused() -> None:
    message = error((FIXTURES / "golden.toml").read_text(), record_classes={"Adress": Address})

    assert message.splitlines() == [
        'c.toml: record_classes: "Adress" is not a record of the contract',
        "c.toml: types.Address: no record class was given for this record",
    ]


# --- file and syntax errors --------------------------------------------------------------


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"

    with pytest.raises(ContractError, match=r"nope\.toml: cannot read the contract: "):
        load_contract(path)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text("version = 1\n[tasks.x\n")

    with pytest.raises(ContractError) as info:
        load_contract(path)

    assert str(info.value) == (
        f"{path}: invalid TOML: Expected ']' at the end of a table declaration "
        "(at line 2, column 9)"
    )


def test_duplicate_table_is_a_toml_error() -> None:
    message = error("version = 1\n[tasks.a]\n[tasks.a]\n")

    assert message.startswith("c.toml: invalid TOML: ")
    assert "(at line 3, column" in message


# --- version -----------------------------------------------------------------------------


def test_missing_version() -> None:
    assert error("[tasks.a]\n") == "c.toml: version: missing (put version = 1 at the top)"


def test_unsupported_version() -> None:
    assert error("version = 2\n") == (
        "c.toml: version: unsupported contract format version 2 "
        "(this simple-worker reads version 1)"
    )


def test_version_must_be_an_integer() -> None:
    assert error("version = true\n") == "c.toml: version: expected an integer, got a boolean"


# --- unknown keys ------------------------------------------------------------------------


def test_unknown_top_level_table() -> None:
    assert error("version = 1\n[task.a]\n") == (
        'c.toml: task: unknown key (did you mean "tasks"? allowed: version, types, tasks)'
    )


def test_unknown_task_key() -> None:
    assert error("version = 1\n[tasks.t]\nqeue = 'emails'\n") == (
        'c.toml: tasks.t.qeue: unknown key (did you mean "queue"? '
        "allowed: queue, doc, deprecated, fifo_group, deduplication, args)"
    )


def test_unknown_argument_key() -> None:
    assert error(task_with_args('locale = { type = "str", defualt = "en" }')) == (
        'c.toml: tasks.t.args.locale.defualt: unknown key (did you mean "default"? '
        "allowed: type, default, default_none, deprecated)"
    )


def test_unknown_record_field_key() -> None:
    message = error('version = 1\n[types.A]\nx = { type = "int", deprecatd = "old" }\n')

    assert message.startswith(
        'c.toml: types.A.x.deprecatd: unknown key (did you mean "deprecated"?'
    )


def test_argument_table_without_type() -> None:
    assert error(task_with_args("a = { default = 1 }")) == "c.toml: tasks.t.args.a.type: missing"


def test_argument_of_wrong_kind() -> None:
    assert error(task_with_args("a = 5")) == (
        'c.toml: tasks.t.args.a: expected a type string ("int") or a table '
        '{ type = "int", default = 0 }, got an integer'
    )


def test_task_that_is_not_a_table() -> None:
    assert error("version = 1\ntasks = { t = 1 }\n") == (
        "c.toml: tasks.t: expected a table, got an integer"
    )


def test_deprecated_must_be_a_string() -> None:
    assert error("version = 1\n[tasks.t]\ndeprecated = true\n") == (
        "c.toml: tasks.t.deprecated: expected a string, got a boolean"
    )


# --- types -------------------------------------------------------------------------------


def test_unknown_type_suggests_the_closest_name() -> None:
    message = error("version = 1\n[tasks.send_email.args]\nlocale = 'strng'\n")

    assert message == (
        'c.toml: tasks.send_email.args.locale: unknown type "strng" (did you mean "str"? '
        "allowed: str, int, float, bool, datetime, date, uuid, decimal, list[T], dict[str, T], "
        'T | None, Optional[T], Literal["a", ...])'
    )


def test_unknown_type_lists_records_and_suggests_them() -> None:
    message = error(task_with_args('a = "Adress"', head="[types.Address]\nx = 'int'"))

    assert 'unknown type "Adress" (did you mean "Address"? ' in message
    assert message.endswith("; records: Address)")


def test_unions_other_than_optional_are_refused() -> None:
    assert error(task_with_args('a = "int | str"')) == (
        "c.toml: tasks.t.args.a: invalid type 'int | str': the only union allowed is T | None"
    )


def test_dict_keys_must_be_str() -> None:
    assert error(task_with_args('a = "dict[int, str]"')).endswith(
        "dict keys must be str: use dict[str, T]"
    )


def test_unbalanced_brackets() -> None:
    assert error(task_with_args('a = "list[int"')) == (
        "c.toml: tasks.t.args.a: invalid type 'list[int': unexpected end of type expression"
    )


def test_every_bad_type_is_reported_at_once() -> None:
    message = error(task_with_args('a = "strng"\nb = "list"\nc = "int | str"'))

    assert [line.split(":")[1].strip() for line in message.splitlines()] == [
        "tasks.t.args.a",
        "tasks.t.args.b",
        "tasks.t.args.c",
    ]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("str", STR),
        ("list[int]", ListType(INT)),
        ("dict[str, list[str]]", DictType(ListType(STR))),
        ("int | None", OptionalType(INT)),
        ("None | int", OptionalType(INT)),
        ("Optional[int]", OptionalType(INT)),
        ("list[Optional[int]]", ListType(OptionalType(INT))),
        ("Literal[\"a\", 'b', 1, -2, True]", LiteralType(("a", "b", 1, -2, True))),
        ("Address | None", OptionalType(RecordRef("Address"))),
        ("  list[ str ]  ", ListType(STR)),
    ],
)
def test_parse_type(expr: str, expected: object) -> None:
    assert parse_type(expr, records={"Address"}) == expected


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("None", '"None" alone is not a type'),
        ("int | None | None", "the only union allowed is T | None"),
        ("Optional[int | None]", "None is given twice"),
        ("Literal[]", "Literal needs at least one value"),
        ('Literal["a", "a"]', "Literal values must be distinct"),
        ("Literal[1.5]", "unexpected character"),
        ("Literal[int]", "Literal values must be strings, integers or True/False"),
        ("list", "list needs type arguments"),
        ("list[int] x", 'unexpected "x"'),
        ("", "empty type expression"),
        ("list[None]", '"None" alone is not a type'),
    ],
)
def test_parse_type_refuses(expr: str, problem: str) -> None:
    with pytest.raises(ContractError, match=problem.replace("[", r"\[").replace("|", r"\|")):
        parse_type(expr, records=())


def test_literal_distinguishes_true_from_one() -> None:
    assert parse_type("Literal[1, True]", records=()) == LiteralType((1, True))


# --- names -------------------------------------------------------------------------------


def test_task_name_that_is_a_keyword() -> None:
    assert error("version = 1\n[tasks.class]\n") == (
        'c.toml: tasks.class: invalid task name "class": it is a Python keyword'
    )


def test_task_name_that_is_not_an_identifier() -> None:
    assert error('version = 1\n[tasks."send email"]\n') == (
        'c.toml: tasks."send email": invalid task name "send email": use letters, digits and '
        "underscores, not starting with a digit"
    )


def test_argument_name_starting_with_underscore() -> None:
    assert error(task_with_args('_secret = "str"')) == (
        'c.toml: tasks.t.args._secret: invalid argument name "_secret": '
        "names must not start with an underscore"
    )


@pytest.mark.parametrize("name", ["self", "datetime", "attrs", "Literal"])
def test_argument_names_generated_code_uses_are_refused(name: str) -> None:
    assert error(task_with_args(f'{name} = "str"')) == (
        f'c.toml: tasks.t.args.{name}: invalid argument name "{name}": '
        "generated code uses this name"
    )


def test_task_named_like_a_producers_method() -> None:
    assert error("version = 1\n[tasks.with_options]\n") == (
        'c.toml: tasks.with_options: invalid task name "with_options": '
        "it is a method of the generated Producers"
    )


def test_field_named_like_a_record_is_refused() -> None:
    assert error('version = 1\n[types.Point]\nx = "int"\n[types.Line]\nPoint = "Point"\n') == (
        'c.toml: types.Line.Point: invalid field name "Point": it would shadow the record Point'
    )


def test_record_and_field_names_are_checked() -> None:
    message = error('version = 1\n[types.class]\n1x = "int"\n')

    assert message.splitlines() == [
        'c.toml: types.class.1x: invalid field name "1x": use letters, digits and underscores, '
        "not starting with a digit",
        'c.toml: types.class: invalid record name "class": it is a Python keyword',
    ]


def test_task_names_whose_generated_names_collide() -> None:
    message = error("version = 1\n[tasks.send_email]\n[tasks.send__email]\n[tasks.sendEmail]\n")

    assert message.splitlines() == [
        'c.toml: tasks.send__email: task name "send__email" clashes with "send_email": both '
        "would generate SendEmailHandler; rename one",
        'c.toml: tasks.sendEmail: task name "sendEmail" clashes with "send_email": both '
        "would generate SendEmailHandler; rename one",
    ]


def test_record_named_like_a_scalar() -> None:
    assert error('version = 1\n[types.str]\nx = "int"\n') == (
        'c.toml: types.str: record name "str" is the name of a built-in type'
    )


@pytest.mark.parametrize("name", ["Producers", "TaskRef", "CONTRACT", "tasks", "Protocol"])
def test_record_named_like_generated_code(name: str) -> None:
    assert error(f'version = 1\n[types.{name}]\nx = "int"\n') == (
        f'c.toml: types.{name}: record name "{name}" is used by generated code (reserved: '
        "Any, App, CONTRACT, Final, Literal, Producers, Protocol, TYPE_CHECKING, TaskRef, "
        "attrs, datetime, decimal, load_contract_text, self, tasks, uuid)"
    )


def test_record_named_like_a_handler_protocol() -> None:
    assert error('version = 1\n[types.SendEmailHandler]\nx = "int"\n[tasks.send_email]\n') == (
        'c.toml: types.SendEmailHandler: record name "SendEmailHandler" clashes with the '
        'handler Protocol of task "send_email" (SendEmailHandler)'
    )


def test_record_cycle_is_refused() -> None:
    message = error('version = 1\n[types.A]\nb = "B | None"\n[types.B]\na = "list[A]"\n')

    assert message == (
        "c.toml: types.A: records refer to each other in a cycle (A -> B -> A); a record may "
        "not contain itself, directly or through other records, even optionally"
    )


def test_record_referring_to_itself_is_refused() -> None:
    assert "(Node -> Node)" in error('version = 1\n[types.Node]\nnext = "Node | None"\n')


# --- defaults ----------------------------------------------------------------------------


def test_default_of_the_wrong_type() -> None:
    assert error(task_with_args('locale = { type = "str", default = 5 }')) == (
        "c.toml: tasks.t.args.locale.default: expected str, got int (5)"
    )


def test_every_wrong_item_of_a_default_is_reported() -> None:
    message = error(task_with_args('tags = { type = "list[str]", default = [1, "a", 2] }'))

    assert message.splitlines() == [
        "c.toml: tasks.t.args.tags.default[0]: expected str, got int (1)",
        "c.toml: tasks.t.args.tags.default[2]: expected str, got int (2)",
    ]


def test_record_default_is_checked_field_by_field() -> None:
    message = error(
        task_with_args('a = { type = "A", default = { y = 1 } }', head="[types.A]\nx = 'int'")
    )

    assert message.splitlines() == [
        "c.toml: tasks.t.args.a.default.x: missing",
        "c.toml: tasks.t.args.a.default.y: unexpected field (A has: x)",
    ]


def test_record_field_default_is_checked() -> None:
    assert error('version = 1\n[types.A]\nx = { type = "int", default = "0" }\n') == (
        'c.toml: types.A.x.default: expected int, got str ("0")'
    )


def test_float_default_for_decimal_is_refused() -> None:
    assert error(task_with_args('a = { type = "decimal", default = 1.5 }')) == (
        "c.toml: tasks.t.args.a.default: expected decimal, got float (1.5)"
    )


def test_invalid_datetime_default() -> None:
    assert error(task_with_args('a = { type = "datetime", default = "soon" }')) == (
        'c.toml: tasks.t.args.a.default: expected an ISO 8601 datetime string, got "soon"'
    )


def test_nan_default_is_refused() -> None:
    assert error(task_with_args('a = { type = "float", default = nan }')) == (
        "c.toml: tasks.t.args.a.default: expected a finite float, got float (nan)"
    )


# --- queues and FIFO ---------------------------------------------------------------------


def test_queue_with_characters_sqs_refuses() -> None:
    assert error("version = 1\n[tasks.t]\nqueue = 'my queue'\n") == (
        "c.toml: tasks.t.queue: invalid queue name \"my queue\": it contains ' '; SQS allows "
        'only letters, digits, "-" and "_" (and a ".fifo" suffix)'
    )


def test_queue_name_too_long() -> None:
    assert error(f"version = 1\n[tasks.t]\nqueue = '{'q' * 81}'\n").endswith(
        "it is 81 characters long; SQS allows at most 80"
    )


def test_check_queue_name_accepts_valid_names() -> None:
    assert check_queue_name("prod-emails_1") is None
    assert check_queue_name("prod-orders.fifo") is None


def test_check_queue_name_leaves_room_for_the_dead_letter_queue() -> None:
    assert check_queue_name("q" * 72 + ".fifo") == (
        f"its dead-letter queue '{'q' * 72}-dlq.fifo' would be 81 characters long; "
        "SQS allows at most 80"
    )


def test_check_queue_name_refuses_empty_and_dots() -> None:
    assert check_queue_name("") == "it is empty"
    assert check_queue_name(".fifo") == "it is empty"
    assert check_queue_name("a.b").startswith("it contains '.'")  # type: ignore[union-attr]


def test_fifo_group_on_a_standard_queue() -> None:
    message = error(
        task_with_args('user_id = "int"').replace("[tasks.t]", '[tasks.t]\nfifo_group = "user_id"')
    )

    assert message == (
        'c.toml: tasks.t.fifo_group: only FIFO queues (names ending in ".fifo") take fifo_group; '
        'its queue is "default"'
    )


def test_fifo_group_naming_a_missing_argument() -> None:
    text = """
        version = 1
        [tasks.t]
        queue = "q.fifo"
        deduplication = "id"
        [tasks.t.args]
        key = "str"
        """

    assert error(text) == (
        'c.toml: tasks.t.deduplication: "id" is not an argument of the task (arguments: key)'
    )


def test_fifo_group_argument_must_be_str_or_int() -> None:
    text = """
        version = 1
        [tasks.t]
        queue = "q.fifo"
        fifo_group = "k"
        [tasks.t.args]
        k = "str | None"
        """

    assert error(text) == (
        'c.toml: tasks.t.fifo_group: argument "k" is str | None; it must be str or int'
    )


# --- collecting ----------------------------------------------------------------------------


def test_problems_of_different_kinds_are_reported_together() -> None:
    message = error(
        """
        version = 3
        [tasks.t]
        qeue = "x"
        [tasks.t.args]
        a = "strng"
        """
    )

    assert len(message.splitlines()) == 3
    assert all(line.startswith("c.toml: ") for line in message.splitlines())


# --- default_none: a default of None, which TOML cannot write ----------------------------


def test_default_none_gives_a_nullable_argument_a_default_of_none() -> None:
    contract = load(
        """
        version = 1
        [types.A]
        note = { type = "str | None", default_none = true }
        [tasks.t.args]
        who = "str"
        referrer = { type = "str | None", default_none = true }
        a = { type = "A | None", default_none = true }
        off = { type = "int | None", default_none = false }
        """
    )

    args = {arg.name: arg for arg in contract.tasks["t"].args}
    assert args["referrer"].default is None
    assert not args["referrer"].required
    assert args["a"].default is None
    assert args["off"].required  # default_none = false is the same as leaving it out
    assert contract.records["A"].fields[0].default is None
    assert contract.record_classes["A"]().note is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            'x = { type = "str", default_none = true }',
            "c.toml: tasks.t.args.x.default_none: a default of None needs a type that allows "
            'None, such as "str | None"',
        ),
        (
            'x = { type = "str | None", default_none = true, default = "a" }',
            "c.toml: tasks.t.args.x: give either default or default_none = true, not both",
        ),
        (
            'x = { type = "str | None", default_none = "yes" }',
            "c.toml: tasks.t.args.x.default_none: expected true or false, got a string",
        ),
    ],
)
def test_default_none_misuse_is_explained(spec: str, message: str) -> None:
    assert error(task_with_args(spec)) == message
