"""Faults with real worker subprocesses over moto's HTTP server: kill -9, SIGTERM, an outage,
slow handlers, misbehaving handlers. The scenarios live in ``scenarios.py`` (the report script
runs them too); these tests assert on their outcome: counts, never speed.
"""

from __future__ import annotations

from pathlib import Path

from tests.reliability import scenarios
from tests.sqs_server import MotoSqs


def test_kill_9_loses_nothing_and_duplicates_at_most_what_was_held(
    moto_server: MotoSqs, tmp_path: Path
) -> None:
    result = scenarios.crash(moto_server, tmp_path, tasks=2000)

    print(result)
    assert result.lost == 0
    assert result.notes["unknown_ids"] == []
    assert result.notes["done_at_kill"] < 2000  # the kill happened mid-run
    assert result.duplicates <= result.notes["duplicate_bound"]
    assert result.notes["second_exit_code"] == 0


def test_sigterm_loses_nothing_duplicates_nothing_and_hands_back_unstarted_messages(
    moto_server: MotoSqs, tmp_path: Path
) -> None:
    result = scenarios.graceful_stop(moto_server, tmp_path, tasks=300)

    print(result)
    assert result.notes["first_exit_code"] == 0
    assert result.notes["first_exited_cleanly"]
    assert result.notes["in_flight_after_stop"] == 0  # none waits for the 300 s timeout
    assert result.notes["visible_after_stop"] + result.notes["ran_before_stop"] == 300
    assert result.lost == 0
    assert result.duplicates == 0
    assert result.notes["second_exit_code"] == 0


def test_an_outage_is_survived_logged_once_and_loses_nothing_the_producer_sent(
    moto_server: MotoSqs, tmp_path: Path
) -> None:
    result = scenarios.outage(moto_server, tmp_path, outage_s=10)

    print(result)
    notes = result.notes
    assert notes["alive_during_outage"]
    assert notes["alive_after"]
    assert notes["exit_code"] == 0
    assert 1 <= notes["cannot_receive_lines"] <= 2  # once per outage, not once per attempt
    assert notes["receiving_again_lines"] >= 1
    assert notes["warning_or_error_lines"] <= 20
    assert notes["producer_errors"] >= 1  # the producer did send during the outage
    assert notes["unnamed_failures"] == []  # every failure named the task ids not sent
    assert result.lost == 0


def test_a_task_longer_than_the_visibility_timeout_runs_once(
    moto_server: MotoSqs, tmp_path: Path
) -> None:
    result = scenarios.slow_handler(moto_server, tmp_path, tasks=4)

    print(result)
    assert result.lost == 0
    assert result.duplicates == 0
    assert result.notes["visible_after"] == 0
    assert result.notes["in_flight_after"] == 0


def test_handlers_that_raise_exit_or_interrupt_neither_kill_nor_wedge_the_worker(
    moto_server: MotoSqs, tmp_path: Path
) -> None:
    result = scenarios.misbehaving_handlers(moto_server, tmp_path, work_tasks=40)

    print(result)
    assert result.lost == 0
    assert result.notes["alive"]
    assert result.notes["exit_code"] == 0
    assert result.notes["exited_cleanly"]
    attempts = result.notes["attempts"]
    assert sorted(attempts) == list(range(1000, 1008))  # each misbehaved on delivery 1 ...
    assert all(count >= 1 for count in attempts.values())  # ... and ran again (in `done`)
    assert all(count >= 2 for count in result.notes["logged"].values())
