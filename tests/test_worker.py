"""The worker on the memory broker: running, retrying, dead-lettering, draining, stopping."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from simple_worker import App, BrokerError, ManualClock, MemoryBroker, RunningTask
from simple_worker.brokers.base import OutgoingMessage
from simple_worker.wire import DEAD_LETTER_REASON_ATTRIBUTE


def test_the_seed_example_runs_verbatim_on_the_memory_broker() -> None:
    calls = []
    from simple_worker import App

    app = App.init(broker_url="memory://localhost", queue_prefix="your-prefix-")

    @app.register_task_handler("my_task")
    def my_task_handler(a, b):  # type: ignore[no-untyped-def]
        calls.append((a, b))

    app.add_task("my_task", {"a": 1, "b": 2})
    worker = app.worker()
    _stop_when(worker.stop, lambda: bool(calls))
    worker.start()

    assert calls == [(1, 2)]
    assert app.queue_counts("default") == app.queue_counts("default").__class__(
        visible=0, in_flight=0, delayed=0
    )


def _stop_when(stop: object, condition: object, timeout_s: float = 10) -> None:
    def watch() -> None:
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
            time.sleep(0.01)
        stop()  # type: ignore[operator]

    threading.Thread(target=watch, name="test-stopper", daemon=True).start()


def test_drain_runs_every_task_and_returns_how_many(app: App) -> None:
    seen = []

    @app.register_task_handler("add")
    def add(a: int, b: int) -> None:
        seen.append(a + b)

    for i in range(25):
        app.add_task("add", {"a": i, "b": 1})

    assert app.worker().drain() == 25
    assert sorted(seen) == list(range(1, 26))
    assert app.queue_counts("default").in_flight == 0


def test_drain_runs_tasks_that_handlers_enqueue(app: App) -> None:
    seen = []

    @app.register_task_handler("countdown")
    def countdown(n: int) -> None:
        seen.append(n)
        if n > 0:
            app.add_task("countdown", {"n": n - 1})

    app.add_task("countdown", {"n": 5})

    assert app.worker().drain() == 6
    assert seen == [5, 4, 3, 2, 1, 0]


def test_drain_does_not_wait_for_delayed_tasks(app: App) -> None:
    @app.register_task_handler("t")
    def t() -> None:
        pass

    app.add_task("t", {}, delay_seconds=60)

    assert app.worker().drain() == 0
    assert app.queue_counts("default").delayed == 1


def _register_failing(app: App) -> None:
    @app.register_task_handler("fails")
    def fails(reason: str) -> None:
        raise ValueError(reason)


def test_drain_raises_the_first_handler_error_with_the_task_named(app: App) -> None:
    _register_failing(app)
    task_id = app.add_task("fails", {"reason": "no luck"})

    with pytest.raises(ValueError, match="no luck") as caught:
        app.worker().drain()

    (note,) = caught.value.__notes__
    assert note.startswith(f"raised by task 'fails' (task id {task_id}, message ")
    assert app.queue_counts("default").in_flight == 1  # not acked: it will be retried


def test_drain_without_raise_errors_logs_and_counts(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    _register_failing(app)
    app.add_task("fails", {"reason": "no luck"})

    with caplog.at_level(logging.ERROR, logger="simple_worker"):
        assert app.worker().drain(raise_errors=False) == 1

    (record,) = caplog.records
    assert record.name == "simple_worker.worker"
    assert record.task_name == "fails"  # type: ignore[attr-defined]
    assert record.queue == "test-default"  # type: ignore[attr-defined]
    assert "receive count 1" in record.getMessage()
    assert record.message_id in record.getMessage()  # type: ignore[attr-defined]


def test_a_failed_task_comes_back_after_the_visibility_timeout_then_dead_letters(
    app: App, clock: ManualClock, broker: MemoryBroker
) -> None:
    receive_counts = []

    @app.register_task_handler("fails")
    def fails() -> None:
        raise RuntimeError("always")

    @app.task_context
    def remember(task: RunningTask) -> contextlib.AbstractContextManager[None]:
        receive_counts.append(task.receive_count)
        return contextlib.nullcontext()

    app.add_task("fails", {})
    worker = app.worker()
    assert worker.drain(raise_errors=False) == 1
    assert worker.drain(raise_errors=False) == 0  # invisible for 30 s
    clock.advance(31)
    assert worker.drain(raise_errors=False) == 1
    clock.advance(31)
    assert worker.drain(raise_errors=False) == 1
    clock.advance(31)
    assert worker.drain(raise_errors=False) == 0  # max_receive_count=3 reached

    assert receive_counts == [1, 2, 3]
    assert app.queue_counts("default-dlq").visible == 1
    (dead,) = broker.messages("test-default-dlq")
    assert dead.receive_count == 3


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "MessageDecodeError: body is not valid JSON"),
        ('{"task_name": "nope", "task_payload": {}}', "UnknownTaskError: unknown task 'nope'"),
        (
            '{"task_name": "add", "task_payload": {"a": 1, "zz": 2}}',
            "PayloadValidationError: invalid payload for task 'add' (2 problems)\n  b: missing",
        ),
    ],
)
def test_a_poison_message_goes_to_the_dead_letter_queue_with_its_reason(
    app: App, broker: MemoryBroker, body: str, reason: str
) -> None:
    calls = []

    @app.register_task_handler("add")
    def add(a: int, b: int) -> None:
        calls.append((a, b))

    broker.send("test-default", [OutgoingMessage(ref="x", body=body)])

    assert app.worker().drain(raise_errors=False) == 0

    assert calls == []
    assert app.queue_counts("default") == app.queue_counts("nothing")
    (dead,) = broker.messages("test-default-dlq")
    assert dead.body == body
    assert dead.attributes[DEAD_LETTER_REASON_ATTRIBUTE].startswith(reason)


def test_a_poison_message_stays_in_the_queue_without_a_dead_letter_queue() -> None:
    clock = ManualClock()
    app = App(broker=MemoryBroker(clock=clock))

    @app.register_task_handler("add")
    def add(a: int) -> None:
        pass

    app.broker.send("default", [OutgoingMessage(ref="x", body="garbage")])

    assert app.worker().drain(raise_errors=False) == 0
    assert app.queue_counts("default").in_flight == 1
    clock.advance(31)
    assert app.queue_counts("default").visible == 1


def test_drain_raises_for_a_poison_message_by_default(app: App, broker: MemoryBroker) -> None:
    broker.send("test-default", [OutgoingMessage(ref="x", body="garbage")])

    with pytest.raises(Exception, match="body is not valid JSON"):
        app.worker(queues=["default"]).drain()

    assert app.queue_counts("default-dlq").visible == 1


def test_task_context_wraps_every_handler_call_in_order(app: App) -> None:
    events = []

    @contextlib.contextmanager
    def outer(task: RunningTask) -> Iterator[None]:
        events.append(f"outer enter {task.name} {task.payload}")
        try:
            yield
        except ValueError as exc:
            events.append(f"outer saw {exc}")
            raise
        events.append("outer exit")

    @contextlib.contextmanager
    def inner(task: RunningTask) -> Iterator[None]:
        events.append("inner enter")
        yield
        events.append("inner exit")

    app.task_context(outer)
    app.task_context(inner)

    @app.register_task_handler("t")
    def t(x: int) -> None:
        events.append("handler")
        if x:
            raise ValueError("boom")

    app.add_task("t", {"x": 0})
    app.worker().drain()
    app.add_task("t", {"x": 1})
    with pytest.raises(ValueError, match="boom"):
        app.worker().drain()

    assert events == [
        "outer enter t {'x': 0}",
        "inner enter",
        "handler",
        "inner exit",
        "outer exit",
        "outer enter t {'x': 1}",
        "inner enter",
        "handler",
        "outer saw boom",
    ]


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt(), GeneratorExit()])
def test_a_handler_raising_a_base_exception_does_not_kill_the_worker(
    app: App, raised: BaseException
) -> None:
    ran = []

    @app.register_task_handler("bad")
    def bad() -> None:
        raise raised

    @app.register_task_handler("good")
    def good(i: int) -> None:
        ran.append(i)

    app.add_task("bad", {})
    for i in range(5):
        app.add_task("good", {"i": i})

    assert app.worker(concurrency=2).drain(raise_errors=False) == 6
    assert sorted(ran) == [0, 1, 2, 3, 4]
    assert app.queue_counts("default").in_flight == 1  # the bad one, left for retry


def test_concurrency_runs_handlers_in_parallel_without_losing_or_duplicating(app: App) -> None:
    runs: Counter[int] = Counter()
    lock = threading.Lock()
    running = 0
    most_running = 0

    @app.register_task_handler("work")
    def work(i: int) -> None:
        nonlocal running, most_running
        with lock:
            running += 1
            most_running = max(most_running, running)
        time.sleep(0.0005)
        with lock:
            running -= 1
            runs[i] += 1

    with app.batch():
        for i in range(1000):
            app.add_task("work", {"i": i})

    assert app.worker(concurrency=8).drain() == 1000
    assert sorted(runs) == list(range(1000))
    assert set(runs.values()) == {1}
    assert most_running > 1
    assert app.queue_counts("default") == app.queue_counts("empty")


def test_start_and_stop_from_another_thread(app: App) -> None:
    done = threading.Event()

    @app.register_task_handler("t")
    def t() -> None:
        done.set()

    app.add_task("t", {})
    worker = app.worker(concurrency=2)
    runner = threading.Thread(target=worker.start, name="test-worker")
    runner.start()
    assert done.wait(5)
    worker.stop()
    runner.join(5)

    assert not runner.is_alive()
    assert not [t for t in threading.enumerate() if t.name.startswith("simple-worker-")]
    assert app.queue_counts("default").in_flight == 0


def test_sigterm_stops_the_worker_gracefully_and_returns_unstarted_messages() -> None:
    script = textwrap.dedent(
        """
        import os, signal, time
        from simple_worker import App

        app = App.init(broker_url="memory://localhost", queue_prefix="sig-")
        ran = []

        @app.register_task_handler("slow")
        def slow(i):
            ran.append(i)
            if len(ran) == 1:
                os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)

        for i in range(30):
            app.add_task("slow", {"i": i})
        app.worker(concurrency=2).start()
        counts = app.queue_counts("default")
        print(f"ran={len(ran)} visible={counts.visible} in_flight={counts.in_flight}")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )

    assert result.returncode == 0, result.stderr
    ran, visible, in_flight = (int(part.split("=")[1]) for part in result.stdout.split())
    assert 1 <= ran <= 3
    assert (visible, in_flight) == (30 - ran, 0)


def test_a_long_task_is_not_run_twice_thanks_to_the_heartbeat() -> None:
    app = App(broker=MemoryBroker(visibility_timeout_s=1))
    runs = []

    @app.register_task_handler("slow")
    def slow() -> None:
        runs.append(time.monotonic())
        time.sleep(2.5)  # longer than two visibility timeouts

    app.add_task("slow", {})

    assert app.worker(concurrency=2).drain() == 1
    assert len(runs) == 1


def test_retry_backoff_sets_the_retry_delay_from_the_receive_count(
    app: App, clock: ManualClock
) -> None:
    from simple_worker import RetryBackoff

    _register_failing(app)
    app.add_task("fails", {"reason": "x"})
    worker = app.worker(retry_backoff=RetryBackoff(base_s=100, max_s=150))

    assert worker.drain(raise_errors=False) == 1
    clock.advance(31)  # the queue's visibility timeout is 30 s: not enough
    assert worker.drain(raise_errors=False) == 0
    clock.advance(70)
    assert worker.drain(raise_errors=False) == 1  # second receive: backoff 200 s, capped at 150
    clock.advance(149)
    assert worker.drain(raise_errors=False) == 0
    clock.advance(2)
    assert worker.drain(raise_errors=False) == 1


def test_retry_backoff_doubles_up_to_its_cap() -> None:
    from simple_worker import RetryBackoff

    backoff = RetryBackoff(base_s=10, max_s=900)

    assert [backoff.delay_s(n) for n in (1, 2, 3, 4, 8, 100)] == [10, 20, 40, 80, 900, 900]


FIFO_CONTRACT = """
version = 1

[tasks.step]
queue = "orders.fifo"
fifo_group = "order_id"
[tasks.step.args]
order_id = "str"
seq = "int"
"""


def test_fifo_groups_run_in_order_and_never_two_at_once(tmp_path: pytest.TempPathFactory) -> None:
    contract_path = tmp_path / "tasks.toml"  # type: ignore[operator]
    contract_path.write_text(FIFO_CONTRACT)
    app = App(broker=MemoryBroker(), contract=contract_path)
    seen: dict[str, list[int]] = {}
    running: set[str] = set()
    overlaps = []
    lock = threading.Lock()

    @app.register_task_handler("step")
    def step(order_id: str, seq: int) -> None:
        with lock:
            if order_id in running:
                overlaps.append((order_id, seq))
            running.add(order_id)
        time.sleep(0.001)
        with lock:
            running.discard(order_id)
            seen.setdefault(order_id, []).append(seq)

    with app.batch():
        for seq in range(30):
            for order_id in ("a", "b", "c"):
                app.add_task("step", {"order_id": order_id, "seq": seq})

    assert app.worker(concurrency=4).drain() == 90
    assert seen == {order_id: list(range(30)) for order_id in ("a", "b", "c")}
    assert overlaps == []


def test_a_failure_in_a_fifo_group_holds_back_the_rest_of_the_group(
    tmp_path: pytest.TempPathFactory,
) -> None:
    contract_path = tmp_path / "tasks.toml"  # type: ignore[operator]
    contract_path.write_text(FIFO_CONTRACT)
    clock = ManualClock()
    app = App(broker=MemoryBroker(clock=clock), contract=contract_path)
    seen = []

    @app.register_task_handler("step")
    def step(order_id: str, seq: int) -> None:
        seen.append(seq)
        if seq == 1 and seen.count(1) == 1:
            raise RuntimeError("first attempt at seq 1 fails")

    with app.batch():
        for seq in range(4):
            app.add_task("step", {"order_id": "a", "seq": seq})

    assert app.worker().drain(raise_errors=False) == 2  # 0, then 1 fails; 2 and 3 wait
    clock.advance(31)
    assert app.worker().drain(raise_errors=False) == 3
    assert seen == [0, 1, 1, 2, 3]


def test_fifo_deduplicates_identical_bodies(tmp_path: pytest.TempPathFactory) -> None:
    contract_path = tmp_path / "tasks.toml"  # type: ignore[operator]
    contract_path.write_text(FIFO_CONTRACT)
    app = App(broker=MemoryBroker(), contract=contract_path)

    app.add_task("step", {"order_id": "a", "seq": 1})
    app.add_task("step", {"order_id": "a", "seq": 1})

    assert app.queue_counts("orders.fifo").visible == 1


class _FlakyBroker(MemoryBroker):
    """Receives fail ``failures`` times (an outage), then work again."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures_left = failures

    def receive(self, queue_name: str, *, max_messages: int, wait_s: float) -> list:  # type: ignore[type-arg]
        if self.failures_left > 0:
            self.failures_left -= 1
            raise BrokerError("ReceiveMessage failed: connection refused")
        return super().receive(queue_name, max_messages=max_messages, wait_s=wait_s)


def test_the_receive_loop_survives_an_outage_and_logs_it_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = _FlakyBroker(failures=2)
    app = App(broker=broker)
    done = threading.Event()

    @app.register_task_handler("t")
    def t() -> None:
        done.set()

    app.add_task("t", {})
    worker = app.worker()
    _stop_when(worker.stop, done.is_set, timeout_s=15)
    with caplog.at_level(logging.INFO, logger="simple_worker"):
        worker.start()

    assert done.is_set()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("cannot receive from default" in m for m in messages) == 1
    assert sum("receiving from default again after" in m for m in messages) == 1


CONTRACT = """
version = 1

[tasks.greet]
[tasks.greet.args]
name = "str"
times = { type = "int", default = 1 }
"""


def test_with_a_contract_a_bad_payload_is_poison_and_defaults_are_filled(
    tmp_path: pytest.TempPathFactory,
) -> None:
    contract_path = tmp_path / "tasks.toml"  # type: ignore[operator]
    contract_path.write_text(CONTRACT)
    app = App(broker=MemoryBroker(max_receive_count=3), contract=contract_path)
    calls = []

    @app.register_task_handler("greet")
    def greet(name: str, times: int) -> None:
        calls.append((name, times))

    # An old producer (0.2.x) that does not know `times`, and one that sends a wrong type.
    for payload in ('{"name": "ann"}', '{"name": 5}'):
        body = '{"task_name": "greet", "task_payload": ' + payload + "}"
        app.broker.send("default", [OutgoingMessage(ref="x", body=body)])

    assert app.worker().drain(raise_errors=False) == 1
    assert calls == [("ann", 1)]
    (dead,) = app.broker.messages("default-dlq")  # type: ignore[attr-defined]
    assert dead.attributes[DEAD_LETTER_REASON_ATTRIBUTE] == (
        "PayloadValidationError: invalid payload for task 'greet' (1 problem)\n"
        "  name: expected str, got int (5)"
    )


def test_a_second_sigterm_stops_without_waiting_for_running_tasks() -> None:
    script = textwrap.dedent(
        """
        import os, signal, threading, time
        from simple_worker import App

        app = App.init(broker_url="memory://localhost")
        started = threading.Event()

        @app.register_task_handler("stuck")
        def stuck():
            started.set()
            time.sleep(60)

        def signal_twice():
            started.wait(10)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGTERM)

        app.add_task("stuck", {})
        threading.Thread(target=signal_twice, daemon=True).start()
        began = time.monotonic()
        app.worker(shutdown_grace_s=60).start()
        print(f"stopped after {time.monotonic() - began:.1f} s", flush=True)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )

    assert result.returncode == 0, result.stderr
    assert float(result.stdout.split()[2]) < 5
    assert "second signal: stopping without waiting for running tasks" in result.stderr


def test_messages_carry_fingerprints_and_foreign_ones_are_counted(
    tmp_path: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    from simple_worker.provenance import TASK_FINGERPRINT_ATTRIBUTE

    contract_path = tmp_path / "tasks.toml"  # type: ignore[operator]
    contract_path.write_text(CONTRACT)
    app = App(broker=MemoryBroker(), contract=contract_path)

    @app.register_task_handler("greet")
    def greet(name: str, times: int) -> None:
        pass

    app.add_task("greet", {"name": "ours"})
    (ours,) = app.broker.messages("default")  # type: ignore[attr-defined]
    body = '{"task_name": "greet", "task_payload": {"name": "old producer"}}'
    app.broker.send("default", [OutgoingMessage(ref="x", body=body)])
    app.broker.send(
        "default",
        [OutgoingMessage(ref="y", body=body, attributes={TASK_FINGERPRINT_ATTRIBUTE: "abc"})],
    )
    app.broker.send("default", [OutgoingMessage(ref="z", body=body)])
    worker = app.worker()

    with caplog.at_level(logging.WARNING, logger="simple_worker"):
        assert worker.drain() == 4

    assert len(ours.attributes[TASK_FINGERPRINT_ATTRIBUTE]) == 12
    assert worker.foreign_fingerprints() == {("greet", "none"): 2, ("greet", "abc"): 1}
    assert sum("task fingerprint" in r.getMessage() for r in caplog.records) == 2


class _LongPollingIdleQueues(MemoryBroker):
    """Receives from the idle queues block like a 20 s long poll until ``release`` is set."""

    def __init__(self, idle: set[str]) -> None:
        super().__init__()
        self.idle = idle
        self.release = threading.Event()

    def receive(self, queue_name: str, *, max_messages: int, wait_s: float) -> list:  # type: ignore[type-arg]
        if queue_name in self.idle:
            self.release.wait(30)
            return []
        return super().receive(queue_name, max_messages=max_messages, wait_s=wait_s)


def test_idle_queues_in_a_long_poll_do_not_starve_a_busy_one() -> None:
    broker = _LongPollingIdleQueues(idle={"a", "b"})
    app = App(broker=broker)
    done = []

    for queue in ("a", "b", "c"):

        @app.register_task_handler(f"task_{queue}", queue=queue)
        def handler(i: int) -> None:
            done.append(i)

    for i in range(30):
        app.add_task("task_c", {"i": i})
    worker = app.worker(concurrency=2)
    runner = threading.Thread(target=worker.start, name="test-worker")
    runner.start()
    deadline = time.monotonic() + 10
    while len(done) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    broker.release.set()
    runner.join(10)

    assert sorted(done) == list(range(30))


class _ReceiveLog(MemoryBroker):
    """Records which thread started each receive, and when."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, float]] = []
        self._log_lock = threading.Lock()

    def receive(self, queue_name: str, *, max_messages: int, wait_s: float) -> list:  # type: ignore[type-arg]
        with self._log_lock:
            self.calls.append((threading.current_thread().name, time.monotonic()))
        return super().receive(queue_name, max_messages=max_messages, wait_s=wait_s)

    def callers_since(self, since_s: float) -> Counter[str]:
        with self._log_lock:
            return Counter(name for name, at_s in self.calls if at_s >= since_s)


def test_a_busy_queue_gets_a_second_receiver_and_an_idle_one_does_not() -> None:
    broker = _ReceiveLog()
    app = App(broker=broker)
    runs: Counter[int] = Counter()
    lock = threading.Lock()

    @app.register_task_handler("work")
    def work(i: int) -> None:
        time.sleep(0.002)
        with lock:
            runs[i] += 1

    with app.batch():
        for i in range(400):
            app.add_task("work", {"i": i})
    worker = app.worker(concurrency=4)
    assert worker.receivers_per_queue == 2
    runner = threading.Thread(target=worker.start, name="test-worker")
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while sum(runs.values()) < 400 and time.monotonic() < deadline:
            time.sleep(0.01)
        busy = broker.callers_since(0)
        time.sleep(0.5)  # the extra receiver's last poll ends; then it parks
        idle_from_s = time.monotonic()
        time.sleep(1.5)
        idle = broker.callers_since(idle_from_s)
    finally:
        worker.stop()
        runner.join(10)

    assert sorted(runs) == list(range(400))
    assert set(runs.values()) == {1}
    assert busy["simple-worker-receiver-default"] >= 1
    assert busy["simple-worker-receiver-default-2"] >= 1  # both polled the busy queue
    assert idle["simple-worker-receiver-default-2"] == 0  # parked while the queue is empty
    assert idle["simple-worker-receiver-default"] >= 1  # the first one keeps polling


def test_receivers_per_queue_is_set_by_concurrency_or_explicitly(app: App) -> None:
    @app.register_task_handler("t")
    def t() -> None:
        pass

    defaults = {c: app.worker(concurrency=c).receivers_per_queue for c in (1, 2, 11, 12, 24, 99)}
    assert defaults == {1: 1, 2: 2, 11: 2, 12: 3, 24: 4, 99: 4}
    assert app.worker(concurrency=2, receivers_per_queue=3).receivers_per_queue == 3
    with pytest.raises(ValueError, match="receivers_per_queue must be at least 1"):
        app.worker(receivers_per_queue=0)


def test_an_outage_with_two_receivers_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    broker = _FlakyBroker(failures=3)
    app = App(broker=broker)
    done: list[int] = []

    @app.register_task_handler("t")
    def t(i: int) -> None:
        done.append(i)

    with app.batch():
        for i in range(50):
            app.add_task("t", {"i": i})
    worker = app.worker(concurrency=4)
    _stop_when(worker.stop, lambda: len(done) >= 50, timeout_s=20)
    with caplog.at_level(logging.INFO, logger="simple_worker"):
        worker.start()

    assert sorted(done) == list(range(50))
    messages = [r.getMessage() for r in caplog.records]
    assert sum("cannot receive from default" in m for m in messages) == 1


DEFAULT_NONE_CONTRACT = """
version = 1

[tasks.welcome.args]
email = "str"
referrer = { type = "str | None", default_none = true }
"""


def test_a_default_of_none_is_filled_for_producers_that_leave_it_out(
    tmp_path: pytest.TempPathFactory,
) -> None:
    contract_path = tmp_path / "tasks.toml"  # type: ignore[operator]
    contract_path.write_text(DEFAULT_NONE_CONTRACT)
    app = App(broker=MemoryBroker(), contract=contract_path)
    calls = []

    @app.register_task_handler("welcome")
    def welcome(email: str, referrer: str | None) -> None:
        calls.append((email, referrer))

    app.add_task("welcome", {"email": "a@example.com"})  # sent with "referrer": null
    app.add_task("welcome", {"email": "b@example.com", "referrer": "ads"})
    body = '{"task_name": "welcome", "task_payload": {"email": "c@example.com"}}'
    app.broker.send("default", [OutgoingMessage(ref="x", body=body)])  # an old producer

    assert app.worker().drain() == 3
    assert sorted(calls, key=str) == [
        ("a@example.com", None),
        ("b@example.com", "ads"),
        ("c@example.com", None),
    ]


def test_a_deprecated_fifo_group_argument_left_out_groups_by_its_default(
    tmp_path: pytest.TempPathFactory,
) -> None:
    contract_path = tmp_path / "tasks.toml"  # type: ignore[operator]
    contract_path.write_text(
        FIFO_CONTRACT.replace('order_id = "str"', 'order_id = { type = "str", default = "all", '
                              'deprecated = "one group for every order" }')
    )  # fmt: skip
    broker = MemoryBroker()
    app = App(broker=broker, contract=contract_path)

    app.add_task("step", {"seq": 1})  # a deprecated argument is not sent unless given
    app.add_task("step", {"seq": 2, "order_id": "o-7"})

    groups = sorted(str(message.group_id) for message in broker.messages("orders.fifo"))
    assert groups == ["all", "o-7"]
