"""The protocol every benchmark peer and consumer follows; standard library only.

Peers run in their own virtualenvs, so this module must import nothing but the standard
library. A peer script takes ``peer_arguments()``; its producer side is ``produce()``. A
consumer prints ``ready`` when it starts consuming, ``progress K`` as the number of
distinct tasks done grows, and writes a JSON result file (``Recorder.result()`` plus
``started_s``) when it exits. ``release`` asks the benchmark server to end the queue's long
polls, so a finished consumer does not wait up to 20 s for its last poll.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path


class Recorder:
    """Counts runs per task number; reports progress; says when ``n`` distinct ones ran."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.runs: Counter[int] = Counter()
        self.first_s: float | None = None
        self.last_s: float | None = None
        self.all_done = threading.Event()
        self._lock = threading.Lock()

    def record(self, number: int) -> None:
        with self._lock:
            now_s = time.time()
            if self.first_s is None:
                self.first_s = now_s
            self.runs[number] += 1
            if self.runs[number] == 1:
                self.last_s = now_s
                if len(self.runs) >= self.n:
                    self.all_done.set()

    def distinct(self) -> int:
        with self._lock:
            return len(self.runs)

    def result(self) -> dict[str, object]:
        with self._lock:
            return {
                "distinct": len(self.runs),
                "runs": sum(self.runs.values()),
                "first_s": self.first_s,
                "last_s": self.last_s,
            }


_say_lock = threading.Lock()


def say(line: str) -> None:
    """One protocol line on stdout, whole: the progress thread and the main thread both write."""
    with _say_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def report_progress(recorder: Recorder, stop: threading.Event) -> None:
    reported = -1
    while not stop.wait(0.02):
        done = recorder.distinct()
        if done != reported:
            say(f"progress {done}")
            reported = done


def start_reporting(recorder: Recorder) -> threading.Event:
    """Report progress from a daemon thread until the returned event is set."""
    stop = threading.Event()
    threading.Thread(target=report_progress, args=(recorder, stop), daemon=True).start()
    return stop


def release(endpoint_url: str, queue_name: str) -> None:
    request = urllib.request.Request(
        f"{endpoint_url}/__bench__/release?queue={queue_name}", method="POST"
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def release_when_stopping(endpoint_url: str, queue_name: str, stopping: threading.Event) -> None:
    """Once ``stopping`` is set, wait for acks to be flushed, then end the queue's long polls."""
    stopping.wait()
    time.sleep(0.3)
    release(endpoint_url, queue_name)


def cpu_s() -> float:
    """CPU seconds used by this process so far (all threads)."""
    return time.process_time()


def finish(
    recorder: Recorder,
    stop_reporting: threading.Event,
    started_s: float,
    out: Path,
    *,
    started_cpu_s: float,
    **extra: object,
) -> None:
    stop_reporting.set()
    say(f"progress {recorder.distinct()}")
    result = {**recorder.result(), "started_s": started_s, "cpu_s": cpu_s() - started_cpu_s}
    out.write_text(json.dumps({**result, **extra}))


def peer_arguments(*, default_concurrency: int) -> argparse.Namespace:
    """``produce|consume --endpoint --prefix --n [--concurrency] [--handler-ms] [--out]``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["produce", "consume"])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=default_concurrency)
    parser.add_argument("--handler-ms", type=float, default=0.0)
    parser.add_argument("--out", type=Path)
    return parser.parse_args()


def produce(
    n: int,
    send: Callable[[int], object],
    batch: Callable[[], contextlib.AbstractContextManager[object]] = contextlib.nullcontext,
) -> None:
    """The producer side: send task 0 (warm-up), print ``warm``, wait for a line on stdin, then
    send tasks 1 to n - 1 inside ``batch()`` and print ``{"produce_s": ...}``."""
    send(0)
    print("warm", flush=True)
    input()
    started_s = time.perf_counter()
    with batch():
        for number in range(1, n):
            send(number)
    print(json.dumps({"produce_s": time.perf_counter() - started_s}), flush=True)
