"""Peer: dramatiq with dramatiq-sqs (boto3 resource API), its own Worker with 8 threads.

Run in its own virtualenv: ``python dramatiq_sqs_peer.py produce|consume ...``. The queue is
``<namespace>_default``; the producer is ``actor.send`` (one SendMessage per task).
"""

from __future__ import annotations

import argparse
import importlib
import threading
import time
from typing import Any

from peer_protocol import (  # type: ignore[import-not-found]
    Recorder,
    cpu_s,
    finish,
    peer_arguments,
    produce,
    release_when_stopping,
    say,
    start_reporting,
)

# Installed in this peer's virtualenv only (untyped here).
dramatiq: Any = importlib.import_module("dramatiq")
SQSBroker: Any = importlib.import_module("dramatiq_sqs").SQSBroker

RECORDER: Recorder | None = None
SLEEP_S = 0.0


def build(args: argparse.Namespace) -> tuple[Any, Any]:
    global SLEEP_S  # noqa: PLW0603 (dramatiq actors are module-level functions)
    SLEEP_S = args.handler_ms / 1000
    broker = SQSBroker(
        namespace=args.prefix.rstrip("-"), endpoint_url=args.endpoint, region_name="us-east-1"
    )
    dramatiq.set_broker(broker)

    @dramatiq.actor(queue_name="default", max_retries=0)  # type: ignore[untyped-decorator]
    def add(a: int, b: int) -> None:
        if SLEEP_S:
            time.sleep(SLEEP_S)
        if RECORDER is not None:
            RECORDER.record(a)

    return broker, add


def main() -> None:
    global RECORDER  # noqa: PLW0603
    args = peer_arguments(default_concurrency=8)
    broker, add = build(args)
    if args.mode == "produce":
        produce(args.n, lambda number: add.send(number, 0))
        return
    RECORDER = Recorder(args.n)
    worker = dramatiq.Worker(broker, worker_threads=args.concurrency)
    stopping = threading.Event()
    threading.Thread(
        target=release_when_stopping,
        args=(args.endpoint, args.prefix.rstrip("-") + "_default", stopping),
        daemon=True,
    ).start()
    stop_reporting = start_reporting(RECORDER)
    started_s = time.time()
    started_cpu_s = cpu_s()
    say("ready")
    worker.start()
    RECORDER.all_done.wait(600)
    stopping.set()
    worker.stop()
    finish(
        RECORDER,
        stop_reporting,
        started_s,
        args.out,
        started_cpu_s=started_cpu_s,
        threads=args.concurrency,
    )


if __name__ == "__main__":
    main()
