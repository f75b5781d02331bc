"""``simple-worker dev-sqs``: a local SQS server in a subprocess, used, then stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from moto.sqs.models import Message

from simple_worker import App
from simple_worker.brokers.base import OutgoingMessage
from simple_worker.brokers.sqs import SqsBroker
from simple_worker.brokers.url import broker_from_url
from simple_worker.cli.main import main
from simple_worker.ops.local_sqs import local_sqs

REPO_ROOT = Path(__file__).resolve().parent.parent


def _read_broker_url(server: subprocess.Popen[str], timeout_s: float) -> str:
    assert server.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            pytest.fail(f"dev-sqs exited early with {server.wait()}")
        if line.startswith("broker URL: "):
            return line.removeprefix("broker URL: ").strip()
    pytest.fail("dev-sqs printed no broker URL")


def test_dev_sqs_serves_until_ctrl_c(capsys: pytest.CaptureFixture[str]) -> None:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "simple_worker.cli.main", "dev-sqs", "--port", "0"],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url = _read_broker_url(server, timeout_s=30)
        assert url.startswith("sqs://testing:testing@127.0.0.1:")
        assert main(["queues", "ensure", "default", "--broker", url, "--prefix", "dev-"]) == 0
        app = App(url, "dev-")

        @app.register_task_handler("noop")
        def noop() -> None:
            pass

        app.add_task("noop", {})
        assert app.queue_counts("default").visible == 1
        app.broker.close()
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()

    assert server.returncode == 0, output
    assert "local SQS stopped" in output


def test_a_port_in_use_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["dev-sqs", "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err


def test_without_moto_it_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "moto.server", None)
    code = main(["dev-sqs", "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install 'simple-worker[local]'" in err


@pytest.mark.timeout(60)
def test_the_local_server_hands_a_message_to_one_receiver_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """moto alone can give one message to two concurrent receivers; SQS (and ours) does not.

    moto checks that a message is visible, then marks it received: a receiver that checks in
    between gets it too. A pause before the marking makes that window certain.
    """
    mark_received = Message.mark_received

    def slow_mark_received(self: Message, visibility_timeout: int | None = None) -> None:
        time.sleep(0.01)
        mark_received(self, visibility_timeout)

    monkeypatch.setattr(Message, "mark_received", slow_mark_received)
    total, receivers = 40, 4
    with local_sqs() as server:
        broker = broker_from_url(server.broker_url())
        assert isinstance(broker, SqsBroker)
        broker.create_queue("atomic", attributes={"VisibilityTimeout": "60"})
        received: list[str] = []
        lock = threading.Lock()

        def receive() -> None:
            while batch := broker.receive("atomic", max_messages=1, wait_s=1):
                with lock:
                    received.extend(message.message_id for message in batch)

        threads = [threading.Thread(target=receive) for _ in range(receivers)]
        for thread in threads:
            thread.start()  # all polling the empty queue while the messages arrive
        for _ in range(total // 10):
            broker.send("atomic", [OutgoingMessage(ref="r", body="{}") for _ in range(10)])
        for thread in threads:
            thread.join(30)
        broker.close()

    assert len(set(received)) == total
    assert len(received) == total  # no message went to two receivers
