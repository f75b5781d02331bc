"""In-process figures: the memory broker end to end, payload validation, encode plus decode."""

from __future__ import annotations

import datetime
import decimal
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.common import summary
from generated import CONTRACT, Address, Producers, Route, Stop, tasks
from simple_worker import App, MemoryBroker
from simple_worker.validation import ContractValidator
from simple_worker.wire import decode_body, encode_body


def memory_once(n: int, concurrency: int) -> dict[str, float]:
    """add_task N tasks in one batch, then drain; and the same handler called directly."""
    app = App(broker=MemoryBroker(), contract=CONTRACT)
    seen: list[int] = []

    @app.register_task_handler(tasks.add)
    def add(*, a: int, b: int) -> None:
        seen.append(a + b)

    producers = Producers(app)
    started_s = time.perf_counter()
    with app.batch():
        for number in range(n):
            producers.add(a=number, b=0)
    added_s = time.perf_counter()
    ran = app.worker(concurrency=concurrency).drain()
    drained_s = time.perf_counter()
    assert ran == n, (ran, n)
    seen.clear()
    direct_started_s = time.perf_counter()
    for number in range(n):
        add(a=number, b=0)
    direct_s = time.perf_counter() - direct_started_s
    total_s = drained_s - started_s
    return {
        "tasks_per_s": n / total_s,
        "add_task_us": (added_s - started_s) / n * 1e6,
        "drain_us": (drained_s - added_s) / n * 1e6,
        "direct_call_us": direct_s / n * 1e6,
        "overhead_us": (total_s - direct_s) / n * 1e6,
    }


def memory_section(n: int, repeat: int, concurrency: int) -> dict[str, Any]:
    runs = [memory_once(n, concurrency) for _ in range(repeat)]
    return {
        "n": n,
        "concurrency": concurrency,
        **{key: summary([run[key] for run in runs]) for key in runs[0]},
    }


def _payloads() -> dict[str, tuple[str, dict[str, object], dict[str, object]]]:
    """Name -> (task, payload as a producer passes it, payload as the worker decodes it)."""
    validator = ContractValidator(CONTRACT)
    route = Route(
        name="morning round",
        stops=[Stop(x=float(i), y=float(i) / 2, label=f"stop {i}") for i in range(5)],
    )
    nested: dict[str, object] = {"route": route, "vehicle": "bike", "max_detour_km": 1.5}
    invoice: dict[str, object] = {
        "customer_id": uuid.UUID("12345678-1234-4234-8234-123456789abc"),
        "period_start": datetime.date(2024, 1, 1),
        "totals_by_region": {"north": decimal.Decimal("12.50"), "south": decimal.Decimal("3")},
        "billing_address": Address(street="Dam 1", city="Amsterdam", postcode="1012 JS"),
    }
    flat: dict[str, object] = {"a": 1, "b": 2}
    out: dict[str, tuple[str, dict[str, object], dict[str, object]]] = {}
    for name, task, payload in (
        ("flat (add: 2 ints)", "add", flat),
        ("nested (plan_route: record, list of 5 records, datetime)", "plan_route", nested),
        (
            "invoice (build_invoice_report: uuid, dates, decimals, record)",
            "build_invoice_report",
            invoice,
        ),
    ):
        out[name] = (task, payload, validator.outgoing(task, payload))
    return out


def _per_call_us(call: Callable[[], object], *, min_time_s: float) -> float:
    """Microseconds per call: enough calls to fill ``min_time_s``."""
    loops = 1
    while True:
        started_s = time.perf_counter()
        for _ in range(loops):
            call()
        elapsed_s = time.perf_counter() - started_s
        if elapsed_s >= min_time_s:
            return elapsed_s / loops * 1e6
        loops *= 2 if elapsed_s > min_time_s / 10 else 10


def validation_section(repeat: int, min_time_s: float) -> dict[str, Any]:
    validator = ContractValidator(CONTRACT)
    figures: dict[str, Any] = {}
    for name, (task, python_payload, wire_payload) in _payloads().items():
        body = encode_body(task, wire_payload)

        def outgoing(task: str = task, payload: dict[str, object] = python_payload) -> object:
            return validator.outgoing(task, payload)

        def incoming(task: str = task, payload: dict[str, object] = wire_payload) -> object:
            return validator.incoming(task, payload)

        def round_trip(task: str = task, payload: dict[str, object] = wire_payload) -> object:
            return decode_body(encode_body(task, payload))

        figures[name] = {
            "body_bytes": len(body.encode()),
            "outgoing_us": summary(
                [_per_call_us(outgoing, min_time_s=min_time_s) for _ in range(repeat)]
            ),
            "incoming_us": summary(
                [_per_call_us(incoming, min_time_s=min_time_s) for _ in range(repeat)]
            ),
            "encode_decode_us": summary(
                [_per_call_us(round_trip, min_time_s=min_time_s) for _ in range(repeat)]
            ),
        }
    return figures
