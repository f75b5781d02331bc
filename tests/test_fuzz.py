"""Fuzz targets for the message decoder and the contract validator (hypothesis, bounded, CI).

``decode_body`` must turn any bytes or text into an Envelope or a ``MessageDecodeError``;
``ContractValidator.incoming`` must turn any JSON-like payload into handler arguments or a
``PayloadValidationError``/``UnknownTaskError``, and whatever it accepts must round-trip
through ``outgoing`` (the producer side) to the same arguments.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generated import CONTRACT
from simple_worker import MessageDecodeError, PayloadValidationError, UnknownTaskError
from simple_worker.validation import ContractValidator
from simple_worker.wire import decode_body, encode_body
from tests.reliability import bodies

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
VALIDATOR = ContractValidator(CONTRACT)


def _decodes_or_says_why(body: str | bytes) -> None:
    try:
        envelope = decode_body(body)
    except MessageDecodeError as exc:
        reason = str(exc)
    else:
        reason = ""
        assert isinstance(envelope.task_name, str)
        assert envelope.task_name
        assert isinstance(envelope.payload, dict)
        return
    assert reason


@settings(FUZZ, max_examples=2000)
@given(st.binary(max_size=200))
def test_decode_body_takes_any_bytes(body: bytes) -> None:
    _decodes_or_says_why(body)


@FUZZ
@given(st.text(max_size=200) | bodies.bodies(CONTRACT, bomb_depth=3_000))
def test_decode_body_takes_any_text(body: str) -> None:
    _decodes_or_says_why(body)
    _decodes_or_says_why(body.encode("utf-8", "surrogatepass"))


@FUZZ
@given(bodies.payloads(CONTRACT) | st.tuples(st.text(max_size=10), bodies.json_values))
def test_incoming_accepts_or_refuses_and_what_it_accepts_round_trips(
    pair: tuple[str, object],
) -> None:
    task_name, payload = pair
    try:
        arguments = VALIDATOR.incoming(task_name, payload)  # type: ignore[arg-type]
    except (PayloadValidationError, UnknownTaskError):
        return
    wire = VALIDATOR.outgoing(task_name, arguments)
    assert VALIDATOR.incoming(task_name, wire) == arguments
    assert VALIDATOR.outgoing(task_name, wire) == wire
    body = encode_body(task_name, wire)  # JSON only: no NaN, no objects
    assert decode_body(body).payload == json.loads(body)["task_payload"]
