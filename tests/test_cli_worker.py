"""``simple-worker worker MODULE:APP``: a subprocess on moto's server, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from simple_worker import App
from simple_worker.cli.main import main
from tests.sqs_server import MotoSqs

REPO_ROOT = Path(__file__).resolve().parent.parent

TINY_APP = """
import os
from pathlib import Path

from simple_worker import App

app = App(os.environ["TINY_BROKER_URL"], os.environ["TINY_PREFIX"])
not_an_app = 42


@app.register_task_handler("write")
def write(line: str) -> None:
    with Path(os.environ["TINY_RESULTS"]).open("a", encoding="utf-8") as results:
        results.write(line + "\\n")
"""


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def tiny_app(
    moto_server: MotoSqs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Path]:
    """A module ``tinyapp`` in tmp_path (the current directory) with an app on moto."""
    prefix = f"k{uuid.uuid4().hex[:8]}-"
    (tmp_path / "tinyapp.py").write_text(TINY_APP)
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.setenv("TINY_BROKER_URL", moto_server.broker_url("wait_time=1"))
    monkeypatch.setenv("TINY_PREFIX", prefix)
    monkeypatch.setenv("TINY_RESULTS", str(tmp_path / "results.txt"))
    monkeypatch.chdir(tmp_path)
    # load_app imports into this process: restore sys.path and forget the modules afterwards.
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("tinyapp", "broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert main(["queues", "ensure", "default", "--broker", moto_server.broker_url(),
                 "--prefix", prefix]) == 0  # fmt: skip
    capsys.readouterr()
    yield tmp_path
    for name in ("tinyapp", "broken"):
        sys.modules.pop(name, None)


def test_the_worker_runs_tasks_and_stops_on_sigterm_with_exit_0(tiny_app: Path) -> None:
    producer = App(os.environ["TINY_BROKER_URL"], os.environ["TINY_PREFIX"])

    @producer.register_task_handler("write")
    def write(line: str) -> None:
        pass

    for i in range(5):
        producer.add_task("write", {"line": f"line {i}"})
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "simple_worker.cli.main", "worker", "tinyapp:app",
         "--concurrency", "2", "--receivers-per-queue", "3"],
        cwd=tiny_app, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        results = tiny_app / "results.txt"
        deadline = time.monotonic() + 30
        while not (results.exists() and len(results.read_text().splitlines()) >= 5):
            assert time.monotonic() < deadline, "the worker did not run the tasks"
            assert worker.poll() is None, worker.communicate()[0]
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()

    assert worker.returncode == 0, output
    assert "with concurrency 2 (3 receivers per queue)" in output
    assert "received SIGTERM: stopping" in output
    assert sorted(results.read_text().splitlines()) == [f"line {i}" for i in range(5)]


@pytest.mark.parametrize(
    ("app_path", "expected"),
    [
        ("nosuchmodule:app", "cannot import 'nosuchmodule': no module 'nosuchmodule'"),
        ("tinyapp:nope", "module 'tinyapp' has no attribute 'nope'"),
        ("tinyapp:not_an_app", "tinyapp:not_an_app is a int, not a simple_worker App"),
        ("broken:app", "importing 'broken' failed: RuntimeError: boom at import"),
        ("not a path", "is not MODULE:APP"),
    ],
)
def test_an_app_that_does_not_load_is_one_line_and_exit_2(
    tiny_app: Path, capsys: pytest.CaptureFixture[str], app_path: str, expected: str
) -> None:
    code, _, err = _run(capsys, "worker", app_path)

    assert code == 2
    assert expected in err
    assert "Traceback" not in err


def test_a_missing_queue_stops_the_worker_before_it_starts(
    tiny_app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "worker", "tinyapp:app", "--queue", "nope")
    assert code == 1
    assert "does not exist" in err
    assert "simple-worker queues ensure" in err


def test_module_alone_means_its_app_attribute(tiny_app: Path) -> None:
    from simple_worker.cli.ops_worker import load_app

    assert isinstance(load_app("tinyapp"), App)
