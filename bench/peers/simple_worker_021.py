"""Peer: the original simple-worker 0.2.21 from PyPI (one message per call, no long polling).

Run in its own virtualenv: ``python simple_worker_021.py produce|consume ...``. It has no
concurrency setting (one thread) and no batching: every add_task is GetQueueUrl plus
SendMessage, every task received is GetQueueUrl plus ReceiveMessage, every ack GetQueueUrl
plus DeleteMessage.
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

# The 0.2.21 package of this peer's virtualenv (untyped; not ours, whatever mypy would find).
simple_worker_021: Any = importlib.import_module("simple_worker")


def build(args: argparse.Namespace, recorder: Recorder | None) -> Any:
    app = simple_worker_021.App(
        queue_prefix=args.prefix, sqs_endpoint_url=args.endpoint, sqs_region="us-east-1"
    )
    sleep_s = args.handler_ms / 1000

    @app.register_task_handler("add")  # type: ignore[untyped-decorator]
    def add(a: int, b: int) -> None:
        if sleep_s:
            time.sleep(sleep_s)
        if recorder is not None:
            recorder.record(a)

    return app


def main() -> None:
    args = peer_arguments(default_concurrency=1)
    if args.mode == "produce":
        app = build(args, None)
        produce(args.n, lambda number: app.add_task("add", a=number, b=0))
        return
    recorder = Recorder(args.n)
    app = build(args, recorder)
    worker = app.worker()
    stopping = threading.Event()

    def stop_when_done() -> None:
        recorder.all_done.wait(600)
        stopping.set()
        worker.shutdown()

    threading.Thread(target=stop_when_done, daemon=True).start()
    threading.Thread(
        target=release_when_stopping,
        args=(args.endpoint, args.prefix + "default", stopping),
        daemon=True,
    ).start()
    stop_reporting = start_reporting(recorder)
    started_s = time.time()
    started_cpu_s = cpu_s()
    say("ready")
    worker.start()
    finish(recorder, stop_reporting, started_s, args.out, started_cpu_s=started_cpu_s, threads=1)


if __name__ == "__main__":
    main()
