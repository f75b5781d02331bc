"""A stand-in peer for tests/test_bench.py: the peer protocol over plain boto3, one thread.

Run as ``python bench_fake_peer.py produce|consume ...`` like the real peers in bench/peers.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
from peer_protocol import (  # type: ignore[import-not-found]
    Recorder,
    cpu_s,
    finish,
    peer_arguments,
    produce,
    release_when_stopping,
    say,
    start_reporting,
)


def main() -> None:
    args = peer_arguments(default_concurrency=1)
    client: Any = boto3.client("sqs", endpoint_url=args.endpoint)
    queue_name = args.prefix.rstrip("-") + "-default"
    url = client.get_queue_url(QueueName=queue_name)["QueueUrl"]
    if args.mode == "produce":
        produce(
            args.n,
            lambda number: client.send_message(QueueUrl=url, MessageBody=json.dumps({"a": number})),
        )
        return
    recorder = Recorder(args.n)
    stopping = threading.Event()
    threading.Thread(
        target=release_when_stopping, args=(args.endpoint, queue_name, stopping), daemon=True
    ).start()
    stop_reporting = start_reporting(recorder)
    started_s, started_cpu_s = time.time(), cpu_s()
    say("ready")
    while not recorder.all_done.is_set():
        response = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5)
        for message in response.get("Messages", []):
            time.sleep(args.handler_ms / 1000)
            recorder.record(json.loads(message["Body"])["a"])
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    stopping.set()
    finish(recorder, stop_reporting, started_s, args.out, started_cpu_s=started_cpu_s)


if __name__ == "__main__":
    main()
