"""``simple-worker queues ensure``: create the SQS queues (and dead-letter queues) an app needs."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from simple_worker.brokers.sqs_admin import SqsAdmin
from simple_worker.cli.common import (
    EXIT_OK,
    UsageError,
    add_broker_options,
    positive_int,
    sqs_broker,
)
from simple_worker.cli.progress import Progress
from simple_worker.contract import load_contract
from simple_worker.ops.queues import (
    DEFAULT_MAX_RECEIVE_COUNT,
    EnsureResult,
    contract_queues,
    ensure_queues,
    plan_queues,
)

_SHOW_PROGRESS_FROM = 6  # queues; fewer are done before a bar would help

_DESCRIPTION = """\
Create every queue a contract routes tasks to (or the queues named), with --dlq a dead-letter
queue for each (<queue>-dlq, <queue>-dlq.fifo for FIFO queues) and a RedrivePolicy pointing at
it. Idempotent: a queue that exists is left alone; one whose attributes differ from the plan is
reported (exit 1), never changed. Nothing is ever deleted. SQS brokers only.
"""


def add_parser(commands: argparse._SubParsersAction[Any], parent: argparse.ArgumentParser) -> None:
    queues = commands.add_parser(
        "queues", parents=[parent], help="manage SQS queues", description="Manage SQS queues."
    )
    actions = queues.add_subparsers(dest="queues_command", metavar="ACTION", required=True)
    ensure = actions.add_parser(
        "ensure",
        parents=[parent],
        help="create the queues of a contract (or named queues) if missing",
        description=_DESCRIPTION,
    )
    ensure.add_argument(
        "queues", nargs="*", metavar="QUEUE", help="short queue names (instead of --contract)"
    )
    ensure.add_argument(
        "--contract", metavar="FILE", help="a contract file, e.g. contracts/tasks.toml"
    )
    add_broker_options(ensure)
    ensure.add_argument("--dlq", action="store_true", help="also a dead-letter queue per queue")
    ensure.add_argument(
        "--max-receive-count",
        type=positive_int,
        default=DEFAULT_MAX_RECEIVE_COUNT,
        metavar="N",
        help=f"receives before SQS dead-letters a message (with --dlq; default "
        f"{DEFAULT_MAX_RECEIVE_COUNT})",
    )
    ensure.add_argument(
        "--visibility-timeout",
        type=positive_int,
        metavar="S",
        help="the queues' visibility timeout in seconds (default: SQS's, 30)",
    )
    ensure.set_defaults(run=run_ensure)


def run_ensure(args: argparse.Namespace) -> int:
    if args.contract and args.queues:
        raise UsageError("give either --contract or queue names, not both")
    if args.contract:
        queues = contract_queues(load_contract(args.contract))
    elif args.queues:
        queues = list(args.queues)
    else:
        raise UsageError("name the queues: --contract contracts/tasks.toml, or queue names")
    specs = plan_queues(
        queues,
        prefix=args.prefix,
        dead_letter_queues=args.dlq,
        max_receive_count=args.max_receive_count,
        visibility_timeout_s=args.visibility_timeout,
    )
    broker = sqs_broker(args.broker)
    progress = (
        Progress("ensuring queues", len(specs)) if len(specs) >= _SHOW_PROGRESS_FROM else None
    )
    done: list[EnsureResult] = []

    def report(result: EnsureResult) -> None:
        done.append(result)
        if progress is not None:
            progress.update(len(done))

    try:
        results = ensure_queues(SqsAdmin(broker), specs, on_result=report)
    finally:
        if progress is not None:
            progress.finish()
        broker.close()
    return _print_results(results)


def _print_results(results: list[EnsureResult]) -> int:
    for result in results:
        print(f"{result.outcome:<8} {result.queue_name}")
        for difference in result.differences:
            print(f"         {difference}")
    created = sum(r.outcome == "created" for r in results)
    differing = sum(r.outcome == "differs" for r in results)
    print(f"{created} created, {len(results) - created} already existed", end="")
    if differing:
        print(f" ({differing} differ from the plan and were left unchanged)")
        print(
            "simple-worker: queues that differ were not changed; change them in the SQS "
            "console or with `aws sqs set-queue-attributes`, or adjust the options",
            file=sys.stderr,
        )
        return 1
    print()
    return EXIT_OK
