"""Our worker as a benchmark consumer: ``python -m bench.worker_proc ...`` (one process).

It runs ``app.worker(concurrency=C).start()`` with the library's defaults (20 s long polls) on
the generated contract's ``add`` task, whose handler records ``a`` (the task's number) and
sleeps ``--handler-ms``. It stops when ``--n`` distinct tasks have run, or after ``--run-s``
seconds (idle runs), or at ``--timeout``; then writes a JSON result file. Protocol: see
``bench.common.Consumer``.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from bench.peers.peer_protocol import (
    Recorder,
    cpu_s,
    finish,
    release_when_stopping,
    say,
    start_reporting,
)
from generated import CONTRACT, tasks
from simple_worker import App
from simple_worker.brokers.sqs import SqsBroker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", required=True)
    parser.add_argument("--endpoint", required=True, help="the benchmark server, for release")
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--handler-ms", type=float, default=0.0)
    parser.add_argument("--receivers", type=int, default=None, help="default: the library's")
    parser.add_argument("--run-s", type=float, default=None)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    app = App(broker_url=args.broker, queue_prefix=args.prefix, contract=CONTRACT)
    recorder = Recorder(args.n)
    sleep_s = args.handler_ms / 1000

    @app.register_task_handler(tasks.add)
    def add(*, a: int, b: int) -> None:
        if sleep_s:
            time.sleep(sleep_s)
        recorder.record(a)

    broker = app.broker
    assert isinstance(broker, SqsBroker)
    queue_name = app.queue_name("default")
    broker.queue_url(queue_name)  # the client and the URL, before the clock starts
    worker = app.worker(
        ["default"], concurrency=args.concurrency, receivers_per_queue=args.receivers
    )
    stopping = threading.Event()

    def stop_when_done() -> None:
        limit_s = args.timeout if args.run_s is None else args.run_s
        recorder.all_done.wait(limit_s)
        stopping.set()
        worker.stop()

    threads = [
        threading.Thread(target=stop_when_done, daemon=True),
        threading.Thread(
            target=release_when_stopping, args=(args.endpoint, queue_name, stopping), daemon=True
        ),
    ]
    for thread in threads:
        thread.start()
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
        client_calls=broker.api_calls(),
    )
    broker.close()


if __name__ == "__main__":
    main()
