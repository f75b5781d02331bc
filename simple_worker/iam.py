"""The least-privilege IAM policy a producer or a worker needs for a contract's queues.

A pure function of the contract and the names: no AWS call, no boto3. The actions are the ones
the code makes (``SqsBroker`` counts them in ``api_calls()``); batch operations are authorised
by their single-message action (SendMessageBatch by ``sqs:SendMessage``, DeleteMessageBatch by
``sqs:DeleteMessage``, ChangeMessageVisibilityBatch by ``sqs:ChangeMessageVisibility``).

- A producer looks up each queue's URL (GetQueueUrl) and size limit (GetQueueAttributes) and
  sends (SendMessage, SendMessageBatch) to the contract's queues only.
- A worker receives, deletes and re-times messages (heartbeat, retry backoff, handing back
  unstarted messages on shutdown) and reads the queue's visibility timeout and RedrivePolicy
  on the contract's queues; it sends to them too, because handlers may enqueue tasks (to any
  queue of the contract). On the dead-letter queues it may only look up the URL and send
  (poison messages are copied there with their reason).
"""

from __future__ import annotations

from typing import Final, Literal

from simple_worker.contract.model import Contract
from simple_worker.queue_names import dead_letter_queue_name

POLICY_VERSION: Final = "2012-10-17"

PRODUCER_ACTIONS: Final = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage")
WORKER_ACTIONS: Final = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
)
DEAD_LETTER_ACTIONS: Final = ("sqs:GetQueueUrl", "sqs:SendMessage")


def iam_policy(
    contract: Contract,
    *,
    prefix: str,
    role: Literal["producer", "worker"],
    region: str = "*",
    account_id: str = "*",
) -> dict[str, object]:
    """Return the IAM policy document (a JSON-ready dict) for ``role`` on the contract's queues.

    Queue names are ``prefix + queue``; a queue's dead-letter queue is that name plus ``-dlq``
    (``-dlq.fifo`` for FIFO queues). Resources are ARNs ``arn:aws:sqs:REGION:ACCOUNT:NAME``,
    sorted. The ``simple-worker iam-policy`` command prints this document as pretty JSON
    (``json.dumps(policy, indent=2)``), e.g. for ``--prefix myapp- --role producer`` on a
    contract with the queues "default" and "emails"::

        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "ProduceTasks",
              "Effect": "Allow",
              "Action": [
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:SendMessage"
              ],
              "Resource": [
                "arn:aws:sqs:*:*:myapp-default",
                "arn:aws:sqs:*:*:myapp-emails"
              ]
            }
          ]
        }

    For ``--role worker`` there are two statements: ``ConsumeTasks`` (the worker's actions on
    the queues) and ``DeadLetter`` (GetQueueUrl and SendMessage on the dead-letter queues).
    Raises ``ValueError`` for an unknown role or a contract without tasks.
    """
    if role not in ("producer", "worker"):
        raise ValueError(f"role must be 'producer' or 'worker', got {role!r}")
    queues = sorted({prefix + task.queue for task in contract.tasks.values()})
    if not queues:
        raise ValueError("the contract has no tasks, so no queues to grant access to")
    queue_arns = [_arn(region, account_id, name) for name in queues]
    if role == "producer":
        return _document([_statement("ProduceTasks", PRODUCER_ACTIONS, queue_arns)])
    dead_letter_arns = sorted(_arn(region, account_id, dead_letter_queue_name(q)) for q in queues)
    return _document(
        [
            _statement("ConsumeTasks", WORKER_ACTIONS, queue_arns),
            _statement("DeadLetter", DEAD_LETTER_ACTIONS, dead_letter_arns),
        ]
    )


def _arn(region: str, account_id: str, queue_name: str) -> str:
    return f"arn:aws:sqs:{region}:{account_id}:{queue_name}"


def _statement(sid: str, actions: tuple[str, ...], resources: list[str]) -> dict[str, object]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def _document(statements: list[dict[str, object]]) -> dict[str, object]:
    return {"Version": POLICY_VERSION, "Statement": statements}
