"""The benchmark runs and its counts are sane (``python -m bench --quick``); no speed is asserted.

One run of the quick mode (N=200, one repetition, a 5 s idle window, no peers, no plot) in a
subprocess; its JSON must show every task run exactly once, SQS calls per task under 0.5 and
the figures of every section present.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import peers as peers_module
from bench.common import BenchServer
from bench.report import markdown

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert (out / "latest.md").read_text().startswith("# Benchmark results")
    assert not (out / "concurrency.png").exists()  # no plot in quick mode
    results: dict[str, Any] = json.loads((out / "latest.json").read_text())
    return results


@pytest.mark.timeout(120)
def test_every_task_runs_once_at_under_half_a_call_each(quick_results: dict[str, Any]) -> None:
    rows = quick_results["sqs"]
    assert {row["impl"] for row in rows} >= {"simple-worker", "hand-written boto3"}
    for row in rows:
        assert row["n"] == 200
        assert row["lost"]["max"] == 0, row["impl"]
        assert row["duplicated"]["max"] == 0, row["impl"]
        assert row["left_in_queue"]["max"] == 0, row["impl"]
        assert 0.2 < row["calls_per_task"]["total"]["max"] < 0.5, row["impl"]
        assert row["drain_tasks_per_s"]["median"] > 0
    ours = [row for row in rows if row["impl"] == "simple-worker"]
    assert {row["handler_ms"] for row in ours} == {0.0, 10.0}
    for row in ours:
        run = row["runs"][0]
        assert run["calls"]["SendMessageBatch"] == 20  # 199 tasks after the warm-up one
        assert run["calls"]["DeleteMessageBatch"] <= 21
        assert row["ratio_to_limit"]["median"] > 0


def test_an_idle_worker_long_polls(quick_results: dict[str, Any]) -> None:
    idle = quick_results["idle"]
    assert idle["window_s"] == 5.0
    # One 20 s long poll starts in a 5 s window (a busy-polling worker would make dozens).
    assert idle["receive_calls_per_hour_per_queue"]["max"] <= 2 * 3600 / 5


def test_in_process_sections_report_their_figures(quick_results: dict[str, Any]) -> None:
    assert quick_results["memory"]["tasks_per_s"]["median"] > 0
    assert quick_results["memory"]["overhead_us"]["median"] > 0
    for row in quick_results["validation"].values():
        assert row["outgoing_us"]["median"] > 0
        assert row["encode_decode_us"]["median"] > 0
    assert [row["concurrency"] for row in quick_results["concurrency"]] == [1, 8]
    assert {row["target"] for row in quick_results["targets"]} >= {
        "SQS calls per task <= 0.31",
        "flat payload validation < 5 µs",
    }
    assert "moto" in quick_results["server"]
    assert quick_results["machine"]["cores"] >= 1


_ANSWERS_BEFORE_AND_AFTER_PATCHING = """
import argparse
import json
from werkzeug.test import Client
from moto.server import create_backend_app
from bench.server import _speed_up_moto

client = Client(create_backend_app("sqs"))

def call(action, document):
    headers = {
        "X-Amz-Target": f"AmazonSQS.{action}",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sqs/aws4_request,"
        " SignedHeaders=host, Signature=x",
    }
    response = client.post("/", data=json.dumps(document), headers=headers)
    assert response.status_code == 200, response.data
    return json.loads(response.data)

url = call("CreateQueue", {"QueueName": "q"})["QueueUrl"]
attributes = {
    f"simple_worker.{name}": {"DataType": "String", "StringValue": f"{name}-é"}
    for name in ("task_id", "task_fingerprint", "contract_fingerprint")
}
entries = [
    {"Id": str(i), "MessageBody": json.dumps({"i": i}), "MessageAttributes": attributes}
    for i in range(3)
] + [{"Id": "3", "MessageBody": "no attributes"}]
call("SendMessageBatch", {"QueueUrl": url, "Entries": entries})
receive = {
    "QueueUrl": url,
    "MaxNumberOfMessages": 10,
    "VisibilityTimeout": 0,
    "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
    "MessageAttributeNames": ["All"],
}
answers = [call("ReceiveMessage", receive)]
_speed_up_moto()
answers.append(call("ReceiveMessage", receive))
print(json.dumps(answers))
"""


@pytest.mark.timeout(60)
def test_the_benchmark_server_answers_receives_as_moto_does() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _ANSWERS_BEFORE_AND_AFTER_PATCHING],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    before, after = json.loads(completed.stdout)
    assert len(before["Messages"]) == 4
    for message in (*before["Messages"], *after["Messages"]):
        assert len(message.pop("ReceiptHandle")) == 185  # new on every receive
        message["Attributes"].pop("ApproximateReceiveCount")  # 1, then 2
    assert after == before


@pytest.mark.timeout(150)
def test_the_peers_section_runs_a_peer_beside_ours_and_the_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = peers_module.Peer(
        name="fake peer",
        packages=(),
        script=str(REPO_ROOT / "tests" / "bench_fake_peer.py"),
        threads=None,
        queue_suffix="-default",
    )
    monkeypatch.setattr(peers_module, "PEERS", (fake,))
    monkeypatch.setattr(peers_module, "venv_python", lambda peer: Path(sys.executable))
    args = argparse.Namespace(
        n=30, peer_n=30, peer=[], repeat=1, handler_ms=1.0, concurrency=2, idle_s=3.0
    )
    server = BenchServer()
    try:
        section = peers_module.peers_section(server, args, tmp_path)
    finally:
        server.close()

    rows = {(row["impl"], row["handler_ms"]): row for row in section["rows"]}
    assert set(rows) == {
        (impl, handler_ms)
        for impl in ("hand-written boto3", "simple-worker", "fake peer")
        for handler_ms in (0.0, 1.0)
    }
    for row in rows.values():
        assert row["lost"]["max"] == 0, row["impl"]
        assert row["duplicated"]["max"] == 0, row["impl"]
        assert row["ratio_to_limit"]["median"] > 0
    assert rows[("hand-written boto3", 0.0)]["ratio_to_limit"]["median"] == 1.0
    fake_calls = rows[("fake peer", 0.0)]["calls_per_task"]
    assert fake_calls["send"]["median"] == 29 / 30  # one SendMessage per task after the warm-up
    assert fake_calls["delete"]["median"] == 1.0  # one DeleteMessage per task
    # A 5 s long poll: one or two receives start in the 3 s window.
    assert 0 < section["idle"]["fake peer"] <= 2 * 3600 / 3
    report = markdown({**_EMPTY_RESULTS, "peers": section})
    assert "| fake peer | 1 | trivial |" in report


_EMPTY_RESULTS: dict[str, Any] = {
    "command": "test",
    "machine": {
        "cpu": "cpu",
        "cores": 2,
        "platform": "p",
        "python": "3",
        "load_average_at_start": [0.0],
    },
    "repeat": 1,
}
