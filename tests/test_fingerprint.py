"""Task and contract fingerprints: stable, blind to docs and order, sensitive to the wire."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

from simple_worker.contract import Contract, load_contract, load_contract_text
from simple_worker.contract.fingerprint import contract_fingerprint, task_fingerprint

REPO: Final = Path(__file__).resolve().parents[1]
PROJECT: Final = REPO / "contracts" / "tasks.toml"
BASE: Final = """version = 1
[types.Address]
street = "str"
[tasks.t]
doc = "Send it."
[tasks.t.args]
a = "int"
b = { type = "list[str]", default = ["x"] }
c = "Address | None"
"""


def load(text: str) -> Contract:
    return load_contract_text(text, source="t.toml")


def prints(text: str) -> tuple[str, str]:
    contract = load(text)
    task = contract.task("t")
    assert task is not None
    return task_fingerprint(task, contract), contract_fingerprint(contract)


def test_a_fingerprint_is_12_hex_digits_and_the_same_when_loaded_twice() -> None:
    first, second = load_contract(PROJECT), load_contract(PROJECT)
    assert contract_fingerprint(first) == contract_fingerprint(second)
    for name, task in first.tasks.items():
        other = second.task(name)
        assert other is not None
        assert task_fingerprint(task, first) == task_fingerprint(other, second)
    assert len(contract_fingerprint(first)) == 12
    int(contract_fingerprint(first), 16)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('doc = "Send it."', 'doc = "Send it, now with more words."'),
        ('a = "int"', 'a = { type = "int", deprecated = "use d" }'),
        ('[types.Address]\nstreet = "str"', '[types.Address]\nstreet = "str"  # a comment'),
    ],
)
def test_docs_deprecations_and_comments_keep_the_fingerprints(old: str, new: str) -> None:
    assert prints(BASE) == prints(BASE.replace(old, new))


def test_argument_order_keeps_the_task_fingerprint() -> None:
    reordered = BASE.replace('a = "int"\n', "").replace(
        'c = "Address | None"\n', 'c = "Address | None"\na = "int"\n'
    )
    assert prints(BASE)[0] == prints(reordered)[0]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('a = "int"', 'a = "float"'),
        ('a = "int"', 'z = "int"'),
        ('default = ["x"]', 'default = ["y"]'),
        ('street = "str"', 'street = "str | None"'),
        ('street = "str"', 'street = "str"\nzip = { type = "str", default = "" }'),
    ],
)
def test_wire_changes_change_both_fingerprints(old: str, new: str) -> None:
    before, after = prints(BASE), prints(BASE.replace(old, new))
    assert before[0] != after[0]
    assert before[1] != after[1]


def test_a_queue_change_keeps_the_task_fingerprint_but_not_the_contracts() -> None:
    moved = BASE.replace('doc = "Send it."', 'doc = "Send it."\nqueue = "other"')
    assert prints(BASE)[0] == prints(moved)[0]
    assert prints(BASE)[1] != prints(moved)[1]


def test_fingerprints_are_the_same_under_another_hash_seed() -> None:
    script = (
        "from simple_worker.contract import load_contract\n"
        "from simple_worker.contract.fingerprint import contract_fingerprint, task_fingerprint\n"
        f"c = load_contract({str(PROJECT)!r})\n"
        "print(contract_fingerprint(c), *(task_fingerprint(t, c) for t in c.tasks.values()))\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for seed in ("1", "977")
    }
    assert len(outputs) == 1
