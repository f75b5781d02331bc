"""Hostile and broken message bodies: the worker never crashes, never hands a handler a payload
that breaks the contract, and never silently deletes a message.

Bodies are generated with hypothesis (derandomized, so CI runs the same examples every time):
1,000+ on the memory broker (the same worker code path, fast) and a sample of 50 over moto's
HTTP server. Every handler checks its arguments against the contract with an independent
oracle (``_fits``) and records each call.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generated import CONTRACT
from simple_worker import App, ManualClock, MemoryBroker, PayloadTooLargeError
from simple_worker.brokers.base import OutgoingMessage
from simple_worker.brokers.sqs import SqsBroker
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
from simple_worker.wire import DEAD_LETTER_REASON_ATTRIBUTE
from tests.reliability import bodies
from tests.reliability.harness import create_queue, new_prefix
from tests.sqs_server import MotoSqs

MEMORY_EXAMPLES = 1000
MOTO_SAMPLE = 50


def _fits(type_expr: TypeExpr, value: object, contract: Contract) -> bool:
    """The oracle: does a handler argument have exactly the contract's type?"""
    if isinstance(type_expr, OptionalType):
        return value is None or _fits(type_expr.inner, value, contract)
    if isinstance(type_expr, ListType):
        return type(value) is list and all(_fits(type_expr.item, v, contract) for v in value)
    if isinstance(type_expr, DictType):
        return type(value) is dict and all(
            type(k) is str and _fits(type_expr.value, v, contract) for k, v in value.items()
        )
    if isinstance(type_expr, LiteralType):
        return any(type(value) is type(v) and value == v for v in type_expr.values)
    if isinstance(type_expr, RecordRef):
        record = contract.records[type_expr.name]
        cls = contract.record_classes[type_expr.name]
        return type(value) is cls and all(
            _fits(f.type, getattr(value, f.name), contract) for f in record.fields
        )
    assert isinstance(type_expr, ScalarType)
    return _SCALAR_CHECKS[type_expr.name](value)


_SCALAR_CHECKS: dict[str, Callable[[object], bool]] = {
    "str": lambda v: type(v) is str,
    "int": lambda v: type(v) is int,
    "float": lambda v: type(v) is float and math.isfinite(v),
    "bool": lambda v: type(v) is bool,
    "datetime": lambda v: type(v) is dt.datetime,
    "date": lambda v: type(v) is dt.date,
    "uuid": lambda v: type(v) is uuid.UUID,
    "decimal": lambda v: type(v) is Decimal and v.is_finite(),
}


@attrs.define
class Calls:
    """Every handler call, and the ones whose arguments broke the contract."""

    good: list[str] = attrs.field(factory=list)
    bad: list[str] = attrs.field(factory=list)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def record(self, task_name: str, kwargs: dict[str, object]) -> None:
        task = CONTRACT.tasks[task_name]
        wrong = [
            f"{arg.name}={kwargs.get(arg.name)!r}"
            for arg in task.args
            if arg.name not in kwargs or not _fits(arg.type, kwargs[arg.name], CONTRACT)
        ]
        with self.lock:
            (self.bad if wrong else self.good).append(f"{task_name}: {', '.join(wrong)}")
        assert not wrong, f"{task_name} called with {wrong}"


def _contract_app(broker: MemoryBroker, calls: Calls) -> App:
    app = App(queue_prefix="h-", contract=CONTRACT, broker=broker)
    _register_on(app, calls)
    return app


def _register_on(app: App, calls: Calls) -> None:
    """Handlers for every task of the contract; each checks and records its arguments."""

    @app.register_task_handler("add")
    def add(a, b):  # type: ignore[no-untyped-def]
        calls.record("add", {"a": a, "b": b})

    @app.register_task_handler("always_fails")
    def always_fails(reason):  # type: ignore[no-untyped-def]
        calls.record("always_fails", {"reason": reason})

    @app.register_task_handler("plan_route")
    def plan_route(*, route, vehicle, max_detour_km, avoid_tolls, depart_at):  # type: ignore[no-untyped-def]
        calls.record("plan_route", dict(locals()))

    @app.register_task_handler("send_welcome_email")
    def send_welcome_email(*, user_id, email, locale, tags, referrer, shipping):  # type: ignore[no-untyped-def]
        calls.record("send_welcome_email", dict(locals()))

    @app.register_task_handler("build_invoice_report")
    def build_invoice_report(  # type: ignore[no-untyped-def]
        *,
        customer_id,
        period_start,
        period_end,
        min_amount,
        currency,
        totals_by_region,
        billing_address,
        include_regions,
        request_id,
    ):
        calls.record("build_invoice_report", dict(locals()))


QUEUES = ("default", "emails", "reports")


@attrs.define
class Tally:
    sent: int = 0
    dead_seen: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(QUEUES, 0))
    without_reason: list[str] = attrs.field(factory=list)
    changed_bodies: list[str] = attrs.field(factory=list)


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def test_a_thousand_hostile_bodies_never_crash_the_worker_nor_reach_a_handler_invalid() -> None:
    broker = MemoryBroker(visibility_timeout_s=30, max_receive_count=3, clock=ManualClock())
    calls = Calls()
    app = _contract_app(broker, calls)
    worker = app.worker(concurrency=2)
    tally = Tally()

    @_settings(MEMORY_EXAMPLES)
    @given(body=bodies.bodies(CONTRACT, bomb_depth=100_000), queue=st.sampled_from(QUEUES))
    def one_body(body: str, queue: str) -> None:
        handled_before = len(calls.good) + len(calls.bad)
        broker.send(app.queue_name(queue), [OutgoingMessage(ref="hostile", body=body)])
        tally.sent += 1

        worker.drain(raise_errors=False)

        handled = len(calls.good) + len(calls.bad) - handled_before
        dead = broker.messages(app.queue_name(queue + "-dlq"))
        new_dead = dead[tally.dead_seen[queue] :]
        tally.dead_seen[queue] = len(dead)
        for message in new_dead:
            if not message.attributes.get(DEAD_LETTER_REASON_ATTRIBUTE):
                tally.without_reason.append(message.body)
            if message.body != body:
                tally.changed_bodies.append(body)
        left = sum(len(broker.messages(app.queue_name(q))) for q in QUEUES)
        assert (handled, len(new_dead), left) in ((1, 0, 0), (0, 1, 0)), body[:200]

    one_body()

    dead_total = sum(tally.dead_seen.values())
    print(f"{tally.sent} bodies: {len(calls.good)} handled, {dead_total} dead-lettered")
    assert tally.sent >= 1000
    assert calls.bad == []
    assert len(calls.good) + dead_total == tally.sent  # none silently deleted
    assert tally.without_reason == []
    assert tally.changed_bodies == []
    assert len(calls.good) >= 100  # the strategy does reach the handlers, not only the DLQ
    assert dead_total >= 300


def test_without_a_dead_letter_queue_poison_stays_in_the_queue() -> None:
    broker = MemoryBroker(visibility_timeout_s=30, max_receive_count=None, clock=ManualClock())
    calls = Calls()
    app = _contract_app(broker, calls)
    worker = app.worker()
    sent = 0

    @_settings(100)
    @given(body=bodies.bodies(CONTRACT, bomb_depth=5_000))
    def one_body(body: str) -> None:
        nonlocal sent
        broker.send(app.queue_name("default"), [OutgoingMessage(ref="hostile", body=body)])
        sent += 1
        worker.drain(raise_errors=False)

    one_body()

    left = len(broker.messages(app.queue_name("default")))
    assert calls.bad == []
    assert len(calls.good) + left == sent  # poison waits for its visibility timeout
    assert left >= 30


def test_a_sample_of_hostile_bodies_over_moto_ends_handled_or_dead_lettered(
    moto_server: MotoSqs,
) -> None:
    prefix = new_prefix()
    for queue in QUEUES:
        create_queue(moto_server, prefix + queue, visibility_timeout_s=30, max_receive_count=3)
    calls = Calls()
    app = App(
        broker_url=moto_server.broker_url("wait_time=1"), queue_prefix=prefix, contract=CONTRACT
    )
    _register_on(app, calls)
    queue_url = moto_server.client.get_queue_url(QueueName=prefix + "default")["QueueUrl"]
    sample: list[str] = []

    @_settings(1)
    @given(
        st.lists(
            bodies.bodies(CONTRACT, bomb_depth=20_000), min_size=MOTO_SAMPLE, max_size=MOTO_SAMPLE
        )
    )
    def draw(drawn: list[str]) -> None:
        sample[:] = drawn

    draw()
    # The handcrafted ones too, over HTTP (lone surrogates included: reasons are escaped).
    sample += bodies.nasty_bodies(20_000)
    for body in sample:
        moto_server.client.send_message(QueueUrl=queue_url, MessageBody=body)

    def dead_count() -> int:
        return app.queue_counts("default-dlq").visible

    worker = app.worker(queues=["default"], concurrency=2)
    runner = threading.Thread(target=worker.start, name="test-hostile-worker")
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while len(calls.good) + len(calls.bad) + dead_count() < len(sample):
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.2)
    finally:
        worker.stop()
        runner.join(60)
    assert not runner.is_alive()
    counts = app.queue_counts("default")
    dlq_url = moto_server.client.get_queue_url(QueueName=prefix + "default-dlq")["QueueUrl"]
    dead: list[dict[str, object]] = []
    while batch := moto_server.client.receive_message(
        QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        dead.extend(batch)  # type: ignore[arg-type]
    app.broker.close()

    assert calls.bad == []
    assert len(calls.good) + len(dead) + counts.visible + counts.in_flight == len(sample)
    assert len(calls.good) + len(dead) == len(sample)
    assert all(DEAD_LETTER_REASON_ATTRIBUTE in m.get("MessageAttributes", {}) for m in dead)  # type: ignore[operator]


def test_a_dead_letter_reason_holds_only_characters_sqs_accepts() -> None:
    """SQS refuses attribute values with lone surrogates or control characters other than
    tab, LF and CR; a reason quoting a hostile key must escape them, or the copy to the DLQ
    fails (on moto, the DLQ even becomes unreadable: every ReceiveMessage answers 500)."""
    broker = MemoryBroker(visibility_timeout_s=30, max_receive_count=3, clock=ManualClock())
    app = _contract_app(broker, Calls())
    hostile = [
        '{"task_name": "add", "task_payload": {"a": 1, "b": 2, "\\ud800": 3}}',
        '{"task_name": "add", "task_payload": {"a": 1, "b": 2, "\\u0002x": 3}}',
        '{"task_name": "plan_route", "task_payload": {"route": {"name": "r", "stops": [], '
        '"\\udfff": 1}}}',
    ]
    for body in hostile:
        broker.send(app.queue_name("default"), [OutgoingMessage(ref="hostile", body=body)])

    app.worker().drain(raise_errors=False)

    reasons = [
        m.attributes[DEAD_LETTER_REASON_ATTRIBUTE]
        for m in broker.messages(app.queue_name("default-dlq"))
    ]
    assert len(reasons) == 3
    refused = [
        (reason, char) for reason in reasons for char in reason if not bodies.sqs_allowed(char)
    ]
    assert refused == []


def _deep_list(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def _deep_dict(depth: int) -> dict[str, object]:
    value: dict[str, object] = {}
    for _ in range(depth):
        value = {"k": value}
    return value


def test_a_nesting_bomb_body_is_a_decode_error() -> None:
    from simple_worker import MessageDecodeError
    from simple_worker.wire import decode_body

    for body in ("[" * 1_000_000, '{"a":' * 200_000, bodies.nasty_bodies(100_000)[1]):
        with pytest.raises(MessageDecodeError, match="nested too deeply"):
            decode_body(body)


def test_deeply_nested_payloads_are_validation_errors_at_both_ends() -> None:
    from simple_worker import PayloadValidationError
    from simple_worker.validation import ContractValidator

    validator = ContractValidator(CONTRACT)
    for task in CONTRACT.tasks.values():
        for deep in (_deep_list(50_000), _deep_dict(50_000)):
            payload = {arg.name: deep for arg in task.args}
            with pytest.raises(PayloadValidationError):
                validator.incoming(task.name, payload)
            with pytest.raises(PayloadValidationError):
                validator.outgoing(task.name, payload)


def test_a_deeply_nested_payload_without_a_contract_is_a_validation_error_not_a_crash() -> None:
    """Without a contract, add_task checks the payload is JSON by walking it recursively."""
    from simple_worker import PayloadValidationError

    app = App(broker=MemoryBroker())

    @app.register_task_handler("anything")
    def anything(value: object) -> None:
        pass

    for deep in (_deep_list(100_000), _deep_dict(100_000)):
        with pytest.raises(PayloadValidationError):
            app.add_task("anything", {"value": deep})


@pytest.fixture
def sqs_app(moto_server: MotoSqs) -> Iterator[App]:
    prefix = new_prefix()
    create_queue(moto_server, prefix + "default", visibility_timeout_s=30)
    app = App(broker_url=moto_server.broker_url(), queue_prefix=prefix)

    @app.register_task_handler("store")
    def store(blob: str) -> None:
        pass

    yield app
    app.broker.close()


def test_an_oversize_payload_on_sqs_is_refused_before_anything_is_sent(sqs_app: App) -> None:
    too_big = "x" * 1_048_576

    with pytest.raises(PayloadTooLargeError):
        sqs_app.add_task("store", {"blob": too_big})
    assert isinstance(sqs_app.broker, SqsBroker)
    assert sqs_app.broker.api_calls() == {}  # over the app's limit: refused before any call

    def small_then_too_big_in_a_batch() -> None:
        with sqs_app.batch():
            sqs_app.add_task("store", {"blob": "small"})
            sqs_app.add_task("store", {"blob": too_big})

    with pytest.raises(PayloadTooLargeError):
        small_then_too_big_in_a_batch()

    assert isinstance(sqs_app.broker, SqsBroker)
    calls = sqs_app.broker.api_calls()
    # Only lookups (the queue's URL and its MaximumMessageSize), nothing sent.
    assert set(calls) <= {"GetQueueUrl", "GetQueueAttributes"}
    assert sqs_app.queue_counts("default").visible == 0
