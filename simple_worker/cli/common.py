"""What the ``simple-worker`` subcommands share: exit codes, broker options, tables, errors."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Final

from simple_worker.brokers.sqs import SqsBroker
from simple_worker.brokers.url import broker_from_url, redacted_url

PROG: Final = "simple-worker"
EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1  # an operation failed: SQS unreachable, a queue missing, ...
EXIT_USAGE: Final = 2  # the command line or the configuration is wrong (URL, contract, app)
EXIT_INTERRUPTED: Final = 130  # Ctrl-C during a one-shot command (128 + SIGINT)

BROKER_ENV: Final = "SIMPLE_WORKER_BROKER_URL"
PREFIX_ENV: Final = "SIMPLE_WORKER_QUEUE_PREFIX"


class UsageError(Exception):
    """A problem the user fixes on the command line or in the configuration (exit 2)."""


class OperationError(Exception):
    """An operation that could not be completed (exit 1); the message says what to do."""


def add_broker_options(parser: argparse.ArgumentParser) -> None:
    """``--broker URL`` and ``--prefix P``, defaulting to the environment."""
    parser.add_argument(
        "--broker",
        metavar="URL",
        default=os.environ.get(BROKER_ENV),
        help=f"the SQS broker URL, e.g. sqs://?region=eu-west-1 or sqs://127.0.0.1:9324 "
        f"(default: ${BROKER_ENV})",
    )
    parser.add_argument(
        "--prefix",
        metavar="P",
        default=os.environ.get(PREFIX_ENV, ""),
        help=f"the queue name prefix of the app (default: ${PREFIX_ENV}, else none)",
    )


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def sqs_broker(url: str | None) -> SqsBroker:
    """The SQS broker of ``--broker``; a clear error for no URL or a non-SQS URL."""
    if not url:
        raise UsageError(f"no broker given: pass --broker sqs://... or set ${BROKER_ENV}")
    broker = broker_from_url(url)
    if not isinstance(broker, SqsBroker):
        raise UsageError(
            f"{redacted_url(url)} is not an SQS broker: the memory broker lives inside one "
            "process, so other processes cannot see its queues; pass an sqs:// URL (for a local "
            "SQS, run `simple-worker dev-sqs` and use the URL it prints)"
        )
    return broker


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, left: Sequence[int] = (0,)
) -> str:
    """A plain text table: the columns numbered in ``left`` left-aligned, the others right."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if index in left else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])
