"""Peers: other SQS task libraries, each in its own virtualenv, on the same counting server.

Each peer is a script in this folder (``python SCRIPT produce|consume ...``, standard library
plus the peer's packages, protocol in ``peer_protocol``), run with the python of
``bench/.venvs/<peer>`` (created and installed on first use). Producer and consumer are the
peer's normal ones; their calls are counted at the server like ours. The section runs our
worker and the hand-written loop at the same N beside them (each repetition interleaved, so
drifting load hits all alike) and reports each one's throughput as a ratio of the loop's in the
same repetition, plus each consumer's receive calls per hour on an empty queue.

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

from bench.common import (
    REPO_ROOT,
    BenchServer,
    Consumer,
    by_kind,
    calls_for,
    combine_runs,
    sqs_client,
)
from bench.idle import count_idle_receives
from bench.sqs_runs import LIMIT, OURS, run_e2e

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
    Peer(
        name="sqs-workers 0.7.3",
        packages=("sqs-workers==0.7.3", "typing-extensions==4.16.0"),  # undeclared dependency
        script="sqs_workers_peer.py",
        threads=None,
        queue_suffix="-default",
    ),
    Peer(
        name="Celery 5.7 + kombu 5.7 SQS",
        packages=("celery[sqs]==5.7.0", "kombu==5.7.0"),
        script="celery_sqs_peer.py",
        threads=8,
        queue_suffix="-default",
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


def _command(
    peer: Peer, mode: str, *, server: BenchServer, prefix: str, n: int, handler_ms: float
) -> list[str]:
    command = [
        str(venv_python(peer)),
        str(PEERS_DIR / peer.script),
        mode,
        f"--endpoint={server.endpoint_url}",
        f"--prefix={prefix}",
        f"--n={n}",
        f"--handler-ms={handler_ms}",
    ]
    if peer.threads is not None:
        command.append(f"--concurrency={peer.threads}")
    return command


def run_peer(
    server: BenchServer, peer: Peer, *, n: int, handler_ms: float, workdir: Path
) -> dict[str, Any]:
    prefix = f"p{uuid.uuid4().hex[:8]}-"
    queue_name = prefix.rstrip("-") + peer.queue_suffix
    client: Any = sqs_client(server.endpoint_url)
    url = client.create_queue(QueueName=queue_name)["QueueUrl"]
    producer = subprocess.Popen(
        _command(peer, "produce", server=server, prefix=prefix, n=n, handler_ms=handler_ms),
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
        [
            *_command(peer, "consume", server=server, prefix=prefix, n=n, handler_ms=handler_ms),
            f"--out={result_path}",
        ],
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


def peers_section(server: BenchServer, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Ours, the hand-written loop and every selected peer, same N, same run; then idle."""
    n = min(args.n, args.peer_n)
    peers = [
        peer
        for peer in PEERS
        if not args.peer or any(wanted.lower() in peer.name.lower() for wanted in args.peer)
    ]
    rows = []
    for handler_ms in (0.0, args.handler_ms):
        runs: dict[str, list[dict[str, Any]]] = {}
        for repetition in range(args.repeat):
            for impl in [LIMIT, OURS, *peers]:
                name = impl if isinstance(impl, str) else impl.name
                _log(f"peers: {name} handler {handler_ms:g} ms, run {repetition + 1}/{args.repeat}")
                started_s = time.monotonic()
                if isinstance(impl, str):
                    run = run_e2e(
                        server,
                        impl,
                        n=n,
                        concurrency=args.concurrency,
                        handler_ms=handler_ms,
                        workdir=workdir,
                    )
                    run["threads"] = args.concurrency
                else:
                    run = run_peer(server, impl, n=n, handler_ms=handler_ms, workdir=workdir)
                run["wall_s"] = time.monotonic() - started_s
                runs.setdefault(name, []).append(run)
        limit_rates = [run["drain_tasks_per_s"] for run in runs[LIMIT]]
        rows += [
            combine_runs(
                name_runs,
                copied=("impl", "threads", "n", "handler_ms"),
                summarised=("produce_tasks_per_s", "drain_tasks_per_s", "lost", "duplicated"),
                limit_rates=limit_rates,
            )
            for name_runs in runs.values()
        ]
    _log(f"peers: idle ({args.idle_s:g} s, all peers at once)")
    return {"n": n, "rows": rows, "idle": _idle(server, peers, args.idle_s, workdir)}


def _idle(
    server: BenchServer, peers: list[Peer], window_s: float, workdir: Path
) -> dict[str, float]:
    """Receive calls per hour of each peer's consumer on its own empty queue, all at once."""
    client: Any = sqs_client(server.endpoint_url)
    consumers: dict[str, Consumer] = {}
    names: dict[str, str] = {}
    before = server.counts()
    try:
        for peer in peers:
            prefix = f"p{uuid.uuid4().hex[:8]}-"
            queue_name = prefix.rstrip("-") + peer.queue_suffix
            client.create_queue(QueueName=queue_name)
            result_path = workdir / f"{prefix}idle.json"
            names[queue_name] = peer.name
            consumers[queue_name] = Consumer(
                [
                    *_command(peer, "consume", server=server, prefix=prefix, n=1, handler_ms=0.0),
                    f"--out={result_path}",
                ],
                result_path,
                cwd=workdir,
                env=_env(server),
            )
        per_hour = count_idle_receives(server, consumers, window_s, before)
    finally:
        for consumer in consumers.values():
            consumer.kill()
        for queue_name in consumers:
            server.release(queue_name)
            client.delete_queue(QueueUrl=client.get_queue_url(QueueName=queue_name)["QueueUrl"])
        client.close()
    return {names[queue]: rate for queue, rate in per_hour.items()}


def _log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)
