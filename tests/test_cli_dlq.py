"""``simple-worker dlq peek|redrive`` against moto's server; a redrive interrupted loses nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest

from simple_worker.brokers.base import OutgoingMessage, ReceivedMessage
from simple_worker.brokers.sqs import SqsBroker
from simple_worker.cli.main import main
from simple_worker.dead_letters import RECEIVE_COUNT_ATTRIBUTE, SOURCE_QUEUE_ATTRIBUTE
from simple_worker.errors import BrokerError
from simple_worker.ops.dlq import redrive
from simple_worker.wire import DEAD_LETTER_REASON_ATTRIBUTE, TASK_ID_ATTRIBUTE
from tests.sqs_server import MotoSqs


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _dead_letter(i: int, source: str) -> OutgoingMessage:
    return OutgoingMessage(
        ref=f"m{i}",
        body=f'{{"task_name": "add", "task_payload": {{"a": {i}, "b": "two"}}}}',
        attributes={
            TASK_ID_ATTRIBUTE: f"task-{i}",
            DEAD_LETTER_REASON_ATTRIBUTE: "PayloadValidationError: b: expected int",
            SOURCE_QUEUE_ATTRIBUTE: source,
            RECEIVE_COUNT_ATTRIBUTE: "1",
        },
    )


@pytest.fixture
def dlq(moto_server: MotoSqs, capsys: pytest.CaptureFixture[str]) -> tuple[str, SqsBroker]:
    """A prefix whose queue "default" has a dead-letter queue holding 25 dead letters."""
    prefix = f"d{uuid.uuid4().hex[:8]}-"
    assert main(["queues", "ensure", "default", "--dlq", "--broker", moto_server.broker_url(),
                 "--prefix", prefix]) == 0  # fmt: skip
    capsys.readouterr()
    broker = moto_server.broker()
    source = f"{prefix}default"
    broker.send(f"{source}-dlq", [_dead_letter(i, source) for i in range(25)])
    return prefix, broker


def _all(broker: SqsBroker, queue_name: str) -> list[ReceivedMessage]:
    """Every message of a queue (received, so they stay invisible: the end of a test)."""
    found: list[ReceivedMessage] = []
    while batch := broker.receive(queue_name, max_messages=10, wait_s=0):
        found += batch
    return found


def test_peek_shows_dead_letters_and_leaves_them(
    moto_server: MotoSqs, dlq: tuple[str, SqsBroker], capsys: pytest.CaptureFixture[str]
) -> None:
    prefix, broker = dlq
    code, out, _ = _run(
        capsys, "dlq", "peek", "default", "--limit", "3",
        "--broker", moto_server.broker_url(), "--prefix", prefix,
    )  # fmt: skip

    assert code == 0
    assert out.count("add  message ") == 3
    assert "  reason:   PayloadValidationError: b: expected int\n" in out
    assert f"  source:   {prefix}default\n" in out
    assert "  task id:  task-" in out
    assert '  payload:  {"a": ' in out
    assert out.endswith(f"3 message(s) shown from {prefix}default-dlq, left in place\n")
    assert broker.counts(f"{prefix}default-dlq").visible == 25


def test_peek_of_an_empty_dead_letter_queue(
    moto_server: MotoSqs, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = f"d{uuid.uuid4().hex[:8]}-"
    main(["queues", "ensure", "q", "--dlq", "--broker", moto_server.broker_url(),
          "--prefix", prefix])  # fmt: skip
    capsys.readouterr()
    code, out, _ = _run(
        capsys, "dlq", "peek", "q", "--broker", moto_server.broker_url(), "--prefix", prefix
    )
    assert code == 0
    assert out == f"{prefix}q-dlq is empty\n"


def test_redrive_moves_everything_back_keeping_the_task_id_only(
    moto_server: MotoSqs, dlq: tuple[str, SqsBroker], capsys: pytest.CaptureFixture[str]
) -> None:
    prefix, broker = dlq
    code, out, err = _run(
        capsys, "dlq", "redrive", "default", "--broker", moto_server.broker_url(),
        "--prefix", prefix,
    )  # fmt: skip

    assert code == 0
    assert out == f"moved 25 message(s) from {prefix}default-dlq to {prefix}default\n"
    assert "25/25" in err  # the progress line
    assert broker.counts(f"{prefix}default-dlq").visible == 0
    moved = _all(broker, f"{prefix}default")
    assert sorted(m.attributes[TASK_ID_ATTRIBUTE] for m in moved) == sorted(
        f"task-{i}" for i in range(25)
    )
    assert all(set(m.attributes) == {TASK_ID_ATTRIBUTE} for m in moved)
    assert all(m.body.startswith('{"task_name": "add"') for m in moved)


def test_redrive_with_a_limit(
    moto_server: MotoSqs, dlq: tuple[str, SqsBroker], capsys: pytest.CaptureFixture[str]
) -> None:
    prefix, broker = dlq
    code, out, _ = _run(
        capsys, "dlq", "redrive", "default", "--limit", "12",
        "--broker", moto_server.broker_url(), "--prefix", prefix,
    )  # fmt: skip

    assert code == 0
    assert out.startswith("moved 12 message(s)")
    assert broker.counts(f"{prefix}default-dlq").visible == 13
    assert broker.counts(f"{prefix}default").visible == 12


def test_redrive_to_a_missing_queue_fails_before_touching_anything(
    moto_server: MotoSqs, dlq: tuple[str, SqsBroker], capsys: pytest.CaptureFixture[str]
) -> None:
    prefix, broker = dlq
    code, _, err = _run(
        capsys, "dlq", "redrive", "nope", "--broker", moto_server.broker_url(), "--prefix", prefix
    )
    assert code == 1
    assert f"SQS queue '{prefix}nope' does not exist" in err
    assert broker.counts(f"{prefix}default-dlq").visible == 25


class _DeleteFailsAfter:
    """An SqsBroker whose ``ack`` raises once it has been called ``calls`` times."""

    def __init__(self, broker: SqsBroker, calls: int) -> None:
        self._broker = broker
        self._calls_left = calls

    def __getattr__(self, name: str) -> object:
        return getattr(self._broker, name)

    def ack(self, queue_name: str, receipts: Sequence[str]) -> list[str]:
        if self._calls_left == 0:
            raise BrokerError("simulated outage while deleting")
        self._calls_left -= 1
        return self._broker.ack(queue_name, receipts)


def test_an_interrupted_redrive_loses_nothing(dlq: tuple[str, SqsBroker]) -> None:
    prefix, broker = dlq
    source, dead_letter_queue = f"{prefix}default", f"{prefix}default-dlq"
    flaky = _DeleteFailsAfter(broker, calls=1)  # the second batch is sent, its delete fails

    with pytest.raises(BrokerError, match="simulated outage"):
        redrive(flaky, dead_letter_queue, source)  # type: ignore[arg-type]

    in_source = [m.attributes[TASK_ID_ATTRIBUTE] for m in _all(broker, source)]
    # The failed batch was released at once: it is visible again, not stuck in flight.
    in_dlq = [m.attributes[TASK_ID_ATTRIBUTE] for m in _all(broker, dead_letter_queue)]
    assert len(in_source) == 20
    assert len(in_dlq) == 15
    assert set(in_source) | set(in_dlq) == {f"task-{i}" for i in range(25)}
    assert len(set(in_source) & set(in_dlq)) == 10  # duplicated, never lost
