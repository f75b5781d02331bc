"""Peer: Celery with kombu's SQS transport, its own worker with the threads pool (8 threads).

Run in its own virtualenv: ``python celery_sqs_peer.py produce|consume ...``. The queue is
``<prefix>-default``, given to kombu as a predefined queue (so no ListQueues or CreateQueue);
the producer is ``add.delay`` (one SendMessage per task). The worker is Celery's own
(``app.Worker``, as ``celery worker -P threads -c 8`` runs it), in the main thread; once every
task ran it gets a SIGTERM, Celery's warm shutdown.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import threading
import time
from typing import Any
from urllib.parse import urlsplit

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
Celery: Any = importlib.import_module("celery").Celery

RECORDER: Recorder | None = None
SLEEP_S = 0.0
ACCOUNT_ID = "123456789012"  # moto's default account, in its queue URLs


def build(args: argparse.Namespace) -> tuple[Any, Any, str]:
    global SLEEP_S  # noqa: PLW0603 (the task reads it)
    SLEEP_S = args.handler_ms / 1000
    queue_name = args.prefix.rstrip("-") + "-default"
    endpoint = urlsplit(args.endpoint)
    # The SQS endpoint is the broker URL's host; credentials come from the environment.
    app = Celery("celery_sqs_peer", broker=f"sqs://{endpoint.netloc}")
    app.conf.update(
        broker_transport_options={
            "region": "us-east-1",
            "is_secure": endpoint.scheme == "https",
            "predefined_queues": {
                queue_name: {"url": f"{args.endpoint}/{ACCOUNT_ID}/{queue_name}"}
            },
        },
        task_default_queue=queue_name,
        result_backend=None,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,  # the protocol's lines go to stdout
    )

    @app.task(name="add")  # type: ignore[untyped-decorator]
    def add(a: int, b: int) -> int:
        if SLEEP_S:
            time.sleep(SLEEP_S)
        if RECORDER is not None:
            RECORDER.record(a)
        return a + b

    return app, add, queue_name


def main() -> None:
    global RECORDER  # noqa: PLW0603
    args = peer_arguments(default_concurrency=8)
    app, add, queue_name = build(args)
    if args.mode == "produce":
        produce(args.n, lambda number: add.delay(number, 0))
        return
    recorder = RECORDER = Recorder(args.n)
    worker = app.Worker(
        pool="threads",
        concurrency=args.concurrency,
        loglevel="WARNING",
        quiet=True,
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
    )
    stopping = threading.Event()

    def stop_when_done() -> None:
        recorder.all_done.wait(600)
        stopping.set()
        os.kill(os.getpid(), signal.SIGTERM)  # Celery's warm shutdown

    threading.Thread(target=stop_when_done, daemon=True).start()
    threading.Thread(
        target=release_when_stopping, args=(args.endpoint, queue_name, stopping), daemon=True
    ).start()
    stop_reporting = start_reporting(recorder)
    started_s = time.time()
    started_cpu_s = cpu_s()
    say("ready")
    worker.start()
    finish(
        recorder,
        stop_reporting,
        started_s,
        args.out,
        started_cpu_s=started_cpu_s,
        threads=args.concurrency,
    )


if __name__ == "__main__":
    main()
