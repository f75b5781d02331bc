"""Idle cost: workers with the library's defaults on empty queues, receive calls counted."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.common import BenchServer, Consumer, calls_for, sqs_client, summary


def idle_section(
    server: BenchServer, *, window_s: float, workers: int, workdir: Path
) -> dict[str, Any]:
    """``workers`` worker processes at once, each on its own empty queue, for ``window_s``."""
    client: Any = sqs_client(server.endpoint_url)
    prefixes = [f"i{uuid.uuid4().hex[:8]}-" for _ in range(workers)]
    consumers: dict[str, Consumer] = {}
    before = server.counts()
    for prefix in prefixes:
        client.create_queue(QueueName=f"{prefix}default")
        consumers[f"{prefix}default"] = Consumer(
            [
                sys.executable,
                "-m",
                "bench.worker_proc",
                f"--broker={server.broker_url()}",
                f"--endpoint={server.endpoint_url}",
                f"--prefix={prefix}",
                "--n=1",
                "--concurrency=8",
                f"--run-s={window_s + 30}",
                f"--out={workdir / (prefix + 'idle.json')}",
            ],
            workdir / f"{prefix}idle.json",
        )
    try:
        per_hour = count_idle_receives(server, consumers, window_s, before)
        after = server.counts()
    finally:
        for queue_name, consumer in consumers.items():
            consumer.kill()
            server.release(queue_name)
    other = []
    for queue_name in consumers:
        calls = calls_for(before, after, queue_name)
        other.append(float(sum(calls.values()) - calls["ReceiveMessage"]))
        client.delete_queue(QueueUrl=client.get_queue_url(QueueName=queue_name)["QueueUrl"])
    client.close()
    return {
        "window_s": window_s,
        "workers": workers,
        "receive_calls_per_hour_per_queue": summary(list(per_hour.values())),
        "other_calls_in_window": summary(other),
        "note": (
            "window shorter than one 20 s long poll: the figure is an upper bound"
            if window_s < 60
            else "3 long polls of 20 s per minute is 180 per hour"
        ),
    }


def count_idle_receives(
    server: BenchServer,
    consumers: dict[str, Consumer],
    window_s: float,
    before: Mapping[str, int],
) -> dict[str, float]:
    """Receive calls per hour of each consumer (by its queue) on its empty queue.

    Each queue's window starts at its first ReceiveMessage; receives that arrive within
    ``window_s`` of the earliest start are counted (a 20 s long poll gives 3 in 60 s: 180 per
    hour). ``before`` is the server's counts from before the consumers started. The consumers
    keep running; the caller ends them.
    """
    for consumer in consumers.values():
        consumer.wait_ready(120)
    first_s: dict[str, float] = {}
    deadline_s = time.monotonic() + 60
    while len(first_s) < len(consumers) and time.monotonic() < deadline_s:
        counts = server.counts()
        for queue in consumers:
            if queue not in first_s and calls_for(before, counts, queue)["ReceiveMessage"]:
                first_s[queue] = time.monotonic()
        time.sleep(0.02)
    end_s = min(first_s.values(), default=time.monotonic()) + window_s - 0.5
    time.sleep(max(0.0, end_s - time.monotonic()))
    after = server.counts()
    return {
        queue: calls_for(before, after, queue)["ReceiveMessage"] * 3600 / window_s
        for queue in consumers
    }
