"""``simple-worker stats``: a table of queue depths (and dead-letter depths), once or every N s."""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections.abc import Sequence
from typing import Any

from simple_worker.brokers.sqs import SqsBroker
from simple_worker.brokers.sqs_admin import SqsAdmin
from simple_worker.cli.common import (
    EXIT_OK,
    UsageError,
    add_broker_options,
    format_table,
    sqs_broker,
)
from simple_worker.contract import load_contract
from simple_worker.ops.queues import contract_queues
from simple_worker.ops.stats import QueueStats, queue_stats, without_dead_letter_queues

_DESCRIPTION = """\
Show how many messages each queue holds: visible (waiting), in flight (received, not yet
deleted), delayed, and how many are in its dead-letter queue. The queues are those of
--contract, or the ones given with --queue, or else every queue whose name starts with
--prefix (SQS ListQueues; dead-letter queues of listed queues become the DLQ column).
"""


def add_parser(commands: argparse._SubParsersAction[Any], parent: argparse.ArgumentParser) -> None:
    stats = commands.add_parser(
        "stats", parents=[parent], help="show queue depths", description=_DESCRIPTION
    )
    add_broker_options(stats)
    which = stats.add_mutually_exclusive_group()
    which.add_argument("--contract", metavar="FILE", help="the queues of this contract")
    which.add_argument(
        "--queue", action="append", dest="queues", metavar="Q", help="a short queue name (repeat)"
    )
    stats.add_argument(
        "--watch", type=float, metavar="SECONDS", help="redraw every SECONDS until Ctrl-C"
    )
    stats.set_defaults(run=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    if args.watch is not None and args.watch <= 0:
        raise UsageError(f"--watch takes a positive number of seconds, got {args.watch}")
    broker = sqs_broker(args.broker)
    try:
        while True:
            names = _queue_names(broker, args)
            stats = queue_stats(broker, names)
            if args.watch is not None:
                print(f"\n{datetime.datetime.now():%H:%M:%S}")
            print(render_stats_table(stats) if stats else f"no queues start with {args.prefix!r}")
            _hint_missing(stats)
            if args.watch is None:
                return EXIT_OK
            sys.stdout.flush()
            try:
                time.sleep(args.watch)
            except KeyboardInterrupt:
                return EXIT_OK
    finally:
        broker.close()


def render_stats_table(stats: Sequence[QueueStats]) -> str:
    """The stats as a text table, one row per queue."""
    rows = []
    for row in stats:
        counts = row.counts
        if counts is None:
            rows.append([row.queue_name, "missing", "", "", "", ""])
            continue
        dead = row.dead_letters
        rows.append(
            [
                row.queue_name,
                f"{counts.visible:,}",
                f"{counts.in_flight:,}",
                f"{counts.delayed:,}",
                row.dead_letter_queue or "-",
                "-" if dead is None else f"{dead:,}",
            ]
        )
    headers = ["queue", "visible", "in flight", "delayed", "dead-letter queue", "dead letters"]
    return format_table(headers, rows, left=(0, 4))


def _queue_names(broker: SqsBroker, args: argparse.Namespace) -> list[str]:
    if args.contract:
        return [args.prefix + q for q in contract_queues(load_contract(args.contract))]
    if args.queues:
        return [args.prefix + q for q in args.queues]
    return without_dead_letter_queues(broker, SqsAdmin(broker).list_queues(args.prefix))


def _hint_missing(stats: Sequence[QueueStats]) -> None:
    missing = [row.queue_name for row in stats if row.counts is None]
    if missing:
        print(
            f"simple-worker: {len(missing)} queue(s) do not exist ({', '.join(missing)}); "
            "create them with `simple-worker queues ensure`",
            file=sys.stderr,
        )
