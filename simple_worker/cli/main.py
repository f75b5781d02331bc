"""``simple-worker``: run workers and operate queues (ensure, stats, dead letters, local SQS).

Exit status: 0 done; 1 an operation failed (SQS unreachable or refusing, a queue missing, a
queue differing from the plan, a redrive that could not delete what it copied); 2 the command
line or configuration is wrong (bad broker URL, contract, app path, a memory:// broker where
SQS is needed, moto missing for dev-sqs); 130 interrupted by Ctrl-C. Errors are one line on
stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Final

from simple_worker.cli import ops_devsqs, ops_dlq, ops_iam, ops_queues, ops_stats, ops_worker
from simple_worker.cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PROG,
    OperationError,
    UsageError,
)
from simple_worker.errors import BrokerError, BrokerURLError, ContractError
from simple_worker.ops.local_sqs import LocalSqsError

LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMAT: Final = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"
_USAGE_ERRORS: Final = (UsageError, BrokerURLError, ContractError, LocalSqsError)
_OPERATION_ERRORS: Final = (OperationError, BrokerError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status instead of exiting."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    _configure_logging(args)
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        return _report(exc)
    return status


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand (each module adds its own)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run simple-worker workers and operate their SQS queues.",
        epilog="Exit status: 0 done, 1 an operation failed, 2 a usage or configuration error. "
        "Environment: SIMPLE_WORKER_BROKER_URL and SIMPLE_WORKER_QUEUE_PREFIX are the defaults "
        "of --broker and --prefix.",
    )
    _add_common_options(parser, defaults=True)
    # Subcommands repeat the common options so they work after the command name too.
    parent = argparse.ArgumentParser(add_help=False)
    _add_common_options(parent, defaults=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (ops_worker, ops_queues, ops_stats, ops_dlq, ops_devsqs, ops_iam):
        module.add_parser(commands, parent)
    return parser


def _add_common_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if defaults else argparse.SUPPRESS,
        help="show tracebacks of errors (and log at DEBUG unless --log-level says otherwise)",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=None if defaults else argparse.SUPPRESS,
        help="the logging level (default: INFO for worker, WARNING for the others)",
    )


def _configure_logging(args: argparse.Namespace) -> None:
    level = args.log_level or ("DEBUG" if args.debug else getattr(args, "default_log_level", None))
    logging.basicConfig(level=level or "WARNING", format=LOG_FORMAT, stream=sys.stderr)
    if not args.debug:
        # Per-request lines of the local server and of botocore are noise below DEBUG.
        logging.getLogger("werkzeug").setLevel(max(logging.WARNING, logging.root.level))
        logging.getLogger("botocore").setLevel(max(logging.WARNING, logging.root.level))


def _report(exc: Exception) -> int:
    if isinstance(exc, _USAGE_ERRORS):
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, _OPERATION_ERRORS):
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(
        f"{PROG}: unexpected error: {type(exc).__name__}: {exc} (rerun with --debug for the "
        "traceback, and please report it)",
        file=sys.stderr,
    )
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
