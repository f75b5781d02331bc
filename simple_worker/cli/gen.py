"""``simple-worker-gen``: generate the typed package for a contract, check a contract change, or
export its JSON Schema.

Usage::

    simple-worker-gen CONTRACT [--out DIR] [--check] [--debug]
    simple-worker-gen compat OLD NEW [--mode full|backward|forward] [--format text|json]
    simple-worker-gen compat --against REV NEW [--mode ...] [--format ...]
    simple-worker-gen schema CONTRACT [-o FILE]

Exit status: 0 done (generated, up to date, no breaking change, schema written); 1 ``--check``
found stale files, or ``compat`` found a change that breaks a direction the mode checks; 2 a
contract, a git revision or the output could not be used. Subcommands dispatch on the first
argument; any other first argument is a contract path.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final, cast

from simple_worker.codegen import DEFAULT_OUT, HEADER_PREFIX, generate, regenerate_command
from simple_worker.compat import MODES, Mode, compare, render_json, render_text
from simple_worker.contract import Contract, load_contract, load_contract_text
from simple_worker.errors import ContractError
from simple_worker.schema import message_schema

PROG: Final = "simple-worker-gen"
EXIT_OK: Final = 0
EXIT_STALE: Final = 1
EXIT_ERROR: Final = 2
EXIT_BREAKING: Final = 1
_GIT_TIMEOUT_S: Final = 60.0


class _UsageError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


def _compat_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} compat",
        description="List every change between two contracts, whether it breaks queued "
        "messages or a rolling deploy, and the safe sequence of deploys for a breaking one.",
    )
    parser.add_argument(
        "contracts",
        nargs="+",
        metavar="CONTRACT",
        help="OLD NEW, or only NEW with --against",
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="read the old contract from this git revision of NEW's path (e.g. origin/main)",
    )
    parser.add_argument(
        "--mode",
        choices=list(MODES),
        default="full",
        help="backward: old messages reach new workers; forward: new messages reach old "
        "workers; full: both (default)",
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser


def _compat_main(argv: Sequence[str]) -> int:
    try:
        options = _compat_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        old, new, old_label, new_label = _compat_contracts(options.contracts, options.against)
    except (_UsageError, ContractError, OSError) as exc:
        if options.debug:
            raise
        print(f"{PROG} compat: error: {_message(exc)}", file=sys.stderr)
        return EXIT_ERROR
    mode = cast(Mode, options.mode)
    findings = compare(old, new)
    render = render_json if options.format == "json" else render_text
    sys.stdout.write(render(findings, mode=mode, old=old_label, new=new_label))
    return EXIT_BREAKING if any(item.breaking_in(mode) for item in findings) else EXIT_OK


def _compat_contracts(
    paths: Sequence[str], against: str | None
) -> tuple[Contract, Contract, str, str]:
    if against is None:
        if len(paths) != 2:
            raise _UsageError("give two contracts, OLD NEW (or NEW with --against REV)")
        return load_contract(paths[0]), load_contract(paths[1]), paths[0], paths[1]
    if len(paths) != 1:
        raise _UsageError("with --against REV, give only the NEW contract")
    new_path = paths[0]
    new = load_contract(new_path)
    label = f"{new_path}@{against}"
    old = load_contract_text(_git_show(against, Path(new_path)), source=label)
    return old, new, label, new_path


def _git_show(rev: str, path: Path) -> str:
    """The file's text at ``rev``, read with ``git show`` in the repository holding it."""
    directory = path.resolve().parent
    if not directory.is_dir():
        raise _UsageError(f"cannot use {path}: no such directory {directory}")
    try:
        result = subprocess.run(
            ["git", "show", f"{rev}:./{path.name}"],
            cwd=directory,
            capture_output=True,
            check=False,
            timeout=_GIT_TIMEOUT_S,
        )
    except FileNotFoundError as exc:
        raise _UsageError("cannot run git: it is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise _UsageError(f"git show {rev}:{path} did not finish in {_GIT_TIMEOUT_S:g} s") from exc
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        detail = reason[0].removeprefix("fatal: ") if reason else f"exit {result.returncode}"
        raise _UsageError(f"cannot read {path} at git revision {rev!r}: {detail}")
    try:
        return result.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _UsageError(f"{path} at {rev}: not valid UTF-8 (byte {exc.start})") from exc


def _schema_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} schema",
        description="Write a JSON Schema (draft 2020-12) of the message bodies of every task.",
    )
    parser.add_argument("contract", help="the contract file, e.g. contracts/tasks.toml")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        text = json.dumps(message_schema(load_contract(options.contract)), indent=2) + "\n"
        if options.output is None:
            sys.stdout.write(text)
        else:
            Path(options.output).write_text(text, encoding="utf-8")
    except (ContractError, OSError) as exc:
        if options.debug:
            raise
        print(f"{PROG} schema: error: {_message(exc)}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


# Subcommand name -> its main(argv); a first argument not named here is a contract path.
_SUBCOMMANDS: Final[Mapping[str, Callable[[Sequence[str]], int]]] = MappingProxyType(
    {"compat": _compat_main, "schema": _schema_main}
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status instead of exiting."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in _SUBCOMMANDS:
        return _SUBCOMMANDS[args[0]](args[1:])
    return _generate_main(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Generate typed producers, handler protocols and task references "
        "from a task contract (TOML).",
        epilog=f"Other commands: '{PROG} compat --help' (breaking-change checker), "
        f"'{PROG} schema --help' (JSON Schema of the messages).",
    )
    parser.add_argument("contract", help="the contract file, e.g. contracts/tasks.toml")
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"the package directory to write (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a diff if the package is not up to date",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser


def _generate_main(argv: Sequence[str]) -> int:
    try:
        options = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        return _run(options.contract, Path(options.out), check=options.check, out=options.out)
    except (_UsageError, ContractError, OSError, UnicodeDecodeError) as exc:
        if options.debug:
            raise
        print(f"{PROG}: error: {_message(exc)}", file=sys.stderr)
        return EXIT_ERROR


def _message(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot use {exc.filename}: {exc.strerror or exc}"
    return str(exc)


def _run(source: str, out_dir: Path, *, check: bool, out: str) -> int:
    # Bytes decoded as-is: the embedded contract must keep the file's exact text (CRLF too).
    text = Path(source).read_bytes().decode("utf-8")
    contract = load_contract_text(text, source=source)
    files = generate(contract, source=source, toml_text=text, out=out)
    current = _current_files(out_dir)
    regenerate = regenerate_command(source, out)
    if check:
        return _check(files, current, out_dir, regenerate)
    _write(files, current, out_dir)
    return EXIT_OK


def _current_files(out_dir: Path) -> dict[str, str | None]:
    """Every ``*.py`` in the directory: its text if we generated it, None if someone else did."""
    if not out_dir.is_dir():
        return {}
    current: dict[str, str | None] = {}
    for path in sorted(out_dir.glob("*.py")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        current[path.name] = text if text.startswith(HEADER_PREFIX) else None
    return current


def _check(
    files: Mapping[str, str], current: Mapping[str, str | None], out_dir: Path, regenerate: str
) -> int:
    diffs: list[str] = []
    for name in sorted(set(files) | {n for n, text in current.items() if text is not None}):
        old, new = current.get(name) or "", files.get(name, "")
        if name in files and current.get(name) == new:
            continue
        path = (out_dir / name).as_posix()
        diffs += difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=path if name in current else "/dev/null",
            tofile=path if name in files else "/dev/null",
        )
        if diffs and not diffs[-1].endswith("\n"):
            diffs[-1] += "\n"
    if not diffs:
        print(f"{out_dir.as_posix()} is up to date")
        return EXIT_OK
    sys.stdout.write("".join(diffs))
    print(f"{out_dir.as_posix()} is out of date; regenerate with: {regenerate}", file=sys.stderr)
    return EXIT_STALE


def _write(files: Mapping[str, str], current: Mapping[str, str | None], out_dir: Path) -> None:
    foreign = [name for name in files if name in current and current[name] is None]
    if foreign:
        raise _UsageError(
            f"refusing to overwrite {(out_dir / foreign[0]).as_posix()}: it was not generated "
            f"by {PROG} (no header); move it or choose another --out"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, text in files.items():
        if current.get(name) != text:
            (out_dir / name).write_bytes(text.encode("utf-8"))
            written += 1
    stale = [name for name, text in current.items() if text is not None and name not in files]
    for name in stale:
        (out_dir / name).unlink()
    print(
        f"{out_dir.as_posix()}: {written} written, {len(files) - written} unchanged, "
        f"{len(stale)} removed"
    )


if __name__ == "__main__":
    sys.exit(main())
