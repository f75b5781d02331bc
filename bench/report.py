"""Results as JSON, as a markdown table, and the concurrency plot."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

TARGETS = {
    "calls_per_task": 0.31,
    "ratio_to_limit": 0.9,
    "idle_receives_per_hour": 200.0,
    "io_bound_fraction_of_ceiling": 0.9,
    "flat_validation_us": 5.0,
}


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _mmm(figure: Mapping[str, float], digits: int = 0) -> str:
    """``median (min-max)``."""
    return (
        f"{_fmt(figure['median'], digits)} "
        f"({_fmt(figure['min'], digits)} to {_fmt(figure['max'], digits)})"
    )


def markdown(results: Mapping[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"- command: `{results['command']}`",
        f"- machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['platform']}, Python {results['machine']['python']} "
        f"(load average at start {results['machine']['load_average_at_start'][0]:.2f})",
        f"- server: {results.get('server', 'none (in-process sections only)')}",
        f"- figures: median (min to max) of {results['repeat']} repetitions",
        "",
    ]
    lines += _sqs_lines(results.get("sqs"))
    lines += _peer_lines(results.get("peers"))
    lines += _concurrency_lines(results.get("concurrency"))
    lines += _idle_lines(results.get("idle"))
    lines += _memory_lines(results.get("memory"))
    lines += _validation_lines(results.get("validation"))
    lines += _targets_lines(results.get("targets"))
    return "\n".join(lines) + "\n"


def _sqs_lines(sqs: Any) -> list[str]:
    if not sqs:
        return []
    lines = [
        "## End to end on SQS (moto), one consumer process, concurrency 8",
        "",
        "| implementation | handler | produce tasks/s | drain tasks/s | vs limit | "
        "send/task | receive/task | delete/task | other/task | calls/task | lost | dup |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sqs:
        calls = row["calls_per_task"]
        ratio = row.get("ratio_to_limit")
        lines.append(
            f"| {row['impl']} | {_handler(row['handler_ms'])} | {_mmm(row['produce_tasks_per_s'])} "
            f"| {_mmm(row['drain_tasks_per_s'])} | {_mmm(ratio, 2) if ratio else '—'} "
            f"| {calls['send']['median']:.3f} | {calls['receive']['median']:.3f} "
            f"| {calls['delete']['median']:.3f} | {calls['other']['median']:.3f} "
            f"| {_mmm(calls['total'], 3)} | {row['lost']['max']:.0f} "
            f"| {row['duplicated']['max']:.0f} |"
        )
    lines += [
        "",
        "N tasks per run as shown in the JSON; lost and dup are the worst run. The limit is the "
        "hand-written boto3 loop (bench/limit_proc.py).",
        "",
    ]
    return lines


def _peer_lines(peers: Any) -> list[str]:
    if not peers:
        return []
    lines = [
        f"## Side by side with other libraries ({peers['n']:,} tasks per run, one consumer "
        "process, same server, counted the same way)",
        "",
        "| library | threads | handler | produce tasks/s | drain tasks/s | vs limit | "
        "send/task | receive/task | delete/task | other/task | calls/task | lost | dup |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in peers["rows"]:
        calls = row["calls_per_task"]
        lines.append(
            f"| {row['impl']} | {row['threads']} | {_handler(row['handler_ms'])} "
            f"| {_mmm(row['produce_tasks_per_s'])} | {_mmm(row['drain_tasks_per_s'])} "
            f"| {_mmm(row['ratio_to_limit'], 2)} "
            f"| {calls['send']['median']:.3f} | {calls['receive']['median']:.3f} "
            f"| {calls['delete']['median']:.3f} | {calls['other']['median']:.3f} "
            f"| {_mmm(calls['total'], 3)} | {row['lost']['max']:.0f} "
            f"| {row['duplicated']['max']:.0f} |"
        )
    idle = peers.get("idle") or {}
    if idle:
        lines += [
            "",
            "Idle, each peer's consumer on its own empty queue, all at once (receive calls per "
            "hour): "
            + "; ".join(f"{name} {rate:,.0f}" for name, rate in idle.items())
            + ". Ours: see Idle cost.",
        ]
    lines += [
        "",
        "Each peer runs in its own virtualenv (bench/.venvs) with its normal producer and "
        "worker; vs limit is each run's drain rate over the hand-written loop's in the same "
        "repetition.",
        "",
    ]
    return lines


def _handler(handler_ms: float) -> str:
    return "trivial" if not handler_ms else f"sleeps {handler_ms:g} ms"


def _concurrency_lines(rows: Any) -> list[str]:
    if not rows:
        return []
    lines = [
        "## Throughput against concurrency (handler sleeps 10 ms)",
        "",
        "| concurrency | ceiling tasks/s | simple-worker tasks/s | of ceiling | "
        "hand-written tasks/s | of ceiling |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['concurrency']} | {row['ceiling']:.0f} | {_mmm(row['ours'])} "
            f"| {row['ours']['median'] / row['ceiling']:.0%} | {_mmm(row['limit'])} "
            f"| {row['limit']['median'] / row['ceiling']:.0%} |"
        )
    return [*lines, "", "Plot: `bench/results/concurrency.png`.", ""]


def _idle_lines(idle: Any) -> list[str]:
    if not idle:
        return []
    return [
        "## Idle cost",
        "",
        f"{idle['workers']} workers at once, each on its own empty queue, "
        f"{idle['window_s']:.0f} s: **{_mmm(idle['receive_calls_per_hour_per_queue'])}** "
        f"receive calls per hour per queue ({idle['note']}); other calls in the window: "
        f"{_mmm(idle['other_calls_in_window'])}.",
        "",
    ]


def _memory_lines(memory: Any) -> list[str]:
    if not memory:
        return []
    return [
        f"## In process, memory broker ({memory['n']:,} tasks, drain concurrency "
        f"{memory['concurrency']})",
        "",
        "| tasks/s (add_task + drain) | add_task µs/task | drain µs/task | "
        "direct handler call µs | overhead µs/task |",
        "|---|---|---|---|---|",
        f"| {_mmm(memory['tasks_per_s'])} | {_mmm(memory['add_task_us'], 1)} "
        f"| {_mmm(memory['drain_us'], 1)} | {_mmm(memory['direct_call_us'], 2)} "
        f"| {_mmm(memory['overhead_us'], 1)} |",
        "",
    ]


def _validation_lines(validation: Any) -> list[str]:
    if not validation:
        return []
    lines = [
        "## Validation and wire format (µs per payload)",
        "",
        "| payload | body bytes | outgoing (producer) | incoming (worker) | encode + decode |",
        "|---|---|---|---|---|",
    ]
    for name, row in validation.items():
        lines.append(
            f"| {name} | {row['body_bytes']} | {_mmm(row['outgoing_us'], 2)} "
            f"| {_mmm(row['incoming_us'], 2)} | {_mmm(row['encode_decode_us'], 2)} |"
        )
    return [*lines, ""]


def _targets_lines(targets: Any) -> list[str]:
    if not targets:
        return []
    lines = ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for row in targets:
        lines.append(f"| {row['target']} | {row['measured']} | {'yes' if row['met'] else 'no'} |")
    return [*lines, ""]


def targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target beside what this run measured (reported, never asserted)."""
    rows: list[dict[str, Any]] = []
    ours = [r for r in results.get("sqs") or [] if r["impl"] == "simple-worker"]
    if ours:
        worst_calls = max(r["calls_per_task"]["total"]["median"] for r in ours)
        rows.append(
            _row(
                "SQS calls per task <= 0.31",
                worst_calls,
                "{:.3f}",
                worst_calls <= TARGETS["calls_per_task"],
            )
        )
        worst_ratio = min(r["ratio_to_limit"]["median"] for r in ours)
        rows.append(
            _row(
                "throughput >= 0.9 x hand-written loop",
                worst_ratio,
                "{:.2f}",
                worst_ratio >= TARGETS["ratio_to_limit"],
            )
        )
        sleepy = [r for r in ours if r["handler_ms"] == 10]
        if sleepy:
            fraction = sleepy[0]["drain_tasks_per_s"]["median"] / 800
            rows.append(
                _row(
                    "10 ms handlers, concurrency 8: >= 90% of 800 tasks/s",
                    fraction,
                    "{:.0%}",
                    fraction >= TARGETS["io_bound_fraction_of_ceiling"],
                )
            )
    idle = results.get("idle")
    if idle:
        per_hour = idle["receive_calls_per_hour_per_queue"]["median"]
        rows.append(
            _row(
                "idle <= 200 receives/hour/queue",
                per_hour,
                "{:.0f}",
                per_hour <= TARGETS["idle_receives_per_hour"],
            )
        )
    validation = results.get("validation")
    if validation:
        flat = next(iter(validation.values()))
        worst = max(flat["outgoing_us"]["median"], flat["incoming_us"]["median"])
        rows.append(
            _row(
                "flat payload validation < 5 µs",
                worst,
                "{:.2f} µs",
                worst < TARGETS["flat_validation_us"],
            )
        )
    return rows


def _row(target: str, value: float, fmt: str, met: bool) -> dict[str, Any]:
    return {"target": target, "value": value, "measured": fmt.format(value), "met": met}


README_START: Final = "<!-- bench-results:start -->"
README_END: Final = "<!-- bench-results:end -->"


def update_readme(results: Mapping[str, Any], readme: Path) -> None:
    """Put this run's tables between the README's bench-results markers, headings demoted."""
    body = markdown(results).split("\n", 1)[1].strip()  # without the "# Benchmark results"
    body = "\n".join("##" + line if line.startswith("## ") else line for line in body.split("\n"))
    text = readme.read_text(encoding="utf-8")
    head, start, rest = text.partition(README_START)
    _, end, tail = rest.partition(README_END)
    if not start or not end:
        raise SystemExit(f"{readme} has no {README_START} ... {README_END} block")
    readme.write_text(f"{head}{start}\n{body}\n{end}{tail}", encoding="utf-8")


def write(results: Mapping[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "latest.json"
    md_path = out_dir / "latest.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path


def plot(rows: list[dict[str, Any]], path: Path, subtitle: str) -> Path:
    """Throughput against concurrency: ours, the hand-written loop and the ceiling."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    xs = [row["concurrency"] for row in rows]
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=110)
    axes.plot(xs, [row["ceiling"] for row in rows], "k--", label="ceiling (c x 100 tasks/s)")
    for key, label, style in (
        ("ours", "simple-worker", "o-"),
        ("limit", "hand-written boto3", "s-"),
    ):
        medians = [row[key]["median"] for row in rows]
        lows = [row[key]["median"] - row[key]["min"] for row in rows]
        highs = [row[key]["max"] - row[key]["median"] for row in rows]
        axes.errorbar(xs, medians, yerr=[lows, highs], fmt=style, capsize=3, label=label)
    axes.set_xscale("log", base=2)
    axes.set_xticks(xs, [str(x) for x in xs])
    axes.set_xlabel("worker concurrency (threads)")
    axes.set_ylabel("tasks/s (handler sleeps 10 ms)")
    axes.set_title("Throughput against concurrency on SQS (moto)\n" + subtitle, fontsize=9)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
