"""The breaking-change checker: a table of (old, new, expected findings) cases, each checked in
both directions, and against the real validator where a case carries witness messages."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Final

import attrs
import pytest

from simple_worker.cli.gen import main as gen_main
from simple_worker.compat import MODES, RULES, Finding, compare, render_json, render_text
from simple_worker.contract import Contract, load_contract_text
from simple_worker.errors import PayloadValidationError, UnknownTaskError
from simple_worker.validation import ContractValidator

Expected = tuple[tuple[str, str], ...]


def contract(text: str) -> Contract:
    return load_contract_text("version = 1\n" + text, source="case.toml")


@attrs.frozen(kw_only=True)
class Case:
    name: str
    old: str
    new: str
    expected: Expected
    """(rule id, path) of every finding, in order."""
    task: str = "t"
    old_message: dict[str, object] | None = None
    """A payload old producers send (all arguments): new workers must reject it iff the case
    breaks backward."""
    new_message: dict[str, object] | None = None
    """A payload new producers send: old workers must reject it iff the case breaks forward."""


def args(body: str, extra: str = "") -> str:
    return f"{extra}\n[tasks.t.args]\n{body}\n"


A_INT: Final = args('a = "int"')
ADDRESS: Final = '[types.Address]\nstreet = "str"\n'
ADDRESS_ZIP: Final = '[types.Address]\nstreet = "str"\nzip = { type = "str", default = "" }\n'

CASES: Final = (
    Case(name="no-change", old=A_INT, new=A_INT, expected=()),
    Case(
        name="task-removed",
        old=A_INT + '[tasks.u.args]\nb = "str"\n',
        new=A_INT,
        expected=(("task-removed", "u"),),
    ),
    Case(
        name="task-renamed",
        old='[tasks.u.args]\nb = "str"\n',
        new='[tasks.v.args]\nb = "str"\n',
        expected=(("task-removed", "u"), ("task-added", "v")),
    ),
    Case(
        name="task-removed-after-deprecation",
        old=A_INT + '[tasks.u]\ndeprecated = "use t"\n',
        new=A_INT,
        expected=(("task-removed-after-deprecation", "u"),),
    ),
    Case(
        name="task-added",
        old=A_INT,
        new=A_INT + "[tasks.u]\n",
        expected=(("task-added", "u"),),
    ),
    Case(
        name="task-added-on-new-queue",
        old=A_INT,
        new=A_INT + '[tasks.u]\nqueue = "fresh"\n',
        expected=(("task-added-on-new-queue", "u"),),
    ),
    Case(
        name="task-queue-changed",
        old=A_INT,
        new='[tasks.t]\nqueue = "other"\n' + A_INT,
        expected=(("task-queue-changed", "t"),),
    ),
    Case(
        name="task-fifo-group-changed",
        old='[tasks.t]\nqueue = "q.fifo"\nfifo_group = "a"\n' + args('a = "int"\nb = "str"'),
        new='[tasks.t]\nqueue = "q.fifo"\nfifo_group = "b"\n' + args('a = "int"\nb = "str"'),
        expected=(("task-fifo-group-changed", "t"),),
    ),
    Case(
        name="task-deduplication-changed",
        old='[tasks.t]\nqueue = "q.fifo"\n' + A_INT,
        new='[tasks.t]\nqueue = "q.fifo"\ndeduplication = "a"\n' + A_INT,
        expected=(("task-deduplication-changed", "t"),),
    ),
    Case(
        name="task-deprecated",
        old=A_INT,
        new='[tasks.t]\ndeprecated = "use u"\n' + A_INT,
        expected=(("task-deprecated", "t"),),
    ),
    Case(
        name="argument-added-required",
        old=A_INT,
        new=args('a = "int"\nb = "str"'),
        expected=(("argument-added-required", "t.args.b"),),
        old_message={"a": 1},
        new_message={"a": 1, "b": "x"},
    ),
    Case(
        name="argument-added-optional",
        old=A_INT,
        new=args('a = "int"\nb = { type = "str", default = "" }'),
        expected=(("argument-added-optional", "t.args.b"),),
        old_message={"a": 1},
        new_message={"a": 1, "b": ""},
    ),
    Case(
        name="argument-removed",
        old=args('a = "int"\nb = { type = "str", default = "" }'),
        new=A_INT,
        expected=(("argument-removed", "t.args.b"),),
        old_message={"a": 1, "b": ""},
        new_message={"a": 1},
    ),
    Case(
        name="argument-removed-required",
        old=args('a = "int"\nb = "str"'),
        new=A_INT,
        expected=(("argument-removed-required", "t.args.b"),),
        old_message={"a": 1, "b": "x"},
        new_message={"a": 1},
    ),
    Case(
        name="argument-removed-after-deprecation",
        old=args('a = "int"\nb = { type = "str", default = "", deprecated = "unused" }'),
        new=A_INT,
        expected=(("argument-removed-after-deprecation", "t.args.b"),),
    ),
    Case(
        name="deprecated-but-required-argument-removed",
        old=args('a = "int"\nb = { type = "str", deprecated = "unused" }'),
        new=A_INT,
        expected=(("argument-removed-required", "t.args.b"),),
    ),
    Case(
        name="argument-renamed",
        old=args('a = "int"'),
        new=args('b = "int"'),
        expected=(
            ("argument-removed-required", "t.args.a"),
            ("argument-added-required", "t.args.b"),
        ),
    ),
    Case(
        name="argument-made-required",
        old=args('a = { type = "int", default = 0 }'),
        new=A_INT,
        expected=(("argument-made-required", "t.args.a"),),
        old_message={},  # a 0.2.x producer relying on the default
        new_message={"a": 1},
    ),
    Case(
        name="argument-made-optional",
        old=A_INT,
        new=args('a = { type = "int", default = 0 }'),
        expected=(("argument-made-optional", "t.args.a"),),
        old_message={"a": 1},
        new_message={},  # another producer relying on the new default
    ),
    Case(
        name="argument-default-changed",
        old=args('a = { type = "str", default = "en" }'),
        new=args('a = { type = "str", default = "nl" }'),
        expected=(("argument-default-changed", "t.args.a"),),
        old_message={"a": "en"},
        new_message={"a": "nl"},
    ),
    Case(
        name="float-default-written-differently",
        old=args('a = { type = "float", default = 1 }'),
        new=args('a = { type = "float", default = 1.0 }'),
        expected=(),
    ),
    Case(
        name="argument-deprecated",
        old=A_INT,
        new=args('a = { type = "int", deprecated = "use b" }'),
        expected=(("argument-deprecated", "t.args.a"),),
    ),
    Case(
        name="widened-int-to-float",
        old=A_INT,
        new=args('a = "float"'),
        expected=(("type-widened", "t.args.a"),),
        old_message={"a": 1},
        new_message={"a": 1.5},
    ),
    Case(
        name="widened-nullable",
        old=A_INT,
        new=args('a = "int | None"'),
        expected=(("type-widened", "t.args.a"),),
        old_message={"a": 1},
        new_message={"a": None},
    ),
    Case(
        name="widened-literal-value-added",
        old=args("a = \"Literal['x', 'y']\""),
        new=args("a = \"Literal['x', 'y', 'z']\""),
        expected=(("type-widened", "t.args.a"),),
        old_message={"a": "x"},
        new_message={"a": "z"},
    ),
    Case(
        name="widened-literal-to-str",
        old=args("a = \"Literal['x', 'y']\""),
        new=args('a = "str"'),
        expected=(("type-widened", "t.args.a"),),
        old_message={"a": "y"},
        new_message={"a": "anything"},
    ),
    Case(
        name="widened-uuid-to-str",
        old=args('a = "uuid"'),
        new=args('a = "str"'),
        expected=(("type-widened", "t.args.a"),),
        old_message={"a": "12345678-1234-5678-1234-567812345678"},
        new_message={"a": "not a uuid"},
    ),
    Case(
        name="widened-date-to-datetime",
        old=args('a = "date"'),
        new=args('a = "datetime"'),
        expected=(("type-widened", "t.args.a"),),
        old_message={"a": "2024-05-01"},
        new_message={"a": "2024-05-01T10:00:00"},
    ),
    Case(
        name="narrowed-float-to-int",
        old=args('a = "float"'),
        new=A_INT,
        expected=(("type-narrowed", "t.args.a"),),
        old_message={"a": 1.5},
        new_message={"a": 1},
    ),
    Case(
        name="narrowed-null-dropped",
        old=args('a = "int | None"'),
        new=A_INT,
        expected=(("type-narrowed", "t.args.a"),),
        old_message={"a": None},
        new_message={"a": 1},
    ),
    Case(
        name="narrowed-literal-value-removed",
        old=args("a = \"Literal['x', 'y']\""),
        new=args("a = \"Literal['x']\""),
        expected=(("type-narrowed", "t.args.a"),),
        old_message={"a": "y"},
        new_message={"a": "x"},
    ),
    Case(
        name="narrowed-str-to-uuid",
        old=args('a = "str"'),
        new=args('a = "uuid"'),
        expected=(("type-narrowed", "t.args.a"),),
        old_message={"a": "hello"},
        new_message={"a": "12345678-1234-5678-1234-567812345678"},
    ),
    Case(
        name="changed-int-to-str",
        old=A_INT,
        new=args('a = "str"'),
        expected=(("type-changed", "t.args.a"),),
        old_message={"a": 1},
        new_message={"a": "1"},
    ),
    Case(
        name="changed-literal-value-swapped",
        old=args("a = \"Literal['x', 'y']\""),
        new=args("a = \"Literal['x', 'z']\""),
        expected=(("type-changed", "t.args.a"),),
        old_message={"a": "y"},
        new_message={"a": "z"},
    ),
    Case(
        name="changed-and-nullable",
        old=A_INT,
        new=args('a = "str | None"'),
        expected=(("type-widened", "t.args.a"), ("type-changed", "t.args.a")),
        old_message={"a": 1},
        new_message={"a": None},
    ),
    Case(
        name="list-item-narrowed",
        old=args('a = "list[int | None]"'),
        new=args('a = "list[int]"'),
        expected=(("type-narrowed", "t.args.a[]"),),
        old_message={"a": [None]},
        new_message={"a": [1]},
    ),
    Case(
        name="dict-value-widened",
        old=args('a = "dict[str, int]"'),
        new=args('a = "dict[str, float]"'),
        expected=(("type-widened", "t.args.a{}"),),
        old_message={"a": {"k": 1}},
        new_message={"a": {"k": 0.5}},
    ),
    Case(
        name="list-to-dict",
        old=args('a = "list[int]"'),
        new=args('a = "dict[str, int]"'),
        expected=(("type-changed", "t.args.a"),),
        old_message={"a": [1]},
        new_message={"a": {"k": 1}},
    ),
    Case(
        name="bool-respelled-as-literal",
        old=args('a = "bool"'),
        new=args('a = "Literal[True, False]"'),
        expected=(),
    ),
    Case(
        name="record-field-added-optional",
        old=args('shipping = "Address | None"', ADDRESS),
        new=args('shipping = "Address | None"', ADDRESS_ZIP),
        expected=(("argument-added-optional", "t.args.shipping.zip"),),
        old_message={"shipping": {"street": "Dam 1"}},
        new_message={"shipping": {"street": "Dam 1", "zip": "1012"}},
    ),
    Case(
        name="record-field-removed",
        old=args('shipping = "Address"', ADDRESS_ZIP),
        new=args('shipping = "Address"', ADDRESS),
        expected=(("argument-removed", "t.args.shipping.zip"),),
        old_message={"shipping": {"street": "Dam 1", "zip": "1012"}},
        new_message={"shipping": {"street": "Dam 1"}},
    ),
    Case(
        name="record-field-in-list-narrowed",
        old=args('stops = "list[Stop]"', '[types.Stop]\nx = "float"\n'),
        new=args('stops = "list[Stop]"', '[types.Stop]\nx = "int"\n'),
        expected=(("type-narrowed", "t.args.stops[].x"),),
        old_message={"stops": [{"x": 0.5}]},
        new_message={"stops": [{"x": 1}]},
    ),
    Case(
        name="nested-record-field-made-required",
        old=args(
            'r = "Outer"',
            '[types.Inner]\nc = { type = "int", default = 0 }\n[types.Outer]\nb = "Inner"\n',
        ),
        new=args('r = "Outer"', '[types.Inner]\nc = "int"\n[types.Outer]\nb = "Inner"\n'),
        expected=(("argument-made-required", "t.args.r.b.c"),),
        old_message={"r": {"b": {}}},
        new_message={"r": {"b": {"c": 1}}},
    ),
    Case(
        name="record-renamed-same-fields",
        old=args('shipping = "Address"', ADDRESS),
        new=args('shipping = "Place"', '[types.Place]\nstreet = "str"\n'),
        expected=(),
    ),
    Case(
        name="record-changed-in-two-tasks",
        old=args('a = "Address"', ADDRESS) + '[tasks.u.args]\nb = "Address"\n',
        new=args('a = "Address"', ADDRESS_ZIP) + '[tasks.u.args]\nb = "Address"\n',
        expected=(
            ("argument-added-optional", "t.args.a.zip"),
            ("argument-added-optional", "u.args.b.zip"),
        ),
    ),
)


def found(case: Case) -> list[Finding]:
    return compare(contract(case.old), contract(case.new))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_case_finds_exactly_the_expected_changes(case: Case) -> None:
    assert [(item.rule, item.path) for item in found(case)] == list(case.expected)


@pytest.mark.parametrize("mode", ["backward", "forward"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_case_breaks_exactly_the_directions_of_its_rules(case: Case, mode: str) -> None:
    findings = found(case)
    expected = any(mode in RULES[rule].breaks for rule, _ in case.expected)
    assert any(item.breaking_in(mode) for item in findings) is expected  # type: ignore[arg-type]
    for item in findings:
        assert item.breaks == RULES[item.rule].breaks
        assert item.severity == ("breaking" if item.breaks else RULES[item.rule].severity_when_safe)
        assert bool(item.recipe) or not item.breaks, item.rule


def accepted(text: str, task: str, payload: dict[str, object]) -> bool:
    try:
        ContractValidator(contract(text)).incoming(task, payload)
    except (PayloadValidationError, UnknownTaskError):
        return False
    return True


WITNESSED: Final = [case for case in CASES if case.old_message is not None]


@pytest.mark.parametrize("case", WITNESSED, ids=lambda case: case.name)
def test_the_directions_agree_with_the_real_validator(case: Case) -> None:
    """Witness messages: valid for their producer; rejected across iff the case breaks there."""
    assert case.old_message is not None
    assert case.new_message is not None
    breaks = {direction for rule, _ in case.expected for direction in RULES[rule].breaks}
    assert accepted(case.old, case.task, case.old_message)
    assert accepted(case.new, case.task, case.new_message)
    assert accepted(case.new, case.task, case.old_message) is ("backward" not in breaks)
    assert accepted(case.old, case.task, case.new_message) is ("forward" not in breaks)


def test_every_rule_has_a_case_and_breaks_are_checked_in_both_directions() -> None:
    covered = {rule for case in CASES for rule, _ in case.expected}
    assert covered == set(RULES)
    assert set(MODES) == {"full", "backward", "forward"}


def test_a_rename_gets_a_hint() -> None:
    renamed = next(case for case in CASES if case.name == "task-renamed")
    [removed, _] = found(renamed)
    assert removed.hint is not None
    assert "'v' takes the same arguments" in removed.hint
    argument = next(case for case in CASES if case.name == "argument-renamed")
    assert "added argument 'b' has the same type: a rename?" in str(found(argument)[0].hint)


def test_messages_say_what_changed() -> None:
    swapped = next(case for case in CASES if case.name == "changed-literal-value-swapped")
    assert found(swapped)[0].message == (
        'type Literal["x", "y"] -> Literal["x", "z"] (added "z"; removed "y")'
    )
    default = next(case for case in CASES if case.name == "argument-default-changed")
    assert found(default)[0].message == 'default "en" -> "nl"'


def test_the_project_contract_is_compatible_with_itself() -> None:
    text = (Path(__file__).resolve().parents[1] / "contracts" / "tasks.toml").read_text("utf-8")
    project = load_contract_text(text, source="contracts/tasks.toml")
    assert compare(project, project) == []


def test_text_rendering_shows_directions_recipe_and_summary() -> None:
    case = next(case for case in CASES if case.name == "argument-added-optional")
    text = render_text(found(case), mode="backward", old="old.toml", new="new.toml")
    assert text.splitlines()[0] == "old.toml -> new.toml (checking backward compatibility)"
    assert "warning: t.args.b [argument-added-optional]" in text
    assert "breaks: forward (forward not checked in --mode backward)" in text
    assert "    1. deploy the workers with the NEW contract everywhere first" in text
    assert text.endswith("1 change: 0 breaking, 1 warning, 0 info\n")


def test_json_rendering_has_stable_keys() -> None:
    case = next(case for case in CASES if case.name == "argument-added-required")
    document = json.loads(render_json(found(case), mode="full", old="o", new="n"))
    assert list(document) == ["format", "old", "new", "mode", "breaking", "counts", "findings"]
    assert document["breaking"] is True
    assert document["counts"] == {"breaking": 1, "warning": 0, "info": 0}
    [item] = document["findings"]
    assert list(item) == [
        "rule", "task", "path", "message", "summary", "breaks", "breaking", "severity",
        "recipe", "hint",
    ]  # fmt: skip
    assert item["breaks"] == ["backward", "forward"]
    assert item["path"] == "t.args.b"


# --- the command line -------------------------------------------------------------------------

OLD_TOML: Final = "version = 1\n" + A_INT
NEW_TOML: Final = "version = 1\n" + args('a = "int"\nb = { type = "str", default = "" }')


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(OLD_TOML, encoding="utf-8")
    new.write_text(NEW_TOML, encoding="utf-8")
    return old, new


def test_cli_text_and_exit_1_when_breaking(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = files
    assert gen_main(["compat", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "BREAKING: t.args.b [argument-added-optional]" in out
    assert "checking backward and forward compatibility" in out


@pytest.mark.parametrize(("mode", "status"), [("full", 1), ("forward", 1), ("backward", 0)])
def test_cli_mode_chooses_the_directions(
    files: tuple[Path, Path], mode: str, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = files
    assert gen_main(["compat", str(old), str(new), "--mode", mode]) == status
    capsys.readouterr()
    # Reversed, the change is a removal: breaking backward, safe forward.
    reverse = {"full": 1, "forward": 0, "backward": 1}[mode]
    assert gen_main(["compat", str(new), str(old), "--mode", mode]) == reverse


def test_cli_json(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    old, new = files
    assert gen_main(["compat", str(old), str(old), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["findings"] == []
    assert document["breaking"] is False
    assert gen_main(["compat", str(old), str(new), "--format", "json", "--mode", "backward"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["findings"][0]["rule"] == "argument-added-optional"
    assert document["findings"][0]["breaking"] is False


def test_cli_a_bad_contract_is_exit_2(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, _ = files
    assert gen_main(["compat", str(old), "missing.toml"]) == 2
    assert "simple-worker-gen compat: error: missing.toml: cannot read" in capsys.readouterr().err
    assert gen_main(["compat", str(old)]) == 2
    assert "give two contracts" in capsys.readouterr().err


def git(repo: Path, *command: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *command],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with contracts/tasks.toml committed (OLD) and edited on disk (NEW)."""
    root = tmp_path / "repo"
    (root / "contracts").mkdir(parents=True)
    git(root, "init", "-q")
    (root / "contracts" / "tasks.toml").write_text(OLD_TOML, encoding="utf-8")
    git(root, "add", "contracts/tasks.toml")
    git(root, "commit", "-q", "-m", "old")
    (root / "contracts" / "tasks.toml").write_text(NEW_TOML, encoding="utf-8")
    return root


def test_cli_against_a_git_revision(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo / "contracts")
    assert gen_main(["compat", "--against", "HEAD", "tasks.toml"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("tasks.toml@HEAD -> tasks.toml")
    assert "[argument-added-optional]" in out
    monkeypatch.chdir(repo)
    assert (
        gen_main(["compat", "--against", "HEAD", "contracts/tasks.toml", "--mode", "backward"]) == 0
    )


def test_cli_against_reports_git_errors(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    assert gen_main(["compat", "--against", "no-such-rev", "contracts/tasks.toml"]) == 2
    err = capsys.readouterr().err
    assert "cannot read contracts/tasks.toml at git revision 'no-such-rev'" in err
    (repo / "contracts" / "new.toml").write_text(NEW_TOML, encoding="utf-8")
    assert gen_main(["compat", "--against", "HEAD", "contracts/new.toml"]) == 2
    assert "at git revision 'HEAD'" in capsys.readouterr().err
    outside = repo.parent / "outside"
    outside.mkdir()
    (outside / "tasks.toml").write_text(NEW_TOML, encoding="utf-8")
    assert gen_main(["compat", "--against", "HEAD", str(outside / "tasks.toml")]) == 2
    assert "not a git repository" in capsys.readouterr().err
