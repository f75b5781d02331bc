"""Run the reliability scenarios against a local moto server; write the README's section.

Usage: ``.venv/bin/python scripts/reliability_report.py [--readme README.md]``. The text goes
between the README's ``<!-- reliability-report:start -->`` and ``<!-- reliability-report:end
-->`` markers. The scenarios are the ones the tests in ``tests/reliability/`` assert on; the
table is produced from their measurements, never typed by hand.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
START_MARKER = "<!-- reliability-report:start -->"
END_MARKER = "<!-- reliability-report:end -->"
sys.path.insert(0, str(REPO_ROOT))

from tests.reliability import scenarios  # noqa: E402
from tests.sqs_server import MotoSqs, moto_sqs  # noqa: E402

Scenario = Callable[[MotoSqs, Path], scenarios.ScenarioResult]

SCENARIOS: list[tuple[Scenario, str]] = [
    (
        scenarios.crash,
        "A worker (concurrency 4) is killed with SIGKILL after about a third of 2,000 tasks "
        "ran; a second worker starts at once. The queue's visibility timeout is 3 s, so the "
        "messages the dead worker held come back after it. Duplicates are bounded by what a "
        "worker can hold (2 x concurrency + 10 per receiver = {held_bound}) plus finished "
        "tasks whose deletes were "
        "not flushed yet (fewer than 10): {duplicate_bound} at most. {done_at_kill} tasks "
        "had run when the worker was killed.",
    ),
    (
        scenarios.graceful_stop,
        "A worker gets SIGTERM mid-run on a queue whose visibility timeout is 300 s. It "
        "finishes its running tasks, hands back the messages it had received but not started "
        "(visibility 0: {in_flight_after_stop} messages were still in flight after it exited), "
        "flushes its deletes and exits with code {first_exit_code}. A second worker then "
        "runs the rest at once; waiting for the visibility timeout would have taken 300 s.",
    ),
    (
        scenarios.outage,
        "A TCP proxy between the worker (and a producer) and SQS refuses new connections and "
        "resets the open ones for 10 s. The worker stays up, logs 'cannot receive from' "
        "{cannot_receive_lines} time(s) and 'receiving ... again' {receiving_again_lines} "
        "time(s) ({warning_or_error_lines} warning/error lines in all), backs off, and resumes. "
        "The producer kept sending through the outage: {producer_errors} sends raised "
        "BrokerError naming the task ids not sent ({attempted} tasks attempted); every task it "
        "was told was sent ran. Recovery includes the receive backoff (1 s doubling to 30 s).",
    ),
    (
        scenarios.slow_handler,
        "Four tasks of 4 s each on a queue whose visibility timeout is 2 s, two at a time: the "
        "visibility heartbeat extends the running and the waiting messages, so none is handed "
        "out twice (checked 3 s after the last one finished).",
    ),
    (
        scenarios.misbehaving_handlers,
        "Handlers that raise RuntimeError, call sys.exit(3), raise KeyboardInterrupt or a bare "
        "BaseException on their first delivery, among 40 ordinary tasks, with 2 handler "
        "threads. The worker stays alive ({alive}), the other tasks run, each misbehaving task "
        "runs again after the 2 s visibility timeout, and SIGTERM still stops the worker "
        "cleanly (exit code {exit_code}).",
    ),
]


def _row(result: scenarios.ScenarioResult) -> str:
    recover = "-" if result.recover_s is None else f"{result.recover_s:.1f} s"
    what = f" ({result.recover_what})" if result.recover_what else ""
    return (
        f"| {result.name} | {result.tasks:,} | {result.lost} | {result.duplicates} | "
        f"{recover}{what} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rows: list[str] = []
    paragraphs: list[str] = []
    started = time.monotonic()
    with moto_sqs() as moto, tempfile.TemporaryDirectory() as workdir:
        for scenario, explanation in SCENARIOS:
            print(f"running {scenario.__name__} ...", flush=True)
            result = scenario(moto, Path(workdir))
            print(f"  {result}", flush=True)
            rows.append(_row(result))
            paragraphs.append(f"**{result.name}.** " + explanation.format(**result.notes))
    took_s = time.monotonic() - started
    readme = args.readme.read_text(encoding="utf-8")
    head, start, rest = readme.partition(START_MARKER)
    _, end, tail = rest.partition(END_MARKER)
    if not start or not end:
        raise SystemExit(f"{args.readme} lacks the {START_MARKER} ... {END_MARKER} markers")
    section = _document(rows, paragraphs, took_s)
    args.readme.write_text(head + start + "\n" + section + end + tail, encoding="utf-8")
    print(f"wrote the reliability section of {args.readme}")


def _document(rows: list[str], paragraphs: list[str], took_s: float) -> str:
    header = [
        "Generated by `scripts/reliability_report.py`; do not edit by hand. Each scenario runs "
        "real worker subprocesses (`tests/reliability/worker_main.py`) against moto's SQS server "
        "over HTTP on 127.0.0.1; the same scenarios are asserted by `tests/reliability/`. "
        "moto handles tens of requests per second, so times are moto's, not SQS's: read them "
        "as bounds on recovery, not as throughput.",
        "",
        f"Run on Python {platform.python_version()}, {platform.system()} "
        f"{platform.machine()}; all scenarios took {took_s:.0f} s.",
        "",
        "| scenario | tasks | lost | duplicates | time to recover |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    return "\n".join([*header, *rows, "", *"\n\n".join(paragraphs).split("\n"), ""]) + "\n"


if __name__ == "__main__":
    main()
