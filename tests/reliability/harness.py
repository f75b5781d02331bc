"""Shared helpers of the reliability scenarios: queues on moto, worker subprocesses, results.

Not a test module: ``scenarios.py`` and ``scripts/reliability_report.py`` use these too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

import attrs

from tests.sqs_server import MotoSqs

REPO_ROOT = Path(__file__).resolve().parents[2]


def new_prefix() -> str:
    return f"r{uuid.uuid4().hex[:8]}-"


def create_queue(
    moto: MotoSqs, name: str, *, visibility_timeout_s: int, max_receive_count: int | None = None
) -> None:
    """Create ``name``; with ``max_receive_count`` also ``name-dlq`` and a RedrivePolicy."""
    attributes = {"VisibilityTimeout": str(visibility_timeout_s)}
    if max_receive_count is not None:
        dlq_url = moto.client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = moto.client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
        )
    moto.client.create_queue(QueueName=name, Attributes=attributes)  # type: ignore[arg-type]


def wait_for(
    condition: Callable[[], bool],
    timeout_s: float,
    what: str,
    *,
    workers: tuple[WorkerProcess, ...] = (),
) -> float:
    """Poll ``condition`` until true; return the seconds waited; fail after ``timeout_s``.

    Fails at once, with its stderr, if one of ``workers`` exits meanwhile.
    """
    started = time.monotonic()
    while not condition():
        for worker in workers:
            worker.check_alive()
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


@attrs.frozen
class Results:
    """What the handlers of ``worker_main`` recorded: completed runs and failed attempts."""

    done: Counter[int]
    attempts: Counter[int]

    @classmethod
    def read(cls, path: Path) -> Results:
        done: Counter[int] = Counter()
        attempts: Counter[int] = Counter()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("attempt "):
                    attempts[int(line.split()[1])] += 1
                elif line:
                    done[int(line)] += 1
        return cls(done, attempts)

    @property
    def runs(self) -> int:
        return sum(self.done.values())

    @property
    def duplicates(self) -> int:
        return self.runs - len(self.done)


class WorkerProcess:
    """``python -m tests.reliability.worker_main`` with its stdout and stderr in files."""

    def __init__(
        self,
        broker_url: str,
        prefix: str,
        results: Path,
        *,
        name: str,
        concurrency: int = 4,
        grace_s: float = 30.0,
        log_level: str = "INFO",
    ) -> None:
        self.stdout_path = results.parent / f"{name}.stdout"
        self.stderr_path = results.parent / f"{name}.stderr"
        self._stdout: IO[str] = self.stdout_path.open("w", encoding="utf-8")
        self._stderr: IO[str] = self.stderr_path.open("w", encoding="utf-8")
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability.worker_main",
                f"--broker={broker_url}",
                f"--prefix={prefix}",
                f"--results={results}",
                f"--concurrency={concurrency}",
                f"--grace={grace_s}",
                f"--log-level={log_level}",
            ],
            cwd=REPO_ROOT,
            env=environment,
            stdout=self._stdout,
            stderr=self._stderr,
            text=True,
        )

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.process.kill()

    def wait(self, timeout_s: float = 60) -> int:
        try:
            return self.process.wait(timeout_s)
        finally:
            self._stdout.close()
            self._stderr.close()

    def stop(self) -> int:
        """SIGTERM and wait; kill -9 if it does not exit within a minute (never hangs a test)."""
        if self.process.poll() is None:
            self.terminate()
        try:
            return self.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.wait(30)

    def check_alive(self) -> None:
        """Raise AssertionError with the end of its stderr if the process has exited."""
        if self.process.poll() is not None:
            tail = "\n".join(self.stderr().splitlines()[-15:])
            raise AssertionError(
                f"worker process exited with code {self.process.returncode}:\n{tail}"
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stdout(self) -> str:
        if not self._stdout.closed:
            self._stdout.flush()
        return self.stdout_path.read_text(encoding="utf-8")

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(encoding="utf-8")
