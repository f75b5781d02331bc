"""The fault scenarios, each a function that runs workers against moto and measures the outcome.

The tests in this package assert on the returned ``ScenarioResult``; ``scripts/
reliability_report.py`` runs the same functions and tabulates them in ``docs/reliability.md``.
Every wait is bounded; assertions are on counts, never on speed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Final

import attrs

from simple_worker import App, BrokerError
from simple_worker.errors import BatchSendError
from simple_worker.run import held_capacity
from simple_worker.worker import default_receivers
from tests.reliability.harness import (
    Results,
    WorkerProcess,
    create_queue,
    new_prefix,
    wait_for,
)
from tests.reliability.proxy import TcpProxy
from tests.sqs_server import REGION, MotoSqs

QUICK_POLL: Final = "wait_time=1"
"""A stopping worker waits for its current long poll: keep polls short in tests."""
FAIL_FAST: Final = "max_attempts=2&connect_timeout=1&read_timeout=25"
CONCURRENCY: Final = 4
HELD_BOUND: Final = held_capacity(
    concurrency=CONCURRENCY, queue_count=1, receivers_per_queue=default_receivers(CONCURRENCY)
)
"""What a worker holds at most: its receive budget (2 x concurrency + 10 per receiver)."""
UNFLUSHED_ACKS_BOUND: Final = 10
"""Finished tasks whose deletes wait for the next flush (at 10, or after a second)."""


@attrs.frozen(kw_only=True)
class ScenarioResult:
    """One scenario's figures, as the report tabulates them."""

    name: str
    tasks: int
    lost: int
    duplicates: int
    recover_s: float | None
    recover_what: str
    notes: dict[str, object] = attrs.field(factory=dict)


def _producer(moto: MotoSqs, prefix: str, query: str = "", host_and_port: str = "") -> App:
    url = moto.broker_url(query)
    if host_and_port:
        url = url.replace(moto.host_and_port, host_and_port)
    app = App(broker_url=url, queue_prefix=prefix)

    @app.register_task_handler("work")
    def work(i: int, sleep_ms: int = 0) -> None:
        raise AssertionError("producer only")

    @app.register_task_handler("misbehave")
    def misbehave(i: int, how: str) -> None:
        raise AssertionError("producer only")

    return app


def _send(app: App, first: int, count: int, sleep_ms: int = 0) -> None:
    with app.batch():
        for i in range(first, first + count):
            app.add_task("work", {"i": i, "sleep_ms": sleep_ms})


def crash(moto: MotoSqs, workdir: Path, *, tasks: int = 2000) -> ScenarioResult:
    """kill -9 a worker after about a third of the tasks ran; a second worker finishes them.

    moto slows down as a queue grows, so tasks are produced in chunks of 100 whenever fewer
    than 100 are waiting (moto's cost, not ours). The queue's visibility timeout is 3 s.
    """
    prefix = new_prefix()
    create_queue(moto, f"{prefix}default", visibility_timeout_s=3)
    producer = _producer(moto, prefix)
    results_path = workdir / "crash-runs.txt"
    url = moto.broker_url(QUICK_POLL)
    first = WorkerProcess(url, prefix, results_path, name="crash-first", concurrency=CONCURRENCY)
    second: WorkerProcess | None = None
    produced = 0
    killed_at_s: float | None = None
    done_at_kill = 0
    deadline_s = time.monotonic() + 240
    try:
        while True:
            results = Results.read(results_path)
            if len(results.done) == tasks:
                break
            assert time.monotonic() < deadline_s, f"crash: only {len(results.done)} tasks ran"
            (second or first).check_alive()
            if produced < tasks and produced - len(results.done) < 100:
                _send(producer, produced, min(100, tasks - produced))
                produced = min(tasks, produced + 100)
            if second is None and len(results.done) >= tasks // 3:
                first.kill()
                killed_at_s = time.monotonic()
                first.wait(30)
                done_at_kill = len(Results.read(results_path).done)
                second = WorkerProcess(
                    url, prefix, results_path, name="crash-second", concurrency=CONCURRENCY
                )
            time.sleep(0.05)
        assert killed_at_s is not None
        recover_s = time.monotonic() - killed_at_s
    finally:
        first.stop()
        second_rc = second.stop() if second is not None else None
        producer.broker.close()
    results = Results.read(results_path)
    return ScenarioResult(
        name="crash (kill -9)",
        tasks=tasks,
        lost=tasks - len(results.done),
        duplicates=results.duplicates,
        recover_s=recover_s,
        recover_what="kill until every task ran",
        notes={
            "done_at_kill": done_at_kill,
            "held_bound": HELD_BOUND,
            "duplicate_bound": HELD_BOUND + UNFLUSHED_ACKS_BOUND,
            "second_exit_code": second_rc,
            "unknown_ids": sorted(set(results.done) - set(range(tasks))),
        },
    )


def graceful_stop(moto: MotoSqs, workdir: Path, *, tasks: int = 300) -> ScenarioResult:
    """SIGTERM a worker mid-run, then start another; the visibility timeout is 300 s.

    A message the stopping worker received but did not start must come back at once (waiting
    for the visibility timeout would time the scenario out).
    """
    prefix = new_prefix()
    create_queue(moto, f"{prefix}default", visibility_timeout_s=300)
    producer = _producer(moto, prefix)
    results_path = workdir / "graceful-runs.txt"
    url = moto.broker_url(QUICK_POLL)
    _send(producer, 0, tasks, sleep_ms=20)
    first = WorkerProcess(url, prefix, results_path, name="graceful-first", concurrency=CONCURRENCY)
    second: WorkerProcess | None = None
    try:
        wait_for(
            lambda: Results.read(results_path).runs >= tasks // 4,
            90,
            "a quarter done",
            workers=(first,),
        )
        first.terminate()
        first_rc = first.wait(60)
        stopped_at_s = time.monotonic()
        after_stop = producer.queue_counts("default")
        ran_before_stop = Results.read(results_path).runs
        second = WorkerProcess(
            url, prefix, results_path, name="graceful-second", concurrency=CONCURRENCY
        )
        wait_for(
            lambda: len(Results.read(results_path).done) >= tasks,
            120,
            "every task",
            workers=(second,),
        )
        recover_s = time.monotonic() - stopped_at_s
        # Give a stray duplicate the chance to show up before counting.
        time.sleep(1)
    finally:
        first.stop()
        second_rc = second.stop() if second is not None else None
        producer.broker.close()
    results = Results.read(results_path)
    return ScenarioResult(
        name="graceful stop (SIGTERM)",
        tasks=tasks,
        lost=tasks - len(results.done),
        duplicates=results.duplicates,
        recover_s=recover_s,
        recover_what="stop until every task ran (second worker)",
        notes={
            "first_exit_code": first_rc,
            "first_exited_cleanly": "worker exited cleanly" in first.stdout(),
            "in_flight_after_stop": after_stop.in_flight,
            "visible_after_stop": after_stop.visible,
            "ran_before_stop": ran_before_stop,
            "second_exit_code": second_rc,
        },
    )


@attrs.define
class _OutageProducer:
    """Sends 10 tasks every 0.5 s through the proxy, recording what it believes was sent."""

    app: App
    believed_sent: set[int] = attrs.field(factory=set)
    errors: list[str] = attrs.field(factory=list)
    unnamed_failures: list[str] = attrs.field(factory=list)
    attempted: int = 0
    stop: threading.Event = attrs.field(factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self._send_ten()

    def _send_ten(self) -> None:
        ids: dict[str, int] = {}
        first = self.attempted
        self.attempted += 10
        try:
            with self.app.batch():
                for i in range(first, first + 10):
                    ids[self.app.add_task("work", {"i": i})] = i
        except BatchSendError as exc:
            not_sent = {failure.ref for failure in exc.failures}
            self.errors.append(str(exc))
            self.believed_sent |= {i for task_id, i in ids.items() if task_id not in not_sent}
            if not not_sent:
                self.unnamed_failures.append(str(exc))
        except BrokerError as exc:
            notes = "\n".join(getattr(exc, "__notes__", []))
            self.errors.append(f"{exc}\n{notes}")
            if not all(task_id in notes for task_id in ids) or "not sent to" not in notes:
                self.unnamed_failures.append(f"{exc}\n{notes}")
        else:
            self.believed_sent |= set(ids.values())


def outage(moto: MotoSqs, workdir: Path, *, outage_s: float = 10.0) -> ScenarioResult:
    """Cut a TCP proxy between the worker (and a producer) and moto for ``outage_s``.

    The proxy first refuses new connections, then resets the open ones. The producer keeps
    sending through the outage; whatever it was told was sent must run.
    """
    prefix = new_prefix()
    create_queue(moto, f"{prefix}default", visibility_timeout_s=5)
    host, port = moto.host_and_port.split(":")
    proxy = TcpProxy(host, int(port))
    query = f"{QUICK_POLL}&{FAIL_FAST}"
    producer = _OutageProducer(_producer(moto, prefix, FAIL_FAST, proxy.host_and_port))
    results_path = workdir / "outage-runs.txt"
    url = moto.broker_url(query).replace(moto.host_and_port, proxy.host_and_port)
    worker = WorkerProcess(url, prefix, results_path, name="outage-worker", concurrency=CONCURRENCY)
    sender = threading.Thread(target=producer.run, name="test-outage-producer")
    sender.start()
    try:
        wait_for(
            lambda: Results.read(results_path).runs >= 60,
            90,
            "60 tasks before the outage",
            workers=(worker,),
        )
        proxy.cut()
        time.sleep(outage_s)
        alive_during_outage = worker.alive
        proxy.restore()
        restored_at_s = time.monotonic()
        time.sleep(3)  # the producer keeps sending after the outage too
        producer.stop.set()
        sender.join(60)

        def drained() -> bool:
            return producer.believed_sent <= set(Results.read(results_path).done)

        wait_for(drained, 120, "every task the producer believed sent", workers=(worker,))
        recover_s = time.monotonic() - restored_at_s
        alive_after = worker.alive
    finally:
        producer.stop.set()
        sender.join(60)
        exit_code = worker.stop()
        proxy.close()
        producer.app.broker.close()
    results = Results.read(results_path)
    stderr = worker.stderr()
    lines = stderr.splitlines()
    return ScenarioResult(
        name=f"outage ({outage_s:.0f} s, proxy cut)",
        tasks=len(producer.believed_sent),
        lost=len(producer.believed_sent - set(results.done)),
        duplicates=results.duplicates,
        recover_s=recover_s,
        recover_what="reconnect until the backlog drained",
        notes={
            "attempted": producer.attempted,
            "producer_errors": len(producer.errors),
            "unnamed_failures": producer.unnamed_failures,
            "first_producer_error": producer.errors[0] if producer.errors else "",
            "cannot_receive_lines": sum("cannot receive from" in line for line in lines),
            "receiving_again_lines": sum("again after" in line for line in lines),
            "warning_or_error_lines": sum(line.startswith(("WARNING", "ERROR")) for line in lines),
            "alive_during_outage": alive_during_outage,
            "alive_after": alive_after,
            "exit_code": exit_code,
            "connections_reset": proxy.connections_reset,
            "region": REGION,
        },
    )


def slow_handler(moto: MotoSqs, workdir: Path, *, tasks: int = 4) -> ScenarioResult:
    """Tasks of 4 s on a queue whose visibility timeout is 2 s, two at a time: each runs once."""
    prefix = new_prefix()
    create_queue(moto, f"{prefix}default", visibility_timeout_s=2)
    producer = _producer(moto, prefix)
    results_path = workdir / "slow-runs.txt"
    _send(producer, 0, tasks, sleep_ms=4000)
    started_s = time.monotonic()
    worker = WorkerProcess(
        moto.broker_url(QUICK_POLL), prefix, results_path, name="slow-worker", concurrency=2
    )
    try:
        wait_for(
            lambda: len(Results.read(results_path).done) >= tasks,
            60,
            "every slow task",
            workers=(worker,),
        )
        took_s = time.monotonic() - started_s
        time.sleep(3)  # longer than the visibility timeout: a second delivery would show now
        counts = producer.queue_counts("default")
    finally:
        exit_code = worker.stop()
        producer.broker.close()
    results = Results.read(results_path)
    return ScenarioResult(
        name="slow handler (4 s task, 2 s visibility)",
        tasks=tasks,
        lost=tasks - len(results.done),
        duplicates=results.duplicates,
        recover_s=None,
        recover_what="",
        notes={
            "took_s": round(took_s, 1),
            "visible_after": counts.visible,
            "in_flight_after": counts.in_flight,
            "exit_code": exit_code,
        },
    )


MISBEHAVIOURS: Final = ("raise", "exit", "interrupt", "base")


def misbehaving_handlers(moto: MotoSqs, workdir: Path, *, work_tasks: int = 40) -> ScenarioResult:
    """Handlers that raise, call sys.exit, raise KeyboardInterrupt or a bare BaseException.

    Each misbehaves on its first delivery only; the worker must survive, keep running the
    other tasks, and run each misbehaving task again after the 2 s visibility timeout.
    """
    prefix = new_prefix()
    create_queue(moto, f"{prefix}default", visibility_timeout_s=2)
    producer = _producer(moto, prefix)
    results_path = workdir / "misbehave-runs.txt"
    misbehaving = {1000 + n: how for n, how in enumerate(MISBEHAVIOURS * 2)}
    with producer.batch():
        for i, how in misbehaving.items():
            producer.add_task("misbehave", {"i": i, "how": how})
    _send(producer, 0, work_tasks)
    expected = set(range(work_tasks)) | set(misbehaving)
    worker = WorkerProcess(
        moto.broker_url(QUICK_POLL), prefix, results_path, name="misbehave-worker", concurrency=2
    )
    started_s = time.monotonic()
    try:
        wait_for(
            lambda: set(Results.read(results_path).done) >= expected,
            60,
            "every task",
            workers=(worker,),
        )
        took_s = time.monotonic() - started_s
        alive = worker.alive
    finally:
        exit_code = worker.stop()
        producer.broker.close()
    results = Results.read(results_path)
    stderr = worker.stderr()
    return ScenarioResult(
        name="misbehaving handlers",
        tasks=len(expected),
        lost=len(expected - set(results.done)),
        duplicates=results.duplicates,
        recover_s=took_s,
        recover_what="start until every task (and retry) ran",
        notes={
            "attempts": dict(results.attempts),
            "alive": alive,
            "exit_code": exit_code,
            "exited_cleanly": "worker exited cleanly" in worker.stdout(),
            "logged": {
                how: stderr.count(text)
                for how, text in (
                    ("raise", "RuntimeError("),
                    ("exit", "SystemExit(3)"),
                    ("interrupt", "KeyboardInterrupt()"),
                    ("base", "HandlerEscape("),
                )
            },
        },
    )
