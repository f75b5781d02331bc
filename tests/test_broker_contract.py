"""The broker contract: behaviour every broker must share, so the worker has one code path.

Each test runs against every broker fixture in ``BROKERS``: the memory broker (time moves through
a manual clock) and the SQS broker on moto's server over real HTTP (time cannot be moved there,
so its queue has a short visibility timeout and ``advance`` sleeps real time). Where the two may
differ, the fixture carries the difference as a parameter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import attrs
import pytest

from simple_worker import ManualClock, MemoryBroker
from simple_worker.brokers.base import Broker, OutgoingMessage
from tests.sqs_server import MotoSqs

Advance = Callable[[float], None]

_SQS_VISIBILITY_TIMEOUT_S = 1  # SQS's smallest non-zero timeout, so tests wait little
_SQS_DELAY_S = 1
_MARGIN_S = 0.5  # waited past a timeout, so a message is surely visible again


@attrs.frozen(kw_only=True)
class BrokerUnderTest:
    broker: Broker
    advance: Advance
    queue: str
    dead_letter_queue: str | None
    visibility_timeout_s: int
    """The queue's visibility timeout."""
    delay_s: int
    """A message delay the tests wait out."""
    stale_receipt_fails_ack: bool
    """Whether acking with a receipt from an earlier receive is reported as failed. SQS may
    accept it (AWS: "the request succeeds, but the message might not be deleted"; moto deletes)."""

    def wait_out_visibility(self) -> None:
        self.advance(self.visibility_timeout_s + _MARGIN_S)

    def wait_out_delay(self) -> None:
        self.advance(self.delay_s + _MARGIN_S)


def _memory(request: pytest.FixtureRequest) -> Iterator[BrokerUnderTest]:
    clock = ManualClock()
    broker = MemoryBroker(visibility_timeout_s=30, max_receive_count=2, clock=clock)
    yield BrokerUnderTest(
        broker=broker,
        advance=clock.advance,
        queue="q-main",
        dead_letter_queue="q-main-dlq",
        visibility_timeout_s=30,
        delay_s=60,
        stale_receipt_fails_ack=True,
    )


def _sqs(request: pytest.FixtureRequest) -> Iterator[BrokerUnderTest]:
    moto: MotoSqs = request.getfixturevalue("moto_server")
    queue, dead_letter_queue = moto.create_queue_pair(
        visibility_timeout_s=_SQS_VISIBILITY_TIMEOUT_S, max_receive_count=2
    )
    broker = moto.broker()
    try:
        yield BrokerUnderTest(
            broker=broker,
            advance=time.sleep,
            queue=queue,
            dead_letter_queue=dead_letter_queue,
            visibility_timeout_s=_SQS_VISIBILITY_TIMEOUT_S,
            delay_s=_SQS_DELAY_S,
            stale_receipt_fails_ack=False,
        )
    finally:
        broker.close()


BROKERS = {"memory": _memory, "sqs": _sqs}


@pytest.fixture(params=sorted(BROKERS))
def under_test(request: pytest.FixtureRequest) -> Iterator[BrokerUnderTest]:
    yield from BROKERS[request.param](request)


def _message(body: str, *, delay_s: int = 0) -> OutgoingMessage:
    return OutgoingMessage(ref=body, body=body, attributes={"k": body}, delay_s=delay_s)


def _bodies(under_test: BrokerUnderTest, max_messages: int = 10) -> list[str]:
    received = under_test.broker.receive(under_test.queue, max_messages=max_messages, wait_s=0)
    return sorted(m.body for m in received)


def test_sent_messages_are_received_with_body_and_attributes(under_test: BrokerUnderTest) -> None:
    ids = under_test.broker.send(under_test.queue, [_message("a"), _message("b")])

    received = under_test.broker.receive(under_test.queue, max_messages=10, wait_s=0)

    assert len(set(ids)) == 2
    assert sorted((m.body, dict(m.attributes), m.receive_count) for m in received) == [
        ("a", {"k": "a"}, 1),
        ("b", {"k": "b"}, 1),
    ]
    assert {m.message_id for m in received} == set(ids)


def test_receive_returns_at_most_max_messages(under_test: BrokerUnderTest) -> None:
    under_test.broker.send(under_test.queue, [_message(str(i)) for i in range(5)])

    assert len(under_test.broker.receive(under_test.queue, max_messages=3, wait_s=0)) == 3


def test_a_received_message_is_invisible_until_its_timeout(under_test: BrokerUnderTest) -> None:
    under_test.broker.send(under_test.queue, [_message("a")])
    first = under_test.broker.receive(under_test.queue, max_messages=10, wait_s=0)

    assert _bodies(under_test) == []
    under_test.wait_out_visibility()
    again = under_test.broker.receive(under_test.queue, max_messages=10, wait_s=0)

    assert [m.receive_count for m in first + again] == [1, 2]


def test_an_acked_message_is_gone(under_test: BrokerUnderTest) -> None:
    under_test.broker.send(under_test.queue, [_message("a")])
    (message,) = under_test.broker.receive(under_test.queue, max_messages=10, wait_s=0)

    failed = under_test.broker.ack(under_test.queue, [message.receipt])
    under_test.wait_out_visibility()

    assert failed == []
    assert _bodies(under_test) == []


def test_after_a_redelivery_the_latest_receipt_acks(under_test: BrokerUnderTest) -> None:
    under_test.broker.send(under_test.queue, [_message("a")])
    (first,) = under_test.broker.receive(under_test.queue, max_messages=10, wait_s=0)
    under_test.wait_out_visibility()
    (second,) = under_test.broker.receive(under_test.queue, max_messages=10, wait_s=0)

    stale_failed = under_test.broker.ack(under_test.queue, [first.receipt])
    assert under_test.broker.ack(under_test.queue, [second.receipt]) == []

    assert stale_failed == ([first.receipt] if under_test.stale_receipt_fails_ack else [])


def test_visibility_zero_makes_a_message_visible_at_once(under_test: BrokerUnderTest) -> None:
    under_test.broker.send(under_test.queue, [_message("a")])
    (message,) = under_test.broker.receive(under_test.queue, max_messages=10, wait_s=0)

    under_test.broker.change_visibility(under_test.queue, [(message.receipt, 0)])

    assert _bodies(under_test) == ["a"]


def test_a_delayed_message_appears_after_its_delay(under_test: BrokerUnderTest) -> None:
    under_test.broker.send(under_test.queue, [_message("late", delay_s=under_test.delay_s)])

    assert _bodies(under_test) == []
    assert under_test.broker.counts(under_test.queue).delayed == 1
    under_test.wait_out_delay()
    assert _bodies(under_test) == ["late"]


def test_counts_tell_visible_in_flight_and_delayed(under_test: BrokerUnderTest) -> None:
    under_test.broker.send(
        under_test.queue,
        [_message("a"), _message("b"), _message("c", delay_s=under_test.delay_s)],
    )
    under_test.broker.receive(under_test.queue, max_messages=1, wait_s=0)

    counts = under_test.broker.counts(under_test.queue)

    assert (counts.visible, counts.in_flight, counts.delayed) == (1, 1, 1)


def test_a_message_moves_to_the_dead_letter_queue_after_max_receives(
    under_test: BrokerUnderTest,
) -> None:
    assert under_test.dead_letter_queue is not None
    under_test.broker.send(under_test.queue, [_message("bad")])
    for _ in range(2):  # max_receive_count=2
        assert _bodies(under_test) == ["bad"]
        under_test.wait_out_visibility()

    assert _bodies(under_test) == []
    dead = under_test.broker.receive(under_test.dead_letter_queue, max_messages=10, wait_s=0)
    assert [(m.body, dict(m.attributes)) for m in dead] == [("bad", {"k": "bad"})]


def test_the_dead_letter_queue_is_named_after_its_queue(under_test: BrokerUnderTest) -> None:
    assert under_test.broker.dead_letter_queue(under_test.queue) == under_test.dead_letter_queue


def test_receive_waits_for_a_message_up_to_wait_s(under_test: BrokerUnderTest) -> None:
    assert under_test.broker.receive(under_test.queue, max_messages=1, wait_s=0.1) == []
