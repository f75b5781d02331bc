"""The generator: golden files per case, determinism, and the generated code at run time and under
mypy --strict, ruff check and ruff format.

Update the goldens after an intended change with ``UPDATE_GOLDENS=1 .venv/bin/pytest
tests/test_codegen.py`` and review the diff of ``tests/codegen_cases/*/expected``.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Final

import pytest

from simple_worker import App, MemoryBroker
from simple_worker.cli.gen import main as gen_main
from simple_worker.codegen import generate, literals
from simple_worker.contract import load_contract_text
from simple_worker.contract.model import Argument, Contract, ScalarType, Task
from simple_worker.errors import ContractError

REPO: Final = Path(__file__).resolve().parents[1]
CASES_DIR: Final = REPO / "tests" / "codegen_cases"
CASES: Final = sorted(p.name for p in CASES_DIR.iterdir() if (p / "tasks.toml").is_file())
GOLDEN_SOURCE: Final = "tasks.toml"
UPDATE_COMMAND: Final = "UPDATE_GOLDENS=1 .venv/bin/pytest tests/test_codegen.py"
PROJECT_CONTRACT: Final = "contracts/tasks.toml"
BIN: Final = Path(sys.executable).parent
INT: Final = ScalarType("int")


def generate_case(case: str) -> dict[str, str]:
    text = (CASES_DIR / case / "tasks.toml").read_bytes().decode("utf-8")
    contract = load_contract_text(text, source=GOLDEN_SOURCE)
    return generate(contract, source=GOLDEN_SOURCE, toml_text=text)


def generate_project() -> dict[str, str]:
    text = (REPO / PROJECT_CONTRACT).read_bytes().decode("utf-8")
    contract = load_contract_text(text, source=PROJECT_CONTRACT)
    return generate(contract, source=PROJECT_CONTRACT, toml_text=text)


def read_tree(directory: Path) -> dict[str, str]:
    if not directory.is_dir():
        return {}
    return {p.name: p.read_bytes().decode("utf-8") for p in sorted(directory.glob("*.py"))}


def tree_diff(expected: Mapping[str, str], actual: Mapping[str, str], where: str) -> str:
    lines: list[str] = []
    for name in sorted(set(expected) | set(actual)):
        if expected.get(name) != actual.get(name):
            lines += difflib.unified_diff(
                expected.get(name, "").splitlines(keepends=True),
                actual.get(name, "").splitlines(keepends=True),
                fromfile=f"{where}/{name} (expected)",
                tofile=f"{where}/{name} (generated)",
            )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@pytest.mark.parametrize("case", CASES)
def test_generated_files_match_the_goldens(case: str) -> None:
    files = generate_case(case)
    expected_dir = CASES_DIR / case / "expected"
    if os.environ.get("UPDATE_GOLDENS"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        expected_dir.mkdir(parents=True)
        for name, text in files.items():
            (expected_dir / name).write_bytes(text.encode("utf-8"))
        return
    diff = tree_diff(read_tree(expected_dir), files, expected_dir.relative_to(REPO).as_posix())
    if diff:
        pytest.fail(
            f"generated code for case {case!r} differs from its goldens:\n{diff}\n"
            f"If the change is intended, update the goldens with: {UPDATE_COMMAND}",
            pytrace=False,
        )


def test_the_project_generated_package_is_up_to_date(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    status = gen_main([PROJECT_CONTRACT, "--check"])
    captured = capsys.readouterr()
    assert status == 0, captured.out + captured.err


_DUMP_SCRIPT: Final = """
import json, sys
sys.path.insert(0, {tests!r})
import test_codegen as t
out = {{case: t.generate_case(case) for case in t.CASES}}
out["project"] = t.generate_project()
print(json.dumps(out, sort_keys=True))
"""


def test_output_is_identical_under_different_hash_seeds() -> None:
    script = _DUMP_SCRIPT.format(tests=str(REPO / "tests"))
    outputs = []
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {*CASES, "project"}


def test_generate_is_byte_identical_on_every_run() -> None:
    assert generate_project() == generate_project()


TRICKY_TEXTS: Final = (
    "",
    'version = 1\r\n[tasks.a]\r\ndoc = "it\'s \\"quoted\\"\\ttab \\\\ back"\r\n',
    "no final newline \x00 \x7f \u2028 \U0001f600 caf\u00e9 \t\f" + "x " * 80,
    "'" * 3 + '"' * 4 + "\\" * 120,
)


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_the_embedded_contract_text_is_byte_exact(text: str) -> None:
    source = "\n".join(literals.string_lines(text, "", "TEXT = "))
    namespace: dict[str, object] = {}
    exec(source, namespace)
    assert namespace["TEXT"] == text
    assert all(len(line) <= literals.LINE_LENGTH for line in source.splitlines())


def test_the_project_package_embeds_its_contract_file(project_package: ModuleType) -> None:
    embedded = importlib.import_module("generated._contract")._CONTRACT_TOML
    assert embedded == (REPO / PROJECT_CONTRACT).read_bytes().decode("utf-8")


# --- the generated code at run time -------------------------------------------------------------


class RecordingApp:
    """Stands in for App: records what the producers send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, object], int]] = []

    def add_task(
        self, task_name: str, payload: Mapping[str, object], *, delay_seconds: int = 0
    ) -> str:
        self.sent.append((task_name, dict(payload), delay_seconds))
        return f"task-{len(self.sent)}"


@pytest.fixture
def project_package(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(REPO))
    for name in [n for n in sys.modules if n == "generated" or n.startswith("generated.")]:
        monkeypatch.delitem(sys.modules, name)
    yield importlib.import_module("generated")
    for name in [n for n in sys.modules if n == "generated" or n.startswith("generated.")]:
        del sys.modules[name]


def test_the_generated_package_exports_its_api(project_package: ModuleType) -> None:
    exported = list(project_package.__all__)
    assert {"CONTRACT", "Producers", "tasks", "AddHandler", "AlwaysFailsHandler"} <= set(exported)
    assert project_package.CONTRACT.task("add") is not None
    assert str(project_package.tasks.add) == "add"


def test_producers_send_every_argument_with_options(project_package: ModuleType) -> None:
    app = RecordingApp()
    producers = project_package.Producers(app)
    assert producers.add(a=1, b=2) == "task-1"
    producers.with_options(delay_seconds=30).add(a=3, b=4)
    assert app.sent == [("add", {"a": 1, "b": 2}, 0), ("add", {"a": 3, "b": 4}, 30)]


def test_producers_are_keyword_only(project_package: ModuleType) -> None:
    producers = project_package.Producers(RecordingApp())
    with pytest.raises(TypeError):
        producers.add(1, 2)


def test_producers_send_defaults_and_never_share_a_mutable_default(
    project_package: ModuleType,
) -> None:
    app = RecordingApp()
    producers = project_package.Producers(app)
    producers.send_welcome_email(user_id=1, email="a@example.com", referrer=None, shipping=None)
    producers.send_welcome_email(user_id=2, email="b@example.com", referrer=None, shipping=None)
    first, second = app.sent[0][1], app.sent[1][1]
    assert first["locale"] == "en"
    assert first["tags"] == []
    assert first["tags"] is not second["tags"]


def test_a_task_travels_from_producer_to_handler(project_package: ModuleType) -> None:
    app = App(contract=project_package.CONTRACT)
    received: list[dict[str, object]] = []

    @app.register_task_handler(project_package.tasks.plan_route)
    def plan_route(**arguments: object) -> None:
        received.append(arguments)

    route = project_package.Route(name="north", stops=[project_package.Stop(x=1.0, y=2.0)])
    project_package.Producers(app).plan_route(route=route)
    app.worker().drain(raise_errors=True)

    [arguments] = received
    assert arguments["route"] == route
    assert type(arguments["route"]) is project_package.Route
    assert arguments["vehicle"] == "van"


def test_a_generated_record_is_frozen_and_keyword_only(project_package: ModuleType) -> None:
    stop = project_package.Stop(x=1.5, y=2.5)
    with pytest.raises(TypeError):
        project_package.Stop(1.5, 2.5)
    with pytest.raises(AttributeError):
        stop.x = 3.0


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            Task(name="with_options", args=()),
            "'with_options' is reserved by the generated Producers",
        ),
        (
            Task(name="t", args=(Argument(name="class", type=INT),)),
            "'class' is not a usable Python",
        ),
        (Task(name="t", args=(Argument(name="self", type=INT),)), "would shadow a name"),
        (Task(name="t", args=(Argument(name="datetime", type=INT),)), "would shadow a name"),
    ],
)
def test_a_name_python_cannot_use_is_a_contract_error(task: Task, message: str) -> None:
    contract = Contract(version=1, tasks={task.name: task})
    with pytest.raises(ContractError, match=message):
        generate(contract, source="bad.toml", toml_text="")


# --- the generated code under mypy --strict and ruff --------------------------------------------


@pytest.fixture(scope="module")
def checked_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every golden tree and the project's generated/ as packages in one tmp directory."""
    root = tmp_path_factory.mktemp("generated_packages")
    for case in CASES:
        shutil.copytree(CASES_DIR / case / "expected", root / f"golden_{case}")
    shutil.copytree(
        REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def run_tool(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(REPO)}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def test_generated_code_passes_mypy_strict(checked_packages: Path) -> None:
    packages = sorted(p.name for p in checked_packages.iterdir() if p.is_dir())
    result = run_tool(
        [
            str(BIN / "mypy"),
            "--strict",
            "--warn-unused-ignores",
            "--follow-imports=silent",
            "--python-version=3.11",
            f"--cache-dir={checked_packages.parent / 'mypy_cache_codegen'}",
            *packages,
        ],
        checked_packages,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_passes_ruff_check_and_format(checked_packages: Path) -> None:
    config = str(REPO / "pyproject.toml")
    check = run_tool(
        [str(BIN / "ruff"), "check", "--no-cache", "--config", config, "."], checked_packages
    )
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = run_tool(
        [str(BIN / "ruff"), "format", "--no-cache", "--check", "--diff", "--config", config, "."],
        checked_packages,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


# --- deprecation in the generated producers ----------------------------------------------------


@pytest.fixture
def deprecated_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    shutil.copytree(CASES_DIR / "deprecated" / "expected", tmp_path / "golden_deprecated")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "golden_deprecated", raising=False)
    return importlib.import_module("golden_deprecated")


def test_a_deprecated_task_warns_when_produced(deprecated_package: ModuleType) -> None:
    app = RecordingApp()
    with pytest.warns(DeprecationWarning, match="send_mail_old: use send_email") as caught:
        deprecated_package.Producers(app).send_mail_old(to="a@example.com")
    assert [w.filename for w in caught] == [__file__]
    assert app.sent == [("send_mail_old", {"to": "a@example.com"}, 0)]  # retries left out


def test_a_deprecated_argument_warns_only_when_passed(deprecated_package: ModuleType) -> None:
    app = RecordingApp()
    producers = deprecated_package.Producers(app)
    with pytest.warns(DeprecationWarning, match="'legacy_id' is deprecated") as caught:
        producers.send_email(to="a@example.com", legacy_id=1)
    assert len(caught) == 1
    assert caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="is deprecated") as caught:
        producers.send_email(to="a@example.com", legacy_id=1, cc=["b@example.com"])
    assert sorted(str(w.message).split(":")[1] for w in caught) == [
        " argument 'cc' is deprecated",
        " argument 'legacy_id' is deprecated",
    ]
    assert "cc" not in app.sent[0][1]  # deprecated and not passed: not sent
    assert app.sent[1][1]["cc"] == ["b@example.com"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DeprecationWarning):
            producers.send_email(to="a@example.com", legacy_id=1)


def test_a_deprecated_optional_argument_left_out_suits_old_and_new_workers(
    deprecated_package: ModuleType,
) -> None:
    broker = MemoryBroker()
    producers = deprecated_package.Producers(
        App(broker=broker, contract=deprecated_package.CONTRACT)
    )

    def send(count: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # legacy_id is deprecated too
            for _ in range(count):
                producers.send_email(to="a@example.com", legacy_id=1)

    send(2)
    (payload,) = {
        json.dumps(json.loads(m.body)["task_payload"]) for m in broker.messages("default")
    }
    assert json.loads(payload) == {"to": "a@example.com", "subject": "", "legacy_id": 1}
    old_worker = App(broker=broker, contract=deprecated_package.CONTRACT)  # still has cc
    new_worker = App(broker=broker, contract=load_contract_text(WITHOUT_CC, source="new.toml"))
    seen: list[tuple[str, object]] = []

    @old_worker.register_task_handler("send_email")
    def old(to: str, subject: str, cc: list[str], legacy_id: int) -> None:
        seen.append(("old", cc))

    @new_worker.register_task_handler("send_email")
    def new(to: str, subject: str, legacy_id: int) -> None:
        seen.append(("new", None))

    assert old_worker.worker().drain() == 2
    assert seen == [("old", []), ("old", [])]  # the old worker fills in the default
    send(2)
    assert new_worker.worker().drain() == 2  # no "unknown argument" for the new worker
    assert seen[2:] == [("new", None), ("new", None)]


WITHOUT_CC: Final = """version = 1
[tasks.send_email.args]
to = "str"
subject = { type = "str", default = "" }
legacy_id = "int"
"""


def test_deprecations_are_in_the_producer_docstring(deprecated_package: ModuleType) -> None:
    doc = deprecated_package.Producers.send_email.__doc__
    assert "cc: put every recipient in to" in doc
    assert "type checkers cannot flag a" in doc
