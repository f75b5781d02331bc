"""``iam_policy``: the document's shape, and that it covers every call a real run makes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest

from generated import CONTRACT
from simple_worker import App, RetryBackoff
from simple_worker.brokers.sqs import SqsBroker
from simple_worker.iam import iam_policy
from simple_worker.queue_names import dead_letter_queue_name
from tests.reliability.harness import create_queue, new_prefix
from tests.sqs_server import MotoSqs

AUTHORISED_BY = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def _statements(policy: Mapping[str, object]) -> list[dict[str, Any]]:
    statements = policy["Statement"]
    assert isinstance(statements, list)
    return statements


def test_the_producer_policy_sends_to_the_contract_queues_only() -> None:
    policy = iam_policy(
        CONTRACT, prefix="myapp-", role="producer", region="eu-west-1", account_id="123456789012"
    )

    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ProduceTasks",
                "Effect": "Allow",
                "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
                "Resource": [
                    "arn:aws:sqs:eu-west-1:123456789012:myapp-default",
                    "arn:aws:sqs:eu-west-1:123456789012:myapp-emails",
                    "arn:aws:sqs:eu-west-1:123456789012:myapp-reports",
                ],
            }
        ],
    }
    json.dumps(policy)  # JSON-ready


def test_the_worker_policy_consumes_the_queues_and_may_only_send_to_the_dead_letter_queues() -> (
    None
):
    statements = _statements(iam_policy(CONTRACT, prefix="p-", role="worker"))

    assert [s["Sid"] for s in statements] == ["ConsumeTasks", "DeadLetter"]
    consume, dead = statements
    assert consume["Action"] == [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
    ]
    assert consume["Resource"] == [
        f"arn:aws:sqs:*:*:p-{q}" for q in ("default", "emails", "reports")
    ]
    assert dead["Action"] == ["sqs:GetQueueUrl", "sqs:SendMessage"]
    assert dead["Resource"] == [
        f"arn:aws:sqs:*:*:p-{q}-dlq" for q in ("default", "emails", "reports")
    ]


def test_fifo_queues_have_fifo_dead_letter_queues() -> None:
    assert dead_letter_queue_name("p-orders.fifo") == "p-orders-dlq.fifo"
    assert dead_letter_queue_name("p-orders") == "p-orders-dlq"


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="role must be"):
        iam_policy(CONTRACT, prefix="p-", role="admin")  # type: ignore[arg-type]


class _CallLog:
    """(operation, queue name) of every request a broker's client makes."""

    def __init__(self, broker: SqsBroker) -> None:
        self.calls: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        # A private hook, for the queue names: api_calls() counts operations only.
        broker._client().meta.events.register("before-parameter-build.sqs.*", self._record)

    def _record(self, model: Any, params: Mapping[str, Any], **_: object) -> None:
        name = params.get("QueueName") or str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]
        with self._lock:
            self.calls.add((model.name, name))


def _allowed(policy: Mapping[str, object]) -> set[tuple[str, str]]:
    return {
        (action.removeprefix("sqs:"), resource.rsplit(":", 1)[-1])
        for statement in _statements(policy)
        for action in statement["Action"]
        for resource in statement["Resource"]
    }


def test_the_policies_cover_every_call_of_a_real_producer_and_worker(moto_server: MotoSqs) -> None:
    prefix = new_prefix()
    for queue in ("default", "emails", "reports"):
        create_queue(moto_server, prefix + queue, visibility_timeout_s=2, max_receive_count=2)
    url = moto_server.broker_url("wait_time=1")
    producer = App(broker_url=url, queue_prefix=prefix, contract=CONTRACT)
    worker_app = App(broker_url=url, queue_prefix=prefix, contract=CONTRACT)
    done: list[str] = []

    @worker_app.register_task_handler("add")
    def add(a: int, b: int) -> None:
        worker_app.add_task(
            "send_welcome_email",
            {"user_id": a, "email": "a@b.c", "referrer": None, "shipping": None},
        )
        done.append("add")

    @worker_app.register_task_handler("always_fails")
    def always_fails(reason: str) -> None:
        done.append("always_fails")
        raise RuntimeError(reason)

    @worker_app.register_task_handler("send_welcome_email")
    def send_welcome_email(*, user_id, email, locale, tags, referrer, shipping):  # type: ignore[no-untyped-def]
        done.append("send_welcome_email")

    assert isinstance(producer.broker, SqsBroker)
    assert isinstance(worker_app.broker, SqsBroker)
    producer_log, worker_log = _CallLog(producer.broker), _CallLog(worker_app.broker)

    producer.add_task("add", {"a": 1, "b": 2})
    with producer.batch():
        producer.add_task("add", {"a": 3, "b": 4})
        producer.add_task("always_fails", {"reason": "on purpose"})
    queue_url = moto_server.client.get_queue_url(QueueName=prefix + "default")["QueueUrl"]
    moto_server.client.send_message(QueueUrl=queue_url, MessageBody="poison")

    # Concurrency 6: a budget with room for every receiver's 10 at once.
    worker = worker_app.worker(
        queues=["default", "emails"], concurrency=6, retry_backoff=RetryBackoff(base_s=1, max_s=1)
    )
    runner = threading.Thread(target=worker.start, name="test-iam-worker")
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while not (done.count("send_welcome_email") >= 2 and done.count("always_fails") >= 2):
            assert time.monotonic() < deadline, f"timed out: {done}"
            time.sleep(0.1)
    finally:
        worker.stop()
        runner.join(60)

    for app, log, role in (
        (producer, producer_log, "producer"),
        (worker_app, worker_log, "worker"),
    ):
        assert isinstance(app.broker, SqsBroker)
        operations = set(app.broker.api_calls())
        allowed = _allowed(iam_policy(CONTRACT, prefix=prefix, role=role))  # type: ignore[arg-type]
        actions = {action for action, _ in allowed}
        assert {AUTHORISED_BY.get(op, op) for op in operations} <= actions, role
        made = {(AUTHORISED_BY.get(op, op), queue) for op, queue in log.calls}
        assert made <= allowed, (role, made - allowed)
        app.broker.close()
    # The run did exercise what the worker policy grants.
    worker_operations = {AUTHORISED_BY.get(op, op) for op, _ in worker_log.calls}
    assert worker_operations >= {
        "ReceiveMessage",
        "DeleteMessage",
        "ChangeMessageVisibility",
        "SendMessage",
        "GetQueueUrl",
        "GetQueueAttributes",
    }
    assert ("SendMessage", prefix + "default-dlq") in worker_log.calls
