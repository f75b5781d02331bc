"""Peers: other SQS task libraries, each in its own virtualenv, on the same counting server.

Each peer is a script in this folder (``python SCRIPT produce|consume ...``, standard library
plus the peer's packages, protocol in ``peer_protocol``), run with the python of
``bench/.venvs/<peer>`` (created and installed on first use). Producer and consumer are the
peer's normal ones; their calls are counted at the server like ours.

Not yet covered: Doist's sqs-workers and Celery with kombu's SQS transport.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Final

import attrs

from bench.common import REPO_ROOT, BenchServer, Consumer, by_kind, calls_for, sqs_client, summary

PEERS_DIR: Final = Path(__file__).resolve().parent
VENVS_DIR: Final = REPO_ROOT / "bench" / ".venvs"


@attrs.frozen(kw_only=True)
class Peer:
    name: str
    packages: tuple[str, ...]
    script: str
    threads: int | None  # None: the peer has no concurrency setting
    queue_suffix: str  # the SQS queue is prefix-without-dash + suffix


PEERS: Final = (
    Peer(
        name="simple-worker 0.2.21",
        packages=("simple-worker==0.2.21",),
        script="simple_worker_021.py",
        threads=None,
        queue_suffix="-default",
    ),
    Peer(
        name="dramatiq 2.2 + dramatiq-sqs 0.4",
        packages=("dramatiq==2.2.1", "dramatiq-sqs==0.4.4"),
        script="dramatiq_sqs_peer.py",
        threads=8,
        queue_suffix="_default",
    ),
)


def venv_python(peer: Peer) -> Path:
    """The peer's virtualenv python, created and installed on first use."""
    venv = VENVS_DIR / peer.script.removesuffix(".py")
    python = venv / "bin" / "python"
    marker = venv / "installed.txt"
    wanted = "\n".join(peer.packages)
    if marker.exists() and marker.read_text() == wanted:
        return python
    VENVS_DIR.mkdir(parents=True, exist_ok=True)
    (VENVS_DIR / ".gitignore").write_text("*\n")  # never committed, never linted
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, env=env)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *peer.packages,
        ],
        check=True,
        env=env,
    )
    marker.write_text(wanted)
    return python


def _env(server: BenchServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        {
            "PYTHONPATH": str(PEERS_DIR),
            "PYTHONUNBUFFERED": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_SQS": server.endpoint_url,
        }
    )
    return env


def run_peer(
    server: BenchServer, peer: Peer, *, n: int, handler_ms: float, workdir: Path
) -> dict[str, Any]:
    python = venv_python(peer)
    prefix = f"p{uuid.uuid4().hex[:8]}-"
    queue_name = prefix.rstrip("-") + peer.queue_suffix
    client: Any = sqs_client(server.endpoint_url)
    url = client.create_queue(QueueName=queue_name)["QueueUrl"]
    common = [
        f"--endpoint={server.endpoint_url}",
        f"--prefix={prefix}",
        f"--n={n}",
        f"--handler-ms={handler_ms}",
    ]
    if peer.threads is not None:
        common.append(f"--concurrency={peer.threads}")
    script = str(PEERS_DIR / peer.script)
    producer = subprocess.Popen(
        [str(python), script, "produce", *common],
        cwd=workdir,
        env=_env(server),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert producer.stdin is not None
    assert producer.stdout is not None
    if producer.stdout.readline().strip() != "warm":
        raise RuntimeError(f"{peer.name}: producer failed")
    before = server.counts()
    producer.stdin.write("go\n")
    producer.stdin.flush()
    produce_s = float(json.loads(producer.stdout.readline())["produce_s"])
    producer.wait(60)
    result_path = workdir / f"{prefix}peer.json"
    consumer = Consumer(
        [str(python), script, "consume", *common, f"--out={result_path}"],
        result_path,
        cwd=workdir,
        env=_env(server),
    )
    try:
        consumer.wait_ready(120)
        consumer.wait_until(lambda done: done >= n, 120 + 50 * n * max(handler_ms, 2) / 1000)
        result = consumer.finish(120)
    finally:
        consumer.kill()
    after = server.counts()
    calls = calls_for(before, after, queue_name)
    client.delete_queue(QueueUrl=url)
    client.close()
    distinct = int(result["distinct"])
    drain_s = float(result["last_s"] or 0) - float(result["started_s"])
    return {
        "impl": peer.name,
        "threads": peer.threads or 1,
        "n": n,
        "handler_ms": handler_ms,
        "produce_tasks_per_s": (n - 1) / produce_s,
        "drain_tasks_per_s": distinct / drain_s if drain_s > 0 else 0.0,
        "calls": dict(calls),
        "calls_per_task": {kind: count / n for kind, count in by_kind(calls).items()},
        "lost": n - distinct,
        "duplicated": int(result["runs"]) - distinct,
    }


def peers_section(
    server: BenchServer, args: argparse.Namespace, workdir: Path
) -> list[dict[str, Any]]:
    n = min(args.n, args.peer_n)
    rows = []
    for peer in PEERS:
        for handler_ms in (0.0, args.handler_ms):
            runs = []
            for repetition in range(args.repeat):
                print(
                    f"[bench] peer {peer.name} handler {handler_ms:g} ms, run "
                    f"{repetition + 1}/{args.repeat}",
                    file=sys.stderr,
                    flush=True,
                )
                started_s = time.monotonic()
                runs.append(run_peer(server, peer, n=n, handler_ms=handler_ms, workdir=workdir))
                runs[-1]["wall_s"] = time.monotonic() - started_s
            first = runs[0]
            rows.append(
                {
                    **{k: first[k] for k in ("impl", "threads", "n", "handler_ms")},
                    **{
                        key: summary([float(run[key]) for run in runs])
                        for key in (
                            "produce_tasks_per_s",
                            "drain_tasks_per_s",
                            "lost",
                            "duplicated",
                        )
                    },
                    "calls_per_task": {
                        kind: summary([run["calls_per_task"][kind] for run in runs])
                        for kind in first["calls_per_task"]
                    },
                    "runs": runs,
                }
            )
    return rows
