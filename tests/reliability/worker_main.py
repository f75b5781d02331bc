"""A worker process for the reliability tests (``python -m tests.reliability.worker_main``).

Handlers record what they did in a results file, one line per event, so a test can count runs
and duplicates across processes, even after a kill -9:

- ``work(i, sleep_ms=0)``: sleeps, then writes ``i``;
- ``misbehave(i, how)``: on its first delivery writes ``attempt i`` and misbehaves (``raise``:
  RuntimeError, ``exit``: ``sys.exit(3)``, ``interrupt``: KeyboardInterrupt, ``base``: a bare
  BaseException subclass); on a later delivery writes ``i``;
- ``fails(i)``: always raises (writes ``attempt i``).

Logging goes to stderr in the format ``LEVEL logger: message`` at ``--log-level``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import time

from simple_worker import App, RunningTask


class HandlerEscape(BaseException):
    """A BaseException that is neither SystemExit nor KeyboardInterrupt."""


def _append(path: str, line: str) -> None:
    # O_APPEND writes of one short line land whole, even from several threads and processes.
    with open(path, "a", encoding="utf-8") as results:
        results.write(line + "\n")


def build_app(broker_url: str, prefix: str, results_path: str) -> App:
    app = App(broker_url=broker_url, queue_prefix=prefix)
    delivery = threading.local()

    @app.task_context
    def remember_delivery(task: RunningTask) -> contextlib.AbstractContextManager[None]:
        delivery.receive_count = task.receive_count
        return contextlib.nullcontext()

    @app.register_task_handler("work")
    def work(i: int, sleep_ms: int = 0) -> None:
        time.sleep(sleep_ms / 1000)
        _append(results_path, str(i))

    @app.register_task_handler("misbehave")
    def misbehave(i: int, how: str) -> None:
        if delivery.receive_count > 1:
            _append(results_path, str(i))
            return
        _append(results_path, f"attempt {i}")
        if how == "exit":
            sys.exit(3)
        if how == "interrupt":
            raise KeyboardInterrupt
        if how == "base":
            raise HandlerEscape("escaping the handler")
        raise RuntimeError(f"task {i} failed on purpose")

    @app.register_task_handler("fails")
    def fails(i: int) -> None:
        _append(results_path, f"attempt {i}")
        raise RuntimeError(f"task {i} always fails")

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--grace", type=float, default=30.0)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    logging.basicConfig(
        level=args.log_level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    app = build_app(args.broker, args.prefix, args.results)
    print(f"worker pid {os.getpid()} ready", flush=True)
    app.worker(concurrency=args.concurrency, shutdown_grace_s=args.grace).start()
    print("worker exited cleanly", flush=True)


if __name__ == "__main__":
    main()
