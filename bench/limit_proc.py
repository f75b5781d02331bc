"""The hand-written limit: the best plain boto3 consumer loop, ``python -m bench.limit_proc``.

One receiver thread long-polls (ReceiveMessage, 10 messages, 20 s) whenever the same budget as
our worker's has room for 10 (2 x concurrency + 10 held per receiver), feeding
``--concurrency`` handler threads (``--receivers 2``: two such receivers, always polling); a
deleter thread deletes receipts 10 at a time (DeleteMessageBatch), the rest after at most a
second. Handlers parse the JSON body, record ``task_payload.a`` and sleep ``--handler-ms``: no
validation, no hooks, no logging. Same protocol and result file as ``bench.worker_proc``.
"""

from __future__ import annotations

import argparse
import json
import queue
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import sqs_client
from bench.peers.peer_protocol import (
    Recorder,
    cpu_s,
    finish,
    release_when_stopping,
    say,
    start_reporting,
)

_BATCH = 10


def main() -> None:  # noqa: PLR0915 (one loop, kept in one place to read as a whole)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--handler-ms", type=float, default=0.0)
    parser.add_argument("--receivers", type=int, default=1, help="receiver threads")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    client: Any = sqs_client(args.endpoint)

    url = client.get_queue_url(QueueName=args.queue)["QueueUrl"]
    recorder = Recorder(args.n)
    sleep_s = args.handler_ms / 1000
    capacity = 2 * args.concurrency + _BATCH * args.receivers
    held = threading.Semaphore(capacity)
    reserving = threading.Lock()  # one receiver takes its 10 permits at a time
    stopping = threading.Event()
    work: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
    receipts: queue.SimpleQueue[str | None] = queue.SimpleQueue()

    def receive() -> None:
        while not stopping.is_set():
            with reserving:
                for _ in range(_BATCH):
                    held.acquire()
            messages = client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=_BATCH, WaitTimeSeconds=20
            ).get("Messages", [])
            for _ in range(_BATCH - len(messages)):
                held.release()
            for message in messages:
                work.put(message)

    def handle() -> None:
        while (message := work.get()) is not None:
            number = json.loads(message["Body"])["task_payload"]["a"]
            if sleep_s:
                time.sleep(sleep_s)
            recorder.record(number)
            receipts.put(message["ReceiptHandle"])
            held.release()

    def delete(batch: list[str]) -> None:
        client.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(batch)],
        )

    def delete_forever() -> None:
        batch: list[str] = []
        flush_at_s = time.monotonic() + 1.0
        while True:
            try:
                receipt = receipts.get(timeout=max(0.0, flush_at_s - time.monotonic()))
            except queue.Empty:
                receipt = ""
            if receipt is None:
                break
            if receipt:
                batch.append(receipt)
            if len(batch) == _BATCH or (batch and time.monotonic() >= flush_at_s):
                delete(batch)
                batch = []
            if time.monotonic() >= flush_at_s:
                flush_at_s = time.monotonic() + 1.0
        if batch:
            delete(batch)

    receivers = [
        threading.Thread(target=receive, name=f"limit-receiver-{i}", daemon=True)
        for i in range(args.receivers)
    ]
    handlers = [threading.Thread(target=handle, daemon=True) for _ in range(args.concurrency)]
    deleter = threading.Thread(target=delete_forever, name="limit-deleter")
    stop_reporting = start_reporting(recorder)
    threading.Thread(
        target=release_when_stopping, args=(args.endpoint, args.queue, stopping), daemon=True
    ).start()
    started_s = time.time()
    started_cpu_s = cpu_s()
    say("ready")
    for thread in [*receivers, *handlers, deleter]:
        thread.start()
    recorder.all_done.wait(args.timeout)
    stopping.set()
    for _ in handlers:
        work.put(None)
    for thread in handlers:
        thread.join()
    receipts.put(None)
    deleter.join()
    for _ in range(capacity):
        held.release()  # let the receivers reach their stop check
    for receiver in receivers:
        receiver.join(30)
    finish(recorder, stop_reporting, started_s, args.out, started_cpu_s=started_cpu_s)


if __name__ == "__main__":
    main()
