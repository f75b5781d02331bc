"""``simple-worker iam-policy`` prints the policy of ``simple_worker.iam`` for the contract."""

from __future__ import annotations

import json

import pytest

from simple_worker.cli.main import main


def test_iam_policy_prints_the_producer_policy_of_the_contract(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(
        ["iam-policy", "--contract", "contracts/tasks.toml", "--prefix", "p-", "--role", "producer"]
    )

    policy = json.loads(capsys.readouterr().out)
    assert status == 0
    (statement,) = policy["Statement"]
    assert statement["Action"] == ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"]
    assert statement["Resource"] == [
        "arn:aws:sqs:*:*:p-default",
        "arn:aws:sqs:*:*:p-emails",
        "arn:aws:sqs:*:*:p-reports",
    ]


def test_iam_policy_for_workers_covers_the_dead_letter_queues(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(
        [
            "iam-policy",
            "--contract",
            "contracts/tasks.toml",
            "--role",
            "worker",
            "--region",
            "eu-west-1",
            "--account-id",
            "123456789012",
        ]
    )

    policy = json.loads(capsys.readouterr().out)
    assert status == 0
    dead_letter = next(s for s in policy["Statement"] if s["Sid"] == "DeadLetter")
    assert "arn:aws:sqs:eu-west-1:123456789012:emails-dlq" in dead_letter["Resource"]


def test_iam_policy_with_a_bad_contract_is_one_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["iam-policy", "--contract", "missing.toml", "--role", "worker"])

    assert status == 2
    assert "missing.toml" in capsys.readouterr().err
