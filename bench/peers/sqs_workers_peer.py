"""Peer: Doist's sqs-workers 0.7.3 (boto3 resource API), one thread, as its README uses it.

Run in its own virtualenv: ``python sqs_workers_peer.py produce|consume ...``. The queue is
``sqs.queue("default")`` under ``queue_prefix``, i.e. ``<prefix>default``; bodies use the
library's default codec (``pickle_compat``, job name and context in message attributes). The
producer is ``add.delay(a=..., b=...)`` inside ``add.batch()`` (the README's "Batch Writes":
one SendMessageBatch per 10 tasks). The consumer is ``queue.process_queue()`` with its default
10 s long poll: one ReceiveMessage of up to 10 messages, handlers run one by one, then one
DeleteMessageBatch. It has no concurrency setting (one thread). It stops through its own
shutdown-policy hook, checked after each batch is acked: the policy says stop once every task
ran, so no poll is left in flight and no release is needed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from typing import Any

from peer_protocol import (  # type: ignore[import-not-found]
    Recorder,
    cpu_s,
    finish,
    peer_arguments,
    produce,
    say,
    start_reporting,
)

# Installed in this peer's virtualenv only (untyped here).
boto3: Any = importlib.import_module("boto3")
sqs_workers: Any = importlib.import_module("sqs_workers")


class StopWhenDone:
    """An sqs-workers shutdown policy: stop once every task ran, or after ``timeout_s``."""

    def __init__(self, recorder: Recorder, timeout_s: float) -> None:
        self.recorder = recorder
        self.deadline_s = time.monotonic() + timeout_s

    def update_state(self, batch_processing_result: Any) -> None:
        pass

    def need_shutdown(self) -> bool:
        return self.recorder.all_done.is_set() or time.monotonic() > self.deadline_s


def build(args: argparse.Namespace, recorder: Recorder | None) -> tuple[Any, Any]:
    # SQSEnv builds its own boto3 client and resource from the session (no endpoint argument),
    # so point boto3 at the benchmark server the standard way.
    os.environ["AWS_ENDPOINT_URL_SQS"] = args.endpoint
    sqs = sqs_workers.SQSEnv(
        session=boto3.session.Session(region_name="us-east-1"), queue_prefix=args.prefix
    )
    queue = sqs.queue("default")
    sleep_s = args.handler_ms / 1000

    @queue.processor("add")  # type: ignore[untyped-decorator]
    def add(a: int, b: int) -> None:
        if sleep_s:
            time.sleep(sleep_s)
        if recorder is not None:
            recorder.record(a)

    return queue, add


def main() -> None:
    args = peer_arguments(default_concurrency=1)
    if args.mode == "produce":
        _, add = build(args, None)
        produce(args.n, lambda number: add.delay(a=number, b=0), add.batch)
        return
    recorder = Recorder(args.n)
    queue, _ = build(args, recorder)
    stop_reporting = start_reporting(recorder)
    started_s = time.time()
    started_cpu_s = cpu_s()
    say("ready")
    queue.process_queue(shutdown_policy=StopWhenDone(recorder, 600))
    finish(recorder, stop_reporting, started_s, args.out, started_cpu_s=started_cpu_s, threads=1)


if __name__ == "__main__":
    main()
