"""The body on the wire: byte-exact with simple-worker 0.2.x; decoding survives anything."""

from __future__ import annotations

import pytest

from simple_worker.errors import MessageDecodeError
from simple_worker.wire import Envelope, decode_body, encode_body, find_non_json


def test_body_bytes_are_the_seed_format() -> None:
    body = encode_body("my_task", {"a": 1, "b": "é"})

    assert body.encode() == b'{"task_name": "my_task", "task_payload": {"a": 1, "b": "\\u00e9"}}'


def test_a_seed_body_decodes() -> None:
    envelope = decode_body('{"task_name": "my_task", "task_payload": {"a": 1, "b": 2}}')

    assert envelope == Envelope(task_name="my_task", payload={"a": 1, "b": 2})


def test_bytes_bodies_decode_as_utf8() -> None:
    envelope = decode_body('{"task_name": "t", "task_payload": {"s": "ü"}}'.encode())

    assert envelope.payload == {"s": "ü"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\xff\xfe{", "body is not valid UTF-8"),
        ("not json", "body is not valid JSON (Expecting value at line 1 column 1): 'not json'"),
        ("[1, 2]", "body must be a JSON object with task_name and task_payload, got an array"),
        ('{"task_payload": {}}', "body is missing task_name"),
        ("{}", "body is missing task_name and task_payload"),
        (
            '{"task_name": 3, "task_payload": {}}',
            "task_name must be a non-empty string, got a number",
        ),
        (
            '{"task_name": "", "task_payload": {}}',
            "task_name must be a non-empty string, got a string",
        ),
        (
            '{"task_name": "t", "task_payload": [1]}',
            "task_payload must be a JSON object of named arguments, got an array",
        ),
        (
            '{"task_name": "t", "task_payload": null}',
            "task_payload must be a JSON object of named arguments, got null",
        ),
        (
            '{"task_name": "t", "task_name": "u", "task_payload": {}}',
            "body is not acceptable JSON: duplicate key 'task_name' in a JSON object",
        ),
        (
            '{"task_name": "t", "task_payload": {"x": NaN}}',
            "body is not acceptable JSON: NaN is not valid JSON",
        ),
    ],
)
def test_undecodable_bodies_say_why(body: str | bytes, expected: str) -> None:
    with pytest.raises(MessageDecodeError) as caught:
        decode_body(body)

    assert str(caught.value).startswith(expected)


def test_a_nesting_bomb_is_a_decode_error_not_a_crash() -> None:
    bomb = '{"task_name": "t", "task_payload": {"x": ' + "[" * 200_000 + "]" * 200_000 + "}}"

    with pytest.raises(MessageDecodeError, match="nested too deeply"):
        decode_body(bomb)


def test_an_integer_too_long_to_convert_is_a_decode_error() -> None:
    body = '{"task_name": "t", "task_payload": {"x": ' + "9" * 10_000 + "}}"

    with pytest.raises(MessageDecodeError, match="body is not acceptable JSON"):
        decode_body(body)


def test_find_non_json_reports_every_value_with_its_path() -> None:
    problems = find_non_json(
        {"ok": [1, "a"], "when": object(), "nested": {"x": [float("nan")]}, "k": {1: 2}}
    )

    assert problems == [
        "when: object is not a JSON value; pass str, int, float, bool, None, list or dict "
        "(or declare the argument's type in a contract)",
        "nested.x[0]: nan cannot be represented in JSON",
        "k: object keys must be strings, got int (1)",
    ]
