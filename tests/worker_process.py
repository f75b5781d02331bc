"""A worker process for tests that stop or kill workers (run as ``python -m tests.worker_process``).

Its handler ``work(i, sleep_ms)`` appends ``i`` to a results file once it has run, so a test can
count runs and duplicates across processes, even after a kill -9.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

from simple_worker import App


def build_app(broker_url: str, prefix: str, results_path: str) -> App:
    app = App(broker_url=broker_url, queue_prefix=prefix)

    @app.register_task_handler("work")
    def work(i: int, sleep_ms: int = 0) -> None:
        time.sleep(sleep_ms / 1000)
        # O_APPEND writes of one short line land whole, even from several threads.
        with open(results_path, "a", encoding="utf-8") as results:
            results.write(f"{i}\n")

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--grace", type=float, default=30.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(threadName)s %(levelname)s %(message)s")
    app = build_app(args.broker, args.prefix, args.results)
    print(f"worker pid {os.getpid()} ready", flush=True)
    app.worker(concurrency=args.concurrency, shutdown_grace_s=args.grace).start()
    print("worker exited cleanly", flush=True)


if __name__ == "__main__":
    main()
