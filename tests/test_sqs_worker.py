"""The worker on SQS over real HTTP (moto's server): cost, idling, stopping, crashing, DLQs, FIFO.

moto's server is slow (tens of round trips per second) and, like SQS, at-least-once: the tests
assert "every task at least once, duplicates within a stated bound", never exactly-once over
the wire, except where the worker itself guarantees it (graceful stop, heartbeat).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simple_worker import App, QueueNotFoundError, Worker
from simple_worker.brokers.sqs import SqsBroker
from simple_worker.wire import DEAD_LETTER_REASON_ATTRIBUTE
from tests.sqs_server import MotoSqs

REPO_ROOT = Path(__file__).resolve().parent.parent


def _prefix() -> str:
    return f"w{uuid.uuid4().hex[:8]}-"


def _create_queue(
    moto: MotoSqs,
    name: str,
    *,
    visibility_timeout_s: int = 30,
    max_receive_count: int | None = None,
    attributes: dict[str, str] | None = None,
) -> None:
    """Create ``name`` (and with ``max_receive_count``, ``name-dlq`` plus a RedrivePolicy)."""
    queue_attributes = {"VisibilityTimeout": str(visibility_timeout_s), **(attributes or {})}
    if max_receive_count is not None:
        base, fifo = (name[:-5], ".fifo") if name.endswith(".fifo") else (name, "")
        dlq_attributes = {"FifoQueue": "true"} if fifo else {}
        dlq_url = moto.client.create_queue(
            QueueName=f"{base}-dlq{fifo}", Attributes=dlq_attributes
        )["QueueUrl"]
        dlq_arn = moto.client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        queue_attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
        )
    moto.client.create_queue(QueueName=name, Attributes=queue_attributes)  # type: ignore[arg-type]


def _run_until(worker: Worker, condition: Callable[[], bool], timeout_s: float) -> float:
    """Run ``worker.start()`` in a thread until ``condition()``; return the seconds it took."""
    runner = threading.Thread(target=worker.start, name="test-worker-runner")
    started = time.monotonic()
    runner.start()
    try:
        while not condition() and time.monotonic() - started < timeout_s:
            time.sleep(0.05)
        return time.monotonic() - started
    finally:
        worker.stop()
        runner.join(60)
        assert not runner.is_alive(), "the worker did not stop"


# Tests that stop workers use short long polls: a stop waits for the current poll to return.
QUICK_POLL = "wait_time=1"


@pytest.fixture
def app_on_moto(moto_server: MotoSqs) -> Iterator[App]:
    """An app on a fresh queue (visibility 2 s, DLQ after 2 receives), polling for 1 s."""
    prefix = _prefix()
    _create_queue(moto_server, f"{prefix}default", max_receive_count=2, visibility_timeout_s=2)
    app = App(broker_url=moto_server.broker_url(QUICK_POLL), queue_prefix=prefix)
    yield app
    app.broker.close()


@pytest.fixture
def app_polling_20s(moto_server: MotoSqs) -> Iterator[App]:
    """An app on a fresh queue with the production long poll of 20 s."""
    prefix = _prefix()
    _create_queue(moto_server, f"{prefix}default")
    app = App(broker_url=moto_server.broker_url(), queue_prefix=prefix)
    yield app
    app.broker.close()


def _api_calls(app: App) -> Counter[str]:
    assert isinstance(app.broker, SqsBroker)
    return Counter(app.broker.api_calls())


def test_a_thousand_batched_tasks_with_concurrency_8_cost_under_035_calls_each(
    app_polling_20s: App,
) -> None:
    app = app_polling_20s
    runs: Counter[int] = Counter()
    lock = threading.Lock()

    @app.register_task_handler("work")
    def work(i: int) -> None:
        with lock:
            runs[i] += 1

    def produce_while_consuming() -> None:
        # moto slows down as a queue grows, so keep the backlog near 200 (moto's cost, not ours).
        for first in range(0, 1000, 200):
            _wait_for(lambda produced=first: produced - len(runs) < 100, timeout_s=60)
            with app.batch():
                for i in range(first, first + 200):
                    app.add_task("work", {"i": i})

    producer = threading.Thread(target=produce_while_consuming, name="test-producer")
    producer.start()
    _run_until(app.worker(concurrency=8), lambda: len(runs) == 1000, timeout_s=120)
    producer.join(5)

    calls = _api_calls(app)
    duplicates = sum(runs.values()) - len(runs)
    print(f"API calls by action: {dict(calls)}; duplicates: {duplicates}")
    assert sorted(runs) == list(range(1000))
    assert duplicates <= 10  # moto may hand a message out twice; our worker never does
    assert calls["SendMessageBatch"] == 100
    assert sum(calls.values()) / 1000 <= 0.35
    assert app.queue_counts("default").visible == 0


def test_an_idle_worker_long_polls(app_polling_20s: App) -> None:
    @app_polling_20s.register_task_handler("work")
    def work(i: int) -> None:
        pass

    _run_until(app_polling_20s.worker(), lambda: False, timeout_s=30)

    receives = _api_calls(app_polling_20s)["ReceiveMessage"]
    assert 1 <= receives <= 3  # 20 s long polls: 2 started in 30 s, 2 per period at most


def _spawn_worker(moto: MotoSqs, prefix: str, results: Path, *extra: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reliability.worker_main",
            "--broker",
            moto.broker_url(QUICK_POLL),
            "--prefix",
            prefix,
            "--results",
            str(results),
            *extra,
        ],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _results(path: Path) -> Counter[int]:
    if not path.exists():
        return Counter()
    return Counter(int(line) for line in path.read_text().split())


def _wait_for(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _enqueue_work(app: App, count: int, sleep_ms: int) -> None:
    @app.register_task_handler("work")
    def work(i: int, sleep_ms: int = 0) -> None:
        pass

    with app.batch():
        for i in range(count):
            app.add_task("work", {"i": i, "sleep_ms": sleep_ms})


def test_sigterm_loses_nothing_duplicates_nothing_and_returns_unstarted_messages_at_once(
    moto_server: MotoSqs, tmp_path: Path
) -> None:
    prefix = _prefix()
    # A long visibility timeout: a message not returned at once would stay invisible.
    _create_queue(moto_server, f"{prefix}default", visibility_timeout_s=300)
    producer = App(broker_url=moto_server.broker_url(), queue_prefix=prefix)
    _enqueue_work(producer, 200, sleep_ms=30)
    results = tmp_path / "runs.txt"

    first = _spawn_worker(moto_server, prefix, results, "--concurrency", "4")
    _wait_for(lambda: sum(_results(results).values()) >= 40, timeout_s=60)
    first.send_signal(signal.SIGTERM)
    output, _ = first.communicate(timeout=60)

    assert first.returncode == 0, output
    assert "worker exited cleanly" in output
    after_stop = producer.queue_counts("default")
    done = _results(results)
    assert after_stop.in_flight == 0  # unstarted messages were made visible again at once
    assert after_stop.visible + sum(done.values()) == 200

    second = _spawn_worker(moto_server, prefix, results, "--concurrency", "4")
    try:
        _wait_for(lambda: len(_results(results)) == 200, timeout_s=90)
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=60)
    runs = _results(results)
    assert sorted(runs) == list(range(200))
    assert set(runs.values()) == {1}


def test_kill_9_loses_nothing_and_duplicates_at_most_what_was_held(
    moto_server: MotoSqs, tmp_path: Path
) -> None:
    prefix = _prefix()
    _create_queue(moto_server, f"{prefix}default", visibility_timeout_s=3)
    producer = App(broker_url=moto_server.broker_url(), queue_prefix=prefix)
    _enqueue_work(producer, 300, sleep_ms=10)
    results = tmp_path / "runs.txt"

    first = _spawn_worker(moto_server, prefix, results, "--concurrency", "4")
    _wait_for(lambda: sum(_results(results).values()) >= 100, timeout_s=60)
    first.kill()
    first.communicate(timeout=30)

    second = _spawn_worker(moto_server, prefix, results, "--concurrency", "4")
    try:
        _wait_for(lambda: len(_results(results)) == 300, timeout_s=120)
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=60)
    runs = _results(results)
    duplicates = sum(runs.values()) - len(runs)
    assert sorted(runs) == list(range(300))
    # At most what the killed worker held (2 x 4 + 10) plus acks not yet flushed (< 10).
    assert duplicates <= 2 * 4 + 10 + 10


def test_poison_goes_to_the_dlq_at_once_and_a_failing_task_after_max_receives(
    app_on_moto: App, moto_server: MotoSqs
) -> None:
    attempts: Counter[str] = Counter()

    @app_on_moto.register_task_handler("fails")
    def fails(reason: str) -> None:
        attempts[reason] += 1
        raise RuntimeError(reason)

    app_on_moto.add_task("fails", {"reason": "always"})
    queue_url = moto_server.client.get_queue_url(QueueName=app_on_moto.queue_name("default"))[
        "QueueUrl"
    ]
    moto_server.client.send_message(QueueUrl=queue_url, MessageBody="definitely not json")

    _run_until(
        app_on_moto.worker(),
        lambda: app_on_moto.queue_counts("default-dlq").visible >= 2,
        timeout_s=30,
    )

    assert attempts == {"always": 2}  # maxReceiveCount=2, then SQS's redrive
    dlq_url = moto_server.client.get_queue_url(QueueName=app_on_moto.queue_name("default-dlq"))[
        "QueueUrl"
    ]
    dead = moto_server.client.receive_message(
        QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    reasons = {
        m["Body"]: m.get("MessageAttributes", {}).get(DEAD_LETTER_REASON_ATTRIBUTE, {})
        for m in dead
    }
    assert reasons["definitely not json"]["StringValue"].startswith(
        "MessageDecodeError: body is not valid JSON"
    )


def test_a_task_longer_than_the_visibility_timeout_runs_once(app_on_moto: App) -> None:
    runs = []

    @app_on_moto.register_task_handler("slow")
    def slow() -> None:
        runs.append(time.monotonic())
        time.sleep(5)  # the queue's visibility timeout is 2 s

    app_on_moto.add_task("slow", {})
    started = time.monotonic()
    _run_until(
        app_on_moto.worker(concurrency=2),
        lambda: time.monotonic() - started > 7,
        timeout_s=10,
    )

    assert len(runs) == 1
    assert app_on_moto.queue_counts("default").visible == 0


FIFO_CONTRACT = """
version = 1

[tasks.step]
queue = "orders.fifo"
fifo_group = "order_id"
[tasks.step.args]
order_id = "str"
seq = "int"
"""


def test_fifo_keeps_the_order_within_a_group(moto_server: MotoSqs, tmp_path: Path) -> None:
    prefix = _prefix()
    _create_queue(
        moto_server,
        f"{prefix}orders.fifo",
        attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )
    contract_path = tmp_path / "tasks.toml"
    contract_path.write_text(FIFO_CONTRACT)
    app = App(
        broker_url=moto_server.broker_url(QUICK_POLL), queue_prefix=prefix, contract=contract_path
    )
    seen: dict[str, list[int]] = {}
    lock = threading.Lock()

    @app.register_task_handler("step")
    def step(order_id: str, seq: int) -> None:
        with lock:
            seen.setdefault(order_id, []).append(seq)

    with app.batch():
        for seq in range(15):
            for order_id in ("a", "b", "c"):
                app.add_task("step", {"order_id": order_id, "seq": seq})
    _run_until(
        app.worker(concurrency=4),
        lambda: sum(len(v) for v in seen.values()) >= 45,
        timeout_s=60,
    )

    assert seen == {order_id: list(range(15)) for order_id in ("a", "b", "c")}


def test_a_worker_on_a_missing_queue_fails_at_start(moto_server: MotoSqs) -> None:
    app = App(broker_url=moto_server.broker_url(QUICK_POLL), queue_prefix=_prefix())

    @app.register_task_handler("work")
    def work(i: int) -> None:
        pass

    with pytest.raises(QueueNotFoundError, match="default"):
        app.worker().start()
