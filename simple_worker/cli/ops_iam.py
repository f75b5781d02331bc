"""``simple-worker iam-policy``: print the least-privilege IAM policy of a producer or worker."""

from __future__ import annotations

import argparse
import json
from typing import Any

from simple_worker.cli.common import EXIT_OK
from simple_worker.contract import load_contract
from simple_worker.iam import iam_policy

_DESCRIPTION = """\
Print, as JSON, the least-privilege IAM policy a producer or a worker of the contract's tasks
needs: only the SQS actions that role uses, only the contract's queues (prefix + queue) and,
for workers, their dead-letter queues (<queue>-dlq, <queue>-dlq.fifo for FIFO queues).
"""


def add_parser(commands: argparse._SubParsersAction[Any], parent: argparse.ArgumentParser) -> None:
    iam = commands.add_parser(
        "iam-policy",
        parents=[parent],
        help="print a least-privilege IAM policy",
        description=_DESCRIPTION,
    )
    iam.add_argument("--contract", metavar="FILE", required=True, help="the contract file")
    iam.add_argument("--prefix", default="", help="the queue name prefix of the app")
    iam.add_argument("--role", choices=("producer", "worker"), required=True)
    iam.add_argument("--region", default="*", help="the AWS region in the ARNs (default: *)")
    iam.add_argument("--account-id", default="*", help="the AWS account in the ARNs (default: *)")
    iam.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    contract = load_contract(args.contract)
    policy = iam_policy(
        contract,
        prefix=args.prefix,
        role=args.role,
        region=args.region,
        account_id=args.account_id,
    )
    print(json.dumps(policy, indent=2))
    return EXIT_OK
