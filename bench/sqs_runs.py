"""End-to-end runs on the benchmark server: produce N tasks, then drain them with one process.

The producer (this process) sends all N tasks first, timed on its own; then one consumer
process starts (ours or the hand-written loop), warms up (client, queue URL) and drains the
queue; it times itself from the moment it starts consuming to its N-th distinct task. The
benchmark server's patched moto costs about the same per request at 5,000 queued messages as
at none, so producing everything first does not slow the drain.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from bench.common import BenchServer, Consumer, by_kind, calls_for, sqs_client

OURS: Final = "simple-worker"
LIMIT: Final = "hand-written boto3"
LIMIT_2: Final = "hand-written boto3, 2 receivers"


def run_e2e(
    server: BenchServer,
    impl: str,
    *,
    n: int,
    concurrency: int,
    handler_ms: float,
    workdir: Path,
) -> dict[str, Any]:
    """One run: a fresh queue, N tasks produced, then drained by one consumer process."""
    prefix = f"b{uuid.uuid4().hex[:8]}-"
    queue_name = f"{prefix}default"
    client: Any = sqs_client(server.endpoint_url)
    url = client.create_queue(QueueName=queue_name)["QueueUrl"]
    result_path = workdir / f"{prefix}result.json"
    produce = _producer(server, impl, prefix, client, url)
    produce([0])  # warm up: client, queue URL, queue attributes (this task counts too)
    before = server.counts()
    started_s = time.perf_counter()
    produce(range(1, n))
    produce_s = time.perf_counter() - started_s
    consumer = Consumer(
        _consumer_command(server, impl, prefix, n, concurrency, handler_ms, result_path),
        result_path,
    )
    try:
        consumer.wait_ready(120)
        if not consumer.wait_until(lambda done: done >= n, _timeout_s(n, concurrency, handler_ms)):
            print(f"  {impl}: timed out at {consumer.done}/{n}", file=sys.stderr)
        result = consumer.finish(120)
    finally:
        consumer.kill()
    after = server.counts()
    calls = calls_for(before, after, queue_name)
    left = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    client.delete_queue(QueueUrl=url)
    client.close()
    distinct = int(result["distinct"])
    last_s = result["last_s"]
    drain_s = (float(last_s) - float(result["started_s"])) if last_s is not None else float("nan")
    kinds = by_kind(calls)
    busy_s = after["|~moto_busy_s"] - before["|~moto_busy_s"]
    return {
        "impl": impl,
        "n": n,
        "concurrency": concurrency,
        "handler_ms": handler_ms,
        "produce_tasks_per_s": (n - 1) / produce_s,
        "drain_tasks_per_s": distinct / drain_s,
        "calls": dict(calls),
        "calls_per_task": {kind: count / n for kind, count in kinds.items()},
        "lost": n - distinct,
        "duplicated": int(result["runs"]) - distinct,
        "left_in_queue": sum(int(v) for v in left.values()),
        # How busy moto was (time inside it, all requests) over produce plus drain time.
        "server_busy_fraction": busy_s / (produce_s + drain_s),
        # CPU time of the consumer process per task (all its threads): its own overhead.
        "consumer_cpu_us_per_task": float(result["cpu_s"]) / n * 1e6,
        "client_counted_calls": result.get("client_calls", {}),
    }


def _timeout_s(n: int, concurrency: int, handler_ms: float) -> float:
    return 120 + 5 * n * max(handler_ms, 2) / 1000 / concurrency


def _consumer_command(  # noqa: PLR0917 (private, called once)
    server: BenchServer,
    impl: str,
    prefix: str,
    n: int,
    concurrency: int,
    handler_ms: float,
    result_path: Path,
) -> list[str]:
    common = [
        f"--n={n}",
        f"--concurrency={concurrency}",
        f"--handler-ms={handler_ms}",
        f"--out={result_path}",
        f"--endpoint={server.endpoint_url}",
    ]
    if impl == OURS:
        return [
            sys.executable,
            "-m",
            "bench.worker_proc",
            f"--broker={server.broker_url()}",
            f"--prefix={prefix}",
            *common,
        ]
    receivers = 2 if impl == LIMIT_2 else 1
    return [
        sys.executable,
        "-m",
        "bench.limit_proc",
        f"--queue={prefix}default",
        f"--receivers={receivers}",
        *common,
    ]


def _producer(
    server: BenchServer, impl: str, prefix: str, client: Any, url: str
) -> Callable[[Sequence[int]], None]:
    """A function that sends tasks with the given numbers (as one batch of ours, or raw)."""
    if impl == OURS:
        from generated import CONTRACT, Producers  # noqa: PLC0415
        from simple_worker import App  # noqa: PLC0415

        app = App(broker_url=server.broker_url(), queue_prefix=prefix, contract=CONTRACT)
        producers = Producers(app)

        def produce_ours(numbers: Sequence[int]) -> None:
            with app.batch():
                for number in numbers:
                    producers.add(a=number, b=0)

        return produce_ours

    def produce_raw(numbers: Sequence[int]) -> None:
        entries = [
            {
                "Id": str(number % 10),
                "MessageBody": json.dumps(
                    {"task_name": "add", "task_payload": {"a": number, "b": 0}}
                ),
                "MessageAttributes": {
                    "simple_worker.task_id": {
                        "DataType": "String",
                        "StringValue": str(uuid.uuid4()),
                    }
                },
            }
            for number in numbers
        ]
        for start in range(0, len(entries), 10):
            client.send_message_batch(QueueUrl=url, Entries=entries[start : start + 10])

    return produce_raw
