"""``simple-worker queues ensure`` against moto's server, and the CLI's errors and exit codes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from simple_worker.cli.main import main
from tests.sqs_server import MotoSqs, unused_port

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTRACT = str(REPO_ROOT / "contracts" / "tasks.toml")


def _prefix() -> str:
    return f"c{uuid.uuid4().hex[:8]}-"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _attributes(moto: MotoSqs, name: str) -> dict[str, str]:
    url = moto.client.get_queue_url(QueueName=name)["QueueUrl"]
    found = moto.client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {str(name): value for name, value in found.items()}


def test_ensure_creates_the_contract_queues_with_dead_letter_queues(
    moto_server: MotoSqs, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = _prefix()
    args = ["queues", "ensure", "--contract", CONTRACT, "--broker", moto_server.broker_url()]
    args += ["--prefix", prefix, "--dlq", "--max-receive-count", "3", "--visibility-timeout", "7"]

    code, out, _ = _run(capsys, *args)

    assert code == 0
    for queue in ("default", "emails", "reports"):
        assert f"created  {prefix}{queue}-dlq\n" in out
        assert f"created  {prefix}{queue}\n" in out
        attributes = _attributes(moto_server, f"{prefix}{queue}")
        policy = json.loads(attributes["RedrivePolicy"])
        assert policy["deadLetterTargetArn"].endswith(f":{prefix}{queue}-dlq")
        assert int(policy["maxReceiveCount"]) == 3
        assert attributes["VisibilityTimeout"] == "7"
    assert out.endswith("6 created, 0 already existed\n")


def test_ensure_is_idempotent_and_reports_differences_without_changing_them(
    moto_server: MotoSqs, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = _prefix()
    args = ["queues", "ensure", "--contract", CONTRACT, "--broker", moto_server.broker_url()]
    args += ["--prefix", prefix, "--dlq"]
    assert _run(capsys, *args)[0] == 0

    again, out, _ = _run(capsys, *args)
    assert again == 0
    assert "created" not in out.replace("0 created", "")
    assert out.endswith("0 created, 6 already existed\n")

    differing, out, err = _run(capsys, *args, "--max-receive-count", "9")
    assert differing == 1
    assert f"differs  {prefix}default\n" in out
    assert "after 5 receives, the plan says dead-letter queue" in out
    assert "were not changed" in err
    policy = json.loads(_attributes(moto_server, f"{prefix}default")["RedrivePolicy"])
    assert int(policy["maxReceiveCount"]) == 5  # unchanged


def test_ensure_named_fifo_queue_gets_a_fifo_dead_letter_queue(
    moto_server: MotoSqs, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = _prefix()
    code, out, _ = _run(
        capsys, "queues", "ensure", "orders.fifo", "plain", "--dlq",
        "--broker", moto_server.broker_url(), "--prefix", prefix,
    )  # fmt: skip

    assert code == 0
    assert f"created  {prefix}orders-dlq.fifo\n" in out
    for name in (f"{prefix}orders.fifo", f"{prefix}orders-dlq.fifo"):
        attributes = _attributes(moto_server, name)
        assert attributes["FifoQueue"] == "true"
        assert attributes["ContentBasedDeduplication"] == "true"
    policy = json.loads(_attributes(moto_server, f"{prefix}orders.fifo")["RedrivePolicy"])
    assert policy["deadLetterTargetArn"].endswith(f":{prefix}orders-dlq.fifo")
    assert "FifoQueue" not in _attributes(moto_server, f"{prefix}plain")


def test_ensure_without_queues_or_with_both_is_a_usage_error(
    moto_server: MotoSqs, capsys: pytest.CaptureFixture[str]
) -> None:
    url = moto_server.broker_url()
    assert _run(capsys, "queues", "ensure", "--broker", url)[0] == 2
    code, _, err = _run(capsys, "queues", "ensure", "a", "--contract", CONTRACT, "--broker", url)
    assert code == 2
    assert "either --contract or queue names" in err


@pytest.mark.parametrize(
    ("broker", "expected"),
    [
        ("memory://localhost", "is not an SQS broker"),
        ("redis://localhost", "unsupported broker URL scheme 'redis'"),
        ("sqs://127.0.0.1:9324?regoin=x", "unknown option 'regoin'"),
    ],
)
def test_a_broker_that_cannot_be_used_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], broker: str, expected: str
) -> None:
    code, out, err = _run(capsys, "queues", "ensure", "q", "--broker", broker)

    assert code == 2
    assert out == ""
    assert err.startswith("simple-worker: error: ")
    assert expected in err
    assert "Traceback" not in err


def test_no_broker_at_all_says_how_to_give_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIMPLE_WORKER_BROKER_URL", raising=False)
    code, _, err = _run(capsys, "queues", "ensure", "q")
    assert code == 2
    assert "--broker sqs://" in err
    assert "SIMPLE_WORKER_BROKER_URL" in err


def test_the_broker_url_can_come_from_the_environment(
    moto_server: MotoSqs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = _prefix()
    monkeypatch.setenv("SIMPLE_WORKER_BROKER_URL", moto_server.broker_url())
    monkeypatch.setenv("SIMPLE_WORKER_QUEUE_PREFIX", prefix)
    code, out, _ = _run(capsys, "queues", "ensure", "q")
    assert code == 0
    assert f"created  {prefix}q\n" in out


def test_an_unreachable_endpoint_is_exit_1_with_what_to_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqs://k:s@127.0.0.1:{unused_port()}?region=us-east-1&max_attempts=1&connect_timeout=1"
    code, _, err = _run(capsys, "queues", "ensure", "q", "--broker", url)

    assert code == 1
    assert "check the endpoint" in err
    assert "Traceback" not in err
    assert ":s@" not in err  # no credentials in errors


def test_a_bad_contract_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    code, _, err = _run(
        capsys, "queues", "ensure", "--contract", str(missing), "--broker", "sqs://"
    )
    assert code == 2
    assert "cannot read the contract" in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    from simple_worker.cli.common import UsageError

    with pytest.raises(UsageError, match="not an SQS broker"):
        main(["queues", "ensure", "q", "--broker", "memory://", "--debug"])


@pytest.mark.parametrize(
    "command",
    [[], ["worker"], ["queues"], ["queues", "ensure"], ["stats"], ["dlq"], ["dlq", "peek"],
     ["dlq", "redrive"], ["dev-sqs"]],
)  # fmt: skip
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, _ = _run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith("usage: simple-worker")


def test_a_usage_mistake_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "queues", "ensure", "q", "--max-receive-count", "0")
    assert code == 2
    assert "must be at least 1" in err
