"""Type-level tests: mypy --strict over code that uses the project's generated package.

``tests/typing/ok_uses.py`` must pass as is. Each ``misuse_*.py`` marks its expected error with
``# type: ignore[code]``; with ``--warn-unused-ignores`` a misuse that type-checks (the ignore is
unused) or fails with another code fails the run. One mypy run covers every file; it enables
mypy's ``deprecated`` error code (off by default) and can import the golden package of the
``deprecated`` codegen case as ``golden_deprecated``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
SNIPPETS: Final = REPO / "tests" / "typing"
DEPRECATED_GOLDEN: Final = REPO / "tests" / "codegen_cases" / "deprecated" / "expected"
MISUSES: Final = (
    "misuse_handler_extra_parameter.py",
    "misuse_handler_missing_parameter.py",
    "misuse_handler_wrong_record.py",
    "misuse_handler_wrong_type.py",
    "misuse_producer_deprecated.py",
    "misuse_producer_missing_argument.py",
    "misuse_producer_option_as_argument.py",
    "misuse_producer_positional.py",
    "misuse_producer_wrong_type.py",
)


def test_the_snippets_are_all_here() -> None:
    assert sorted(p.name for p in SNIPPETS.glob("misuse_*.py")) == list(MISUSES)
    for name in MISUSES:
        assert "# type: ignore[" in (SNIPPETS / name).read_text(encoding="utf-8"), name


def test_uses_type_check_and_each_misuse_fails_with_its_expected_error(tmp_path: Path) -> None:
    files = ["ok_uses.py", *MISUSES]
    packages = tmp_path / "packages"
    shutil.copytree(DEPRECATED_GOLDEN, packages / "golden_deprecated")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "mypy"),
            "--strict",
            "--warn-unused-ignores",
            "--enable-error-code=deprecated",
            "--follow-imports=silent",
            "--python-version=3.11",
            f"--cache-dir={tmp_path / 'mypy_cache'}",
            *files,
        ],
        cwd=SNIPPETS,
        env={**os.environ, "MYPYPATH": os.pathsep.join([str(REPO), str(packages)])},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Success: no issues found in {len(files)} source files" in result.stdout
