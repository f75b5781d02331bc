"""``simple-worker dev-sqs``: a local SQS-compatible server (moto) until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType
from typing import Any, Final

from simple_worker.cli.common import EXIT_OK
from simple_worker.ops.local_sqs import HOST, local_sqs

DEFAULT_PORT: Final = 9324  # the port ElasticMQ made customary for a local SQS

_DESCRIPTION = f"""\
Run a local SQS-compatible server (moto) on {HOST} until Ctrl-C (or SIGTERM), and print the
broker URL that reaches it. Queues live in memory and vanish when it stops. Needs the optional
extra: pip install 'simple-worker[local]'. --port 0 picks a free port.
"""


def add_parser(commands: argparse._SubParsersAction[Any], parent: argparse.ArgumentParser) -> None:
    dev_sqs = commands.add_parser(
        "dev-sqs", parents=[parent], help="run a local SQS server (moto)", description=_DESCRIPTION
    )
    dev_sqs.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"the port (default {DEFAULT_PORT})"
    )
    dev_sqs.set_defaults(run=run_dev_sqs)


def run_dev_sqs(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with local_sqs(args.port) as server:
            print(f"local SQS listening on http://{server.host}:{server.port}")
            print(f"broker URL: {server.broker_url()}")
            print(
                "e.g. simple-worker queues ensure --contract contracts/tasks.toml --dlq "
                f"--broker '{server.broker_url()}'"
            )
            print("press Ctrl-C to stop", flush=True)
            while not stop.wait(0.2):  # short waits: signals run their handler on wake-up
                pass
        print("local SQS stopped", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK
