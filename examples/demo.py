"""The demo: typed producers and a worker on a local SQS server; retries, dead letters, cost.

Starts a local SQS-compatible server (moto) in this process, creates the queues of
``contracts/tasks.toml`` with dead-letter queues, enqueues a few thousand tasks through the
generated ``Producers`` while a worker with concurrency 8 consumes them, plus a task that
always fails and a poison message, then prints the queues, the dead letters and how many SQS
API calls each task cost. ``--memory`` runs the same on the in-process memory broker.
Run it with ``bash scripts/demo.sh``.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import logging
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from generated import CONTRACT, Address, Producers, Route, Stop, tasks
from simple_worker import App, ManualClock, MemoryBroker
from simple_worker.brokers.base import OutgoingMessage
from simple_worker.brokers.sqs import SqsBroker
from simple_worker.brokers.sqs_admin import SqsAdmin
from simple_worker.brokers.url import broker_from_url
from simple_worker.cli.ops_stats import render_stats_table
from simple_worker.cli.progress import Progress
from simple_worker.ops.dlq import payload_text, peek
from simple_worker.ops.local_sqs import local_sqs
from simple_worker.ops.queues import contract_queues, ensure_queues, plan_queues
from simple_worker.ops.stats import queue_stats
from simple_worker.queue_names import dead_letter_queue_name

QUEUE_PREFIX = "demo-"
MAX_RECEIVE_COUNT = 2
VISIBILITY_TIMEOUT_S = 2  # short, so the failing task reaches the dead-letter queue in seconds
CHUNK = 200  # tasks per `with app.batch()`
MAX_BACKLOG = 60  # moto slows down as a queue grows: produce the next chunk below this
CONCURRENCY = 8
DEADLINE_S = 120.0
KINDS = ("add", "send_welcome_email", "plan_route", "build_invoice_report")
EXPECTED_DEAD_LETTERS = 2  # the always-failing task and the poison message


class Tally:
    """Which tasks ran (distinct, by a key in their payload) and how many handler calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: set[tuple[str, object]] = set()
        self.calls: Counter[str] = Counter()

    def ran(self, task_name: str, key: object) -> None:
        with self._lock:
            self.seen.add((task_name, key))
            self.calls[task_name] += 1

    def done(self) -> int:
        with self._lock:
            return len(self.seen)


def register_handlers(app: App, tally: Tally) -> None:
    """A handler for every task of the contract, typed against its Protocol."""

    @app.register_task_handler(tasks.add)
    def add(*, a: int, b: int) -> None:
        tally.ran("add", a)

    @app.register_task_handler(tasks.always_fails)
    def always_fails(*, reason: str) -> None:
        tally.ran("always_fails", reason)
        raise RuntimeError(reason)

    @app.register_task_handler(tasks.plan_route)
    def plan_route(
        *,
        route: Route,
        vehicle: Literal["bike", "van", "truck"],
        max_detour_km: float,
        avoid_tolls: bool,
        depart_at: datetime.datetime | None,
    ) -> None:
        assert isinstance(route.stops[0], Stop)  # records arrive as instances
        tally.ran("plan_route", route.name)

    @app.register_task_handler(tasks.send_welcome_email)
    def send_welcome_email(
        *,
        user_id: int,
        email: str,
        locale: Literal["en", "nl", "de"],
        tags: list[str],
        referrer: str | None,
        shipping: Address | None,
    ) -> None:
        tally.ran("send_welcome_email", user_id)

    @app.register_task_handler(tasks.build_invoice_report)
    def build_invoice_report(
        *,
        customer_id: uuid.UUID,
        period_start: datetime.date,
        period_end: datetime.date,
        min_amount: decimal.Decimal,
        currency: Literal["EUR", "USD"],
        totals_by_region: dict[str, decimal.Decimal],
        billing_address: Address,
        include_regions: list[str] | None,
        request_id: uuid.UUID,
    ) -> None:
        tally.ran("build_invoice_report", customer_id)


def enqueue_chunk(app: App, first: int, end: int) -> None:
    """Tasks ``first`` to ``end - 1`` (cycling through the kinds), sent in one batch."""
    producers = Producers(app)
    address = Address(street="Keizersgracht 1", city="Amsterdam", postcode="1015 CJ")
    with app.batch():
        for i in range(first, end):
            kind = KINDS[i % len(KINDS)]
            if kind == "add":
                producers.add(a=i, b=i + 1)
            elif kind == "send_welcome_email":
                producers.send_welcome_email(
                    user_id=i, email=f"user{i}@example.com", referrer=None, shipping=address
                )
            elif kind == "plan_route":
                stops = [Stop(x=1.0, y=2.0), Stop(x=3.5, y=-1)]
                producers.plan_route(route=Route(name=f"route-{i}", stops=stops), vehicle="bike")
            else:
                producers.build_invoice_report(
                    customer_id=uuid.UUID(int=i),
                    period_start=datetime.date(2026, 11, 1),
                    totals_by_region={"north": decimal.Decimal("12.50")},
                    billing_address=address,
                )


def enqueue_the_bad_ones(app: App) -> None:
    """A task that always fails, and a poison message: valid JSON, but `add` needs integers."""
    Producers(app).always_fails(reason="this task always fails, to show retries")
    body = '{"task_name": "add", "task_payload": {"a": "one", "b": 2}}'
    app.broker.send(app.queue_name("default"), [OutgoingMessage(ref="poison", body=body)])


def conduct(app: App, tally: Tally, total: int) -> bool:
    """Produce in chunks while the workers consume; True once everything has settled."""
    progress = Progress("tasks done", total + 1)
    deadline = time.monotonic() + DEADLINE_S
    enqueued = 0
    try:
        enqueue_the_bad_ones(app)
        while time.monotonic() < deadline:
            done = tally.done()
            if enqueued < total and enqueued - done < MAX_BACKLOG:
                end = min(total, enqueued + CHUNK)
                enqueue_chunk(app, enqueued, end)
                enqueued = end
            progress.update(done, f"(enqueued {enqueued:,})")
            if done == total + 1 and _dead_letters(app) >= EXPECTED_DEAD_LETTERS:
                return True
            time.sleep(0.05)
        return False
    finally:
        progress.finish(f"(enqueued {enqueued:,})")


def run_workers(app: App, tally: Tally, total: int) -> bool:
    """A worker on every queue (8 handler threads) while this thread produces; then stop it."""
    worker = app.worker(concurrency=CONCURRENCY)
    thread = threading.Thread(target=worker.start, name="demo-worker")
    thread.start()
    try:
        return conduct(app, tally, total)
    finally:
        worker.stop()
        thread.join()


def _dead_letters(app: App) -> int:
    return app.queue_counts(dead_letter_queue_name("default")).visible


def run_on_sqs(total: int) -> int:
    """The demo on a local SQS server (moto) in this process."""
    with local_sqs() as server:
        admin_broker = broker_from_url(server.broker_url())
        assert isinstance(admin_broker, SqsBroker)
        specs = plan_queues(
            contract_queues(CONTRACT),
            prefix=QUEUE_PREFIX,
            dead_letter_queues=True,
            max_receive_count=MAX_RECEIVE_COUNT,
            visibility_timeout_s=VISIBILITY_TIMEOUT_S,
        )
        created = ensure_queues(SqsAdmin(admin_broker), specs)
        print(f"local SQS on {server.host}:{server.port}; created {len(created)} queues")
        # wait_time=1: the worker's long polls last 1 s instead of 20, so stopping it at the end
        # (which waits for the current poll to return) takes a second, not twenty.
        app = App(server.broker_url("wait_time=1"), QUEUE_PREFIX, contract=CONTRACT)
        tally = Tally()
        register_handlers(app, tally)
        started = time.perf_counter()
        finished = run_workers(app, tally, total)
        elapsed = time.perf_counter() - started
        report(app, admin_broker, tally, total, elapsed)
        assert isinstance(app.broker, SqsBroker)
        calls = app.broker.api_calls()
        per_task = sum(calls.values()) / (total + 2)
        print(
            f"\nSQS API calls of the app: {sum(calls.values()):,} for {total + 2:,} messages, "
            f"{per_task:.2f} per task"
        )
        print("  " + ", ".join(f"{name} {count}" for name, count in sorted(calls.items())))
        app.broker.close()
        admin_broker.close()
    return 0 if finished else 1


def run_in_memory(total: int) -> int:
    """The demo on the in-process memory broker, with a manual clock for the retries."""
    clock = ManualClock()
    broker = MemoryBroker(
        visibility_timeout_s=VISIBILITY_TIMEOUT_S, max_receive_count=MAX_RECEIVE_COUNT, clock=clock
    )
    app = App(queue_prefix=QUEUE_PREFIX, contract=CONTRACT, broker=broker)
    tally = Tally()
    register_handlers(app, tally)
    started = time.perf_counter()
    enqueue_the_bad_ones(app)
    for first in range(0, total, CHUNK):
        enqueue_chunk(app, first, min(total, first + CHUNK))
    worker = app.worker(concurrency=CONCURRENCY)
    worker.drain(raise_errors=False)
    for _ in range(MAX_RECEIVE_COUNT):  # let the failing task come back until it dead-letters
        clock.advance(VISIBILITY_TIMEOUT_S + 1)
        worker.drain(raise_errors=False)
    report(app, broker, tally, total, time.perf_counter() - started)
    return 0 if tally.done() == total + 1 else 1


def report(
    app: App, broker: SqsBroker | MemoryBroker, tally: Tally, total: int, elapsed_s: float
) -> None:
    """What ran, the queues, and the dead letters with their reasons."""
    calls = sum(tally.calls.values())
    print(
        f"\n{tally.done():,} of {total + 1:,} tasks ran ({calls:,} handler calls, retries "
        f"included) in {elapsed_s:.1f} s with concurrency {CONCURRENCY}:"
    )
    for task_name, count in sorted(tally.calls.items()):
        print(f"  {task_name:<22} {count:>6,}")
    names = [app.queue_name(queue) for queue in contract_queues(CONTRACT)]
    print("\n" + render_stats_table(queue_stats(broker, names)))
    dead_letter_queue = dead_letter_queue_name(app.queue_name("default"))
    print(f"\ndead letters in {dead_letter_queue}:")
    for letter in peek(broker, dead_letter_queue, limit=10):
        reason = letter.reason.splitlines()[0]
        print(f"  {letter.task_name} {payload_text(letter)}\n    reason: {reason}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000, help="how many tasks (default 2000)")
    parser.add_argument(
        "--memory", action="store_true", help="use the in-process memory broker instead of SQS"
    )
    args = parser.parse_args(argv)
    # The demo prints its own summary; the failing task's and the poison's errors are expected.
    logging.basicConfig(level=logging.CRITICAL)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the local server's request lines
    try:
        return run_in_memory(args.tasks) if args.memory else run_on_sqs(args.tasks)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
