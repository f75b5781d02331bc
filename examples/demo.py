"""The demo: typed producers, a worker draining the queues, a failing task and a poison message.

Runs on the in-process memory broker (``memory://``), with the project's contract
(``contracts/tasks.toml``, generated into ``generated/``). Run it with ``bash scripts/demo.sh``.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from generated import (
    CONTRACT,
    Address,
    Producers,
    Route,
    Stop,
    tasks,
)
from simple_worker import App, ManualClock, MemoryBroker
from simple_worker.brokers.base import OutgoingMessage
from simple_worker.wire import DEAD_LETTER_REASON_ATTRIBUTE

QUEUE_PREFIX = "demo-"
MAX_RECEIVE_COUNT = 3
VISIBILITY_TIMEOUT_S = 30


def build_app(clock: ManualClock, ran: Counter[str]) -> App:
    """An App on the memory broker with a handler for every task of the contract."""
    broker = MemoryBroker(
        visibility_timeout_s=VISIBILITY_TIMEOUT_S, max_receive_count=MAX_RECEIVE_COUNT, clock=clock
    )
    app = App(queue_prefix=QUEUE_PREFIX, contract=CONTRACT, broker=broker)
    lock = threading.Lock()

    def count(task_name: str) -> None:
        with lock:
            ran[task_name] += 1

    @app.register_task_handler(tasks.add)
    def add(*, a: int, b: int) -> None:
        count("add")

    @app.register_task_handler(tasks.always_fails)
    def always_fails(*, reason: str) -> None:
        count("always_fails")
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
        count("plan_route")

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
        count("send_welcome_email")

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
        count("build_invoice_report")

    return app


def enqueue(app: App, tasks_per_kind: int) -> int:
    """Send tasks of every kind through the generated producers, in one batch."""
    producers = Producers(app)
    address = Address(street="Keizersgracht 1", city="Amsterdam", postcode="1015 CJ")
    with app.batch():
        for i in range(tasks_per_kind):
            producers.add(a=i, b=i + 1)
            producers.send_welcome_email(
                user_id=i, email=f"user{i}@example.com", referrer=None, shipping=address
            )
            producers.plan_route(
                route=Route(name=f"route-{i}", stops=[Stop(x=1.0, y=2.0), Stop(x=3.5, y=-1)]),
                vehicle="bike",
            )
            producers.build_invoice_report(
                customer_id=uuid.uuid4(),
                period_start=datetime.date(2026, 11, 1),
                totals_by_region={"north": decimal.Decimal("12.50")},
                billing_address=address,
            )
        producers.always_fails(reason="this task always fails, to show retries")
    return tasks_per_kind * 4 + 1


def send_poison(app: App) -> None:
    """A message no handler may see: valid JSON, but `add` needs integers."""
    body = '{"task_name": "add", "task_payload": {"a": "one", "b": 2}}'
    app.broker.send(app.queue_name("default"), [OutgoingMessage(ref="poison", body=body)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks-per-kind", type=int, default=250)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # the demo prints its own summary

    clock = ManualClock()
    ran: Counter[str] = Counter()
    app = build_app(clock, ran)
    started = time.perf_counter()
    sent = enqueue(app, args.tasks_per_kind)
    send_poison(app)
    print(f"enqueued {sent} tasks through the generated Producers, and 1 poison message")

    worker = app.worker(concurrency=args.concurrency)
    drained = worker.drain(raise_errors=False)
    for _ in range(MAX_RECEIVE_COUNT):  # let the failing task come back until it dead-letters
        clock.advance(VISIBILITY_TIMEOUT_S + 1)
        drained += worker.drain(raise_errors=False)
    elapsed = time.perf_counter() - started

    print(f"ran {drained} handler calls in {elapsed:.2f} s with concurrency {args.concurrency}:")
    for task_name, calls in sorted(ran.items()):
        print(f"  {task_name:<22} {calls:>5}")
    print(f"\n{'queue':<28} {'visible':>8} {'in flight':>10} {'delayed':>8}")
    for queue in ("default", "emails", "reports", "default-dlq"):
        counts = app.queue_counts(queue)
        name = app.queue_name(queue)
        print(f"{name:<28} {counts.visible:>8} {counts.in_flight:>10} {counts.delayed:>8}")
    print("\ndead letters:")
    assert isinstance(app.broker, MemoryBroker)
    for message in app.broker.messages(app.queue_name("default-dlq")):
        reason = message.attributes.get(DEAD_LETTER_REASON_ATTRIBUTE, "max receive count reached")
        print(f"  {message.body}\n    reason: {reason.splitlines()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
