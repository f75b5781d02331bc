"""``python -m bench``: run the selected sections and write bench/results/latest.{json,md}."""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import inprocess, report
from bench.common import REPO_ROOT, BenchServer, combine_runs, machine, summary
from bench.idle import idle_section
from bench.sqs_runs import LIMIT, LIMIT_2, OURS, run_e2e

SECTIONS = ("sqs", "limit", "idle", "memory", "validation", "concurrency", "peers")
DEFAULT_SECTIONS = ("sqs", "limit", "idle", "memory", "validation", "concurrency")
CONCURRENCIES = (1, 2, 4, 8, 16)
QUICK_CONCURRENCIES = (1, 8)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="simple-worker benchmarks: cost per task, throughput against a hand-written "
        "boto3 loop, idle cost, in-process and validation overhead.",
    )
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_SECTIONS),
        help=f"comma-separated sections of {', '.join(SECTIONS)} (default: all but peers)",
    )
    parser.add_argument("--n", type=int, default=5000, help="tasks per SQS run (default 5000)")
    parser.add_argument("--handler-ms", type=float, default=10.0, help="the sleeping handler")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per figure")
    parser.add_argument("--idle-s", type=float, default=60.0, help="idle window (default 60)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke run: N=200, one repetition, 5 s idle, short micro-benchmarks, no plot",
    )
    parser.add_argument("--peers", action="store_true", help="also run the peers (slow)")
    parser.add_argument(
        "--peer-n", type=int, default=1000, help="tasks per peer run (default 1000, at most --n)"
    )
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        help="run only peers whose name contains this (repeatable; default: all peers)",
    )
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--readme",
        action="store_true",
        help="also write the tables into README.md's Performance section",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    if args.peers and "peers" not in args.sections:
        args.sections.append("peers")
    if args.quick:
        args.n = min(args.n, 200)
        args.repeat = 1
        args.idle_s = min(args.idle_s, 5.0)
        args.no_plot = True
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started_s = time.monotonic()
    results: dict[str, Any] = {
        "command": "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "repeat": args.repeat,
        "quick": args.quick,
        "sections": args.sections,
    }
    sections = set(args.sections)
    if "validation" in sections:
        _log("validation")
        results["validation"] = inprocess.validation_section(
            args.repeat, min_time_s=0.05 if args.quick else 0.5
        )
    if "memory" in sections:
        _log("memory")
        results["memory"] = inprocess.memory_section(args.n, args.repeat, concurrency=1)
    if sections & {"sqs", "limit", "idle", "concurrency", "peers"}:
        server = BenchServer()
        results["server"] = server.description
        try:
            with tempfile.TemporaryDirectory(prefix="tmp", dir=_tmp_parent(args.out)) as tmp:
                workdir = Path(tmp)
                if sections & {"sqs", "limit"}:
                    results["sqs"] = _sqs_section(server, args, workdir, "limit" in sections)
                if "concurrency" in sections:
                    results["concurrency"] = _concurrency_section(server, args, workdir)
                if "idle" in sections:
                    _log(f"idle ({args.idle_s:g} s)")
                    results["idle"] = idle_section(
                        server, window_s=args.idle_s, workers=args.repeat, workdir=workdir
                    )
                if "peers" in sections:
                    from bench.peers import peers_section  # noqa: PLC0415

                    results["peers"] = peers_section(server, args, workdir)
        finally:
            server.close()
    results["targets"] = report.targets(results)
    results["duration_s"] = time.monotonic() - started_s
    if results.get("concurrency") and not args.no_plot:
        plot_path = report.plot(
            results["concurrency"],
            args.out / "concurrency.png",
            f"{results['machine']['cpu']}, {results['machine']['cores']} cores",
        )
        results["plot"] = (
            str(plot_path.relative_to(REPO_ROOT))
            if plot_path.is_relative_to(REPO_ROOT)
            else str(plot_path)
        )
    json_path, md_path = report.write(results, args.out)
    if args.readme:
        report.update_readme(results, REPO_ROOT / "README.md")
    print(report.markdown(results))
    print(f"wrote {json_path} and {md_path} in {results['duration_s']:.0f} s")
    return 0


def _tmp_parent(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return out


def _log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _sqs_section(
    server: BenchServer, args: argparse.Namespace, workdir: Path, with_limit: bool
) -> list[dict[str, Any]]:
    impls = [OURS, LIMIT, LIMIT_2] if with_limit else [OURS]
    rows: list[dict[str, Any]] = []
    for handler_ms in (0.0, args.handler_ms):
        runs: dict[str, list[dict[str, Any]]] = {impl: [] for impl in impls}
        for repetition in range(args.repeat):
            for impl in impls:  # interleaved, so drifting load hits both alike
                _log(f"sqs {impl} handler {handler_ms:g} ms, run {repetition + 1}/{args.repeat}")
                runs[impl].append(
                    run_e2e(
                        server,
                        impl,
                        n=args.n,
                        concurrency=args.concurrency,
                        handler_ms=handler_ms,
                        workdir=workdir,
                    )
                )
        for impl in impls:
            rows.append(_combine(runs[impl], runs.get(LIMIT)))
    return rows


def _combine(runs: list[dict[str, Any]], limit_runs: list[dict[str, Any]] | None) -> dict[str, Any]:
    paired = limit_runs is not None and runs[0]["impl"] == OURS
    return combine_runs(
        runs,
        copied=("impl", "n", "concurrency", "handler_ms"),
        summarised=(
            "produce_tasks_per_s",
            "drain_tasks_per_s",
            "lost",
            "duplicated",
            "left_in_queue",
        ),
        limit_rates=[run["drain_tasks_per_s"] for run in limit_runs or ()] if paired else None,
    )


def _concurrency_section(
    server: BenchServer, args: argparse.Namespace, workdir: Path
) -> list[dict[str, Any]]:
    rows = []
    for concurrency in QUICK_CONCURRENCIES if args.quick else CONCURRENCIES:
        ceiling = concurrency * 1000 / args.handler_ms
        # About 5 s of work at the ceiling, at least 200 tasks, at most --n.
        n = max(200, min(args.n, int(ceiling * 5)))
        rates: dict[str, list[float]] = {OURS: [], LIMIT: []}
        for repetition in range(args.repeat):
            for impl in (OURS, LIMIT):
                _log(f"concurrency {concurrency} {impl}, run {repetition + 1}/{args.repeat}")
                run = run_e2e(
                    server,
                    impl,
                    n=n,
                    concurrency=concurrency,
                    handler_ms=args.handler_ms,
                    workdir=workdir,
                )
                rates[impl].append(run["drain_tasks_per_s"])
        rows.append(
            {
                "concurrency": concurrency,
                "n": n,
                "ceiling": ceiling,
                "ours": summary(rates[OURS]),
                "limit": summary(rates[LIMIT]),
            }
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
