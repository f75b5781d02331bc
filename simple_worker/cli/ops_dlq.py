"""``simple-worker dlq peek|redrive QUEUE``: look at dead letters, or move them back to QUEUE."""

from __future__ import annotations

import argparse
from typing import Any, Final

from simple_worker.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    add_broker_options,
    positive_int,
    sqs_broker,
)
from simple_worker.cli.progress import Progress
from simple_worker.ops.dlq import DeadLetter, payload_text, peek, redrive
from simple_worker.queue_names import dead_letter_queue_name

DEFAULT_PEEK_LIMIT: Final = 10
PAYLOAD_PREVIEW_CHARS: Final = 200

_PEEK_DESCRIPTION = """\
Show messages of QUEUE's dead-letter queue (PREFIX + QUEUE + "-dlq") without consuming them:
they are received, then made visible again at once. For each: the task, its payload, the reason
the worker recorded (or SQS's redrive policy), the source queue, the receive count, the task id.
"""
_REDRIVE_DESCRIPTION = """\
Move messages from QUEUE's dead-letter queue back to QUEUE. Each message is sent to QUEUE
before it is deleted from the dead-letter queue, so an interruption can duplicate a message but
never lose one. The body and the task id are kept; the dead-letter attributes are dropped.
At most the messages present when the redrive starts are moved (and at most --limit).
"""


def add_parser(commands: argparse._SubParsersAction[Any], parent: argparse.ArgumentParser) -> None:
    dlq = commands.add_parser(
        "dlq",
        parents=[parent],
        help="inspect or redrive dead letters",
        description="Inspect or redrive dead-lettered messages.",
    )
    actions = dlq.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)
    peek_parser = actions.add_parser(
        "peek",
        parents=[parent],
        help="show dead letters without consuming them",
        description=_PEEK_DESCRIPTION,
    )
    redrive_parser = actions.add_parser(
        "redrive",
        parents=[parent],
        help="move dead letters back to their queue",
        description=_REDRIVE_DESCRIPTION,
    )
    for parser in (peek_parser, redrive_parser):
        parser.add_argument("queue", metavar="QUEUE", help="the source queue's short name")
        add_broker_options(parser)
    peek_parser.add_argument(
        "--limit",
        type=positive_int,
        default=DEFAULT_PEEK_LIMIT,
        metavar="N",
        help=f"show at most N messages (default {DEFAULT_PEEK_LIMIT})",
    )
    redrive_parser.add_argument(
        "--limit", type=positive_int, metavar="N", help="move at most N messages (default: all)"
    )
    peek_parser.set_defaults(run=run_peek)
    redrive_parser.set_defaults(run=run_redrive)


def run_peek(args: argparse.Namespace) -> int:
    source = args.prefix + args.queue
    dead_letter_queue = dead_letter_queue_name(source)
    broker = sqs_broker(args.broker)
    try:
        letters = peek(broker, dead_letter_queue, limit=args.limit)
    finally:
        broker.close()
    if not letters:
        print(f"{dead_letter_queue} is empty")
        return EXIT_OK
    for letter in letters:
        print(render_dead_letter(letter))
    print(f"{len(letters)} message(s) shown from {dead_letter_queue}, left in place")
    return EXIT_OK


def render_dead_letter(letter: DeadLetter) -> str:
    """A dead letter in a few indented lines."""
    payload = payload_text(letter)
    if len(payload) > PAYLOAD_PREVIEW_CHARS:
        payload = payload[:PAYLOAD_PREVIEW_CHARS] + "..."
    reason_lines = letter.reason.splitlines() or [""]
    return "\n".join(
        [
            f"{letter.task_name or '(not a task message)'}  message {letter.message_id}",
            f"  payload:  {payload}",
            f"  reason:   {reason_lines[0]}",
            *(f"            {line}" for line in reason_lines[1:]),
            f"  source:   {letter.source_queue or '-'}",
            f"  receives: {letter.receive_count}",
            f"  task id:  {letter.task_id or '-'}",
        ]
    )


def run_redrive(args: argparse.Namespace) -> int:
    source = args.prefix + args.queue
    dead_letter_queue = dead_letter_queue_name(source)
    broker = sqs_broker(args.broker)
    broker.queue_url(source)  # fail before touching the dead letters if the target is missing
    progress: Progress | None = None

    def show(moved: int, total: int) -> None:
        nonlocal progress
        if progress is None:
            progress = Progress(f"redriving {dead_letter_queue} -> {source}", total)
        progress.update(moved)

    try:
        result = redrive(broker, dead_letter_queue, source, limit=args.limit, on_progress=show)
    finally:
        if progress is not None:
            progress.finish()
        broker.close()
    print(f"moved {result.moved} message(s) from {dead_letter_queue} to {source}")
    if result.not_deleted:
        print(
            f"{result.not_deleted} message(s) were copied to {source} but could not be deleted "
            f"from {dead_letter_queue} (their receipt expired): they will be there again; "
            "redriving them again would duplicate them"
        )
        return EXIT_FAILURE
    return EXIT_OK
