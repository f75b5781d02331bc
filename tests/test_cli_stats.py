"""``simple-worker stats`` against moto's server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from simple_worker import App
from simple_worker.cli.main import main
from tests.sqs_server import MotoSqs

CONTRACT = str(Path(__file__).resolve().parent.parent / "contracts" / "tasks.toml")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _rows(table: str) -> dict[str, list[str]]:
    lines = table.strip().splitlines()
    assert lines[0].split()[:2] == ["queue", "visible"]
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


@pytest.fixture
def queues(moto_server: MotoSqs, capsys: pytest.CaptureFixture[str]) -> str:
    """The contract's queues with dead-letter queues under a fresh prefix; 3 tasks on default."""
    prefix = f"s{uuid.uuid4().hex[:8]}-"
    url = moto_server.broker_url()
    assert main(["queues", "ensure", "--contract", CONTRACT, "--dlq", "--broker", url,
                 "--prefix", prefix]) == 0  # fmt: skip
    capsys.readouterr()
    app = App(url, prefix, contract=CONTRACT)
    for i in range(3):
        app.add_task("add", {"a": i, "b": 1})
    app.add_task("always_fails", {"reason": "x"}, delay_seconds=60)
    app.broker.close()
    return prefix


def test_stats_of_a_contract(
    moto_server: MotoSqs, queues: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "stats", "--contract", CONTRACT, "--broker", moto_server.broker_url(),
        "--prefix", queues,
    )  # fmt: skip

    assert code == 0
    rows = _rows(out)
    assert rows[f"{queues}default"] == ["3", "0", "1", f"{queues}default-dlq", "0"]
    assert rows[f"{queues}emails"] == ["0", "0", "0", f"{queues}emails-dlq", "0"]
    assert set(rows) == {f"{queues}{q}" for q in ("default", "emails", "reports")}


def test_stats_of_every_queue_with_the_prefix_folds_dead_letter_queues_in(
    moto_server: MotoSqs, queues: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "stats", "--broker", moto_server.broker_url(), "--prefix", queues)

    assert code == 0
    assert set(_rows(out)) == {f"{queues}{q}" for q in ("default", "emails", "reports")}


def test_stats_of_named_queues_shows_missing_ones(
    moto_server: MotoSqs, queues: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "stats", "--queue", "default", "--queue", "nope",
        "--broker", moto_server.broker_url(), "--prefix", queues,
    )  # fmt: skip

    assert code == 0
    assert _rows(out)[f"{queues}nope"] == ["missing"]
    assert "queues ensure" in err


def test_stats_with_no_matching_queue(
    moto_server: MotoSqs, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "stats", "--broker", moto_server.broker_url(), "--prefix", "zz-")
    assert code == 0
    assert out == "no queues start with 'zz-'\n"


def test_watch_redraws_until_interrupted(
    moto_server: MotoSqs,
    queues: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("simple_worker.cli.ops_stats.time.sleep", fake_sleep)
    code, out, _ = _run(
        capsys, "stats", "--watch", "0.5", "--queue", "default",
        "--broker", moto_server.broker_url(), "--prefix", queues,
    )  # fmt: skip

    assert code == 0
    assert sleeps == [0.5, 0.5]
    assert out.count(f"{queues}default ") == 2
