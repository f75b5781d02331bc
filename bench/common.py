"""Shared pieces: the benchmark server process, consumer subprocesses, counts, statistics."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
REGION: Final = "us-east-1"
DUMMY_KEY: Final = "testing"  # moto accepts any credentials; nothing here reaches AWS


class BenchServer:
    """The counting moto server (``python -m bench.server``) as a subprocess of the benchmark."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.server"],
            cwd=REPO_ROOT,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark server did not start")
        hello = json.loads(line)
        self.port = int(hello["port"])
        self.description = str(hello["server"])
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    def broker_url(self) -> str:
        """Our broker URL for this server, with the library's defaults (20 s long polls)."""
        return f"sqs://{DUMMY_KEY}:{DUMMY_KEY}@127.0.0.1:{self.port}?region={REGION}"

    def counts(self) -> Counter[str]:
        """Requests so far, keyed ``"queue|Action"``."""
        with urllib.request.urlopen(f"{self.endpoint_url}/__bench__/counts", timeout=30) as r:
            return Counter(json.loads(r.read()))

    def release(self, queue_name: str) -> None:
        request = urllib.request.Request(
            f"{self.endpoint_url}/__bench__/release?queue={queue_name}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=30):
            pass

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def sqs_client(endpoint_url: str) -> object:
    """A plain boto3 SQS client for setup and for the hand-written loop."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    return boto3.session.Session(
        aws_access_key_id=DUMMY_KEY, aws_secret_access_key=DUMMY_KEY, region_name=REGION
    ).client(
        "sqs",
        endpoint_url=endpoint_url,
        config=Config(max_pool_connections=32, read_timeout=40, retries={"mode": "standard"}),
    )


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}


def calls_for(before: Mapping[str, int], after: Mapping[str, int], queue: str) -> Counter[str]:
    """API calls on ``queue`` between two snapshots, by action."""
    calls: Counter[str] = Counter()
    for key, count in after.items():
        name, _, action = key.partition("|")
        if name == queue and count - before.get(key, 0):
            calls[action] += count - before.get(key, 0)
    return calls


def by_kind(calls: Mapping[str, int]) -> dict[str, int]:
    """Calls grouped as send, receive, delete and other, plus the total."""
    kinds = {"send": 0, "receive": 0, "delete": 0, "other": 0}
    for action, count in calls.items():
        if action.startswith("SendMessage"):
            kinds["send"] += count
        elif action == "ReceiveMessage":
            kinds["receive"] += count
        elif action.startswith("DeleteMessage"):
            kinds["delete"] += count
        else:
            kinds["other"] += count
    kinds["total"] = sum(kinds.values())
    return kinds


class Consumer:
    """A consumer subprocess (ours, the hand-written loop, or a peer) and its progress lines.

    The protocol: it prints ``ready`` once it is about to consume, then ``progress K`` as the
    number of distinct tasks done grows, and writes a JSON result file when it exits.
    """

    def __init__(
        self,
        command: Sequence[str],
        result_path: Path,
        *,
        cwd: Path = REPO_ROOT,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.result_path = result_path
        self.done = 0
        self._ready = threading.Event()
        self._changed = threading.Condition()
        self._lines: list[str] = []
        self.process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        self._reader = threading.Thread(
            target=self._read, args=(self.process.stdout,), name="bench-consumer-reader"
        )
        self._reader.start()

    def wait_ready(self, timeout_s: float) -> None:
        if not self._ready.wait(timeout_s):
            self.kill()
            raise RuntimeError(f"consumer not ready in {timeout_s} s:\n{self.output()}")

    def wait_until(self, condition: Callable[[int], bool], timeout_s: float) -> bool:
        deadline_s = time.monotonic() + timeout_s
        with self._changed:
            while not condition(self.done):
                remaining_s = deadline_s - time.monotonic()
                if remaining_s <= 0 or self.process.poll() is not None:
                    return condition(self.done)
                self._changed.wait(min(remaining_s, 0.2))
        return True

    def finish(self, timeout_s: float) -> dict[str, Any]:
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(5)
        if not self.result_path.exists():
            raise RuntimeError(f"consumer wrote no result:\n{self.output()}")
        result: dict[str, Any] = json.loads(self.result_path.read_text())
        return result

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return "".join(self._lines[-60:])

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.append(line)
            if line.startswith("ready"):
                self._ready.set()
            elif line.startswith("progress "):
                with self._changed:
                    self.done = int(line.split()[1])
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of repetitions."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def combine_runs(
    runs: Sequence[Mapping[str, Any]],
    *,
    copied: Sequence[str],
    summarised: Sequence[str],
    limit_rates: Sequence[float] | None,
) -> dict[str, Any]:
    """Repetitions of one implementation as one row of the tables.

    ``copied`` keys come from the first run; each ``summarised`` key and the calls per task of
    each kind become a summary; with ``limit_rates`` (the hand-written loop's drain rates, one
    per repetition), ``ratio_to_limit`` pairs each run with the loop's run of its repetition.
    """
    first = runs[0]
    row: dict[str, Any] = {key: first[key] for key in copied}
    for key in summarised:
        row[key] = summary([float(run[key]) for run in runs])
    row["calls_per_task"] = {
        kind: summary([run["calls_per_task"][kind] for run in runs])
        for kind in first["calls_per_task"]
    }
    if limit_rates is not None:
        row["ratio_to_limit"] = summary(
            [run["drain_tasks_per_s"] / limit for run, limit in zip(runs, limit_rates, strict=True)]
        )
    row["runs"] = list(runs)
    return row


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "load_average_at_start": list(os.getloadavg()),
    }
