"""``simple-worker-gen``: generate the typed package for a contract, or check it is up to date.

Usage: ``simple-worker-gen CONTRACT [--out DIR] [--check] [--debug]``. Exit status: 0 done (or
up to date), 1 ``--check`` found stale files, 2 the contract or the output could not be used.
Later subcommands (``compat OLD NEW``, ``schema FILE``) dispatch on the first argument.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

from simple_worker.codegen import DEFAULT_OUT, HEADER_PREFIX, generate, regenerate_command
from simple_worker.contract import load_contract_text
from simple_worker.errors import ContractError

PROG: Final = "simple-worker-gen"
EXIT_OK: Final = 0
EXIT_STALE: Final = 1
EXIT_ERROR: Final = 2

# Subcommand name -> its main(argv); a first argument not named here is a contract path.
_SUBCOMMANDS: Final[Mapping[str, Callable[[Sequence[str]], int]]] = MappingProxyType({})


class _UsageError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


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
