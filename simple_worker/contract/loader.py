"""Load a contract TOML file into the model, reporting every problem with file and key path.

Loading runs in stages and raises ``ContractError`` (one line per problem) after the first
stage that found any: structure, names and types; then defaults (checked and converted to wire
form against their types); then record classes.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import attrs

from simple_worker.contract.model import (
    DEFAULT_QUEUE,
    MISSING,
    Argument,
    Contract,
    OptionalType,
    Record,
    ScalarType,
    Task,
    TypeExpr,
)
from simple_worker.contract.naming import (
    Problems,
    check_queue_name,
    check_record_names,
    check_task_names,
    check_unknown_keys,
    key_path,
    kind,
    name_problem,
)
from simple_worker.contract.typeexpr import parse_type
from simple_worker.errors import ContractError
from simple_worker.queue_names import FIFO_SUFFIX
from simple_worker.validation.converters import ConverterFactory
from simple_worker.validation.problems import Problem, prefix
from simple_worker.validation.records import dependency_order, find_cycle, make_record_classes

FORMAT_VERSION: Final = 1
_TOP_KEYS: Final = ("version", "types", "tasks")
_TASK_KEYS: Final = ("queue", "doc", "deprecated", "fifo_group", "deduplication", "args")
_ARG_KEYS: Final = ("type", "default", "default_none", "deprecated")
_FIFO_KEYS: Final = ("fifo_group", "deduplication")
_FIFO_ARG_TYPES: Final = (ScalarType("str"), ScalarType("int"))


def load_contract(
    path: str | os.PathLike[str], *, record_classes: Mapping[str, type] | None = None
) -> Contract:
    """Read and load a contract file; raise ``ContractError`` naming the file and key paths."""
    source = os.fspath(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(f"{source}: not valid UTF-8 (byte {exc.start})") from exc
    except OSError as exc:
        raise ContractError(f"{source}: cannot read the contract: {exc.strerror or exc}") from exc
    return load_contract_text(text, source=source, record_classes=record_classes)


def load_contract_text(
    text: str, *, source: str, record_classes: Mapping[str, type] | None = None
) -> Contract:
    """Load a contract from TOML text; ``source`` names it in errors and generated headers.

    ``record_classes`` (record name to attrs class, as the generated package passes) are
    checked against the records; without them, frozen attrs classes are made.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContractError(f"{source}: invalid TOML: {exc}") from exc
    return _Loader(source).load(document, record_classes)


@attrs.define
class _ArgumentDraft:
    """An argument whose type parsed; its default is still as written in TOML."""

    name: str
    path: str
    type: TypeExpr
    default: object
    deprecated: str | None


@attrs.define
class _TaskDraft:
    name: str
    path: str
    args: list[_ArgumentDraft]
    options: dict[str, str | None]


class _Loader:
    """One load: collects problems stage by stage."""

    def __init__(self, source: str) -> None:
        self.problems = Problems(source)

    def load(self, document: dict[str, object], classes: Mapping[str, type] | None) -> Contract:
        check_unknown_keys(self.problems, "", document, _TOP_KEYS)
        version = self._version(document.get("version"))
        record_tables = self._tables(document, "types")
        task_tables = self._tables(document, "tasks")
        known = list(record_tables)
        record_drafts = {
            name: self._arguments(key_path("types", name), table, known, "field")
            for name, table in record_tables.items()
        }
        task_drafts = [self._task(name, table, known) for name, table in task_tables.items()]
        check_record_names(self.problems, known, list(task_tables))
        check_task_names(self.problems, list(task_tables))
        self._check_cycle(record_drafts)
        self.problems.raise_if_any()
        records = self._records(record_drafts)
        factory = ConverterFactory(records, {}, incoming=False)
        tasks = {draft.name: self._finish_task(draft, factory) for draft in task_drafts}
        self.problems.raise_if_any()
        made_classes = self._record_classes(records, classes)
        self.problems.raise_if_any()
        return Contract(
            version=version,
            tasks=tasks,
            records=records,
            source=self.problems.source,
            record_classes=made_classes,
        )

    def _version(self, version: object) -> int:
        if version is None:
            self.problems.add("version", f"missing (put version = {FORMAT_VERSION} at the top)")
        elif type(version) is not int:
            self.problems.add("version", f"expected an integer, got {kind(version)}")
        elif version != FORMAT_VERSION:
            self.problems.add(
                "version",
                f"unsupported contract format version {version} "
                f"(this simple-worker reads version {FORMAT_VERSION})",
            )
        return FORMAT_VERSION

    def _tables(self, document: Mapping[str, object], key: str) -> dict[str, dict[str, object]]:
        """The sub-tables of a top-level table, reporting values that are not tables."""
        value = document.get(key, {})
        if not isinstance(value, dict):
            self.problems.add(key, f"expected a table, got {kind(value)}")
            return {}
        tables = {}
        for name, item in value.items():
            if isinstance(item, dict):
                tables[name] = item
            else:
                self.problems.add(key_path(key, name), f"expected a table, got {kind(item)}")
        return tables

    def _arguments(
        self, path: str, table: Mapping[str, object], known: list[str], what: str
    ) -> list[_ArgumentDraft]:
        drafts = []
        for name, spec in table.items():
            arg_path = f"{path}.{key_path(name)}"
            problem = name_problem(what, name)
            if problem is None and name in known:
                problem = f'invalid {what} name "{name}": it would shadow the record {name}'
            if problem is not None:
                self.problems.add(arg_path, problem)
            draft = self._argument(name, arg_path, spec, known)
            if draft is not None and problem is None:
                drafts.append(draft)
        return drafts

    def _argument(
        self, name: str, path: str, spec: object, known: list[str]
    ) -> _ArgumentDraft | None:
        if isinstance(spec, str):
            spec = {"type": spec}
        if not isinstance(spec, dict):
            self.problems.add(
                path,
                f'expected a type string ("int") or a table {{ type = "int", default = 0 }}, '
                f"got {kind(spec)}",
            )
            return None
        check_unknown_keys(self.problems, path, spec, _ARG_KEYS)
        deprecated = self._optional_text(spec, "deprecated", path)
        type_text = spec.get("type")
        if not isinstance(type_text, str):
            message = (
                "missing" if type_text is None else f"expected a string, got {kind(type_text)}"
            )
            self.problems.add(f"{path}.type", message)
            return None
        try:
            type_ = parse_type(type_text, records=known)
        except ContractError as exc:
            self.problems.add(path, str(exc))
            return None
        return _ArgumentDraft(name, path, type_, self._default(spec, path, type_), deprecated)

    def _default(self, spec: Mapping[str, object], path: str, type_: TypeExpr) -> object:
        """The default as written, ``None`` for ``default_none = true`` (TOML has no null)."""
        default = spec.get("default", MISSING)
        default_none = spec.get("default_none", False)
        if not isinstance(default_none, bool):
            self.problems.add(
                f"{path}.default_none", f"expected true or false, got {kind(default_none)}"
            )
        elif default_none and default is not MISSING:
            self.problems.add(path, "give either default or default_none = true, not both")
        elif default_none and not isinstance(type_, OptionalType):
            self.problems.add(
                f"{path}.default_none",
                f'a default of None needs a type that allows None, such as "{type_.render()} '
                '| None"',
            )
        elif default_none:
            return None
        return default

    def _optional_text(self, table: Mapping[str, object], key: str, path: str) -> str | None:
        value = table.get(key)
        if value is None or (isinstance(value, str) and value.strip()):
            return value
        message = (
            "must not be empty"
            if isinstance(value, str)
            else f"expected a string, got {kind(value)}"
        )
        self.problems.add(f"{path}.{key}", message)
        return None

    def _task(self, name: str, table: dict[str, object], known: list[str]) -> _TaskDraft:
        path = key_path("tasks", name)
        problem = name_problem("task", name)
        if problem is not None:
            self.problems.add(path, problem)
        check_unknown_keys(self.problems, path, table, _TASK_KEYS)
        raw_args = table.get("args", {})
        if not isinstance(raw_args, dict):
            self.problems.add(f"{path}.args", f"expected a table, got {kind(raw_args)}")
            raw_args = {}
        args = self._arguments(f"{path}.args", raw_args, known, "argument")
        options = {key: self._optional_text(table, key, path) for key in _TASK_KEYS[:-1]}
        queue = options["queue"] or DEFAULT_QUEUE
        queue_problem = check_queue_name(queue)
        if queue_problem is not None:
            self.problems.add(f"{path}.queue", f'invalid queue name "{queue}": {queue_problem}')
        for key in _FIFO_KEYS:
            self._check_fifo_arg(
                path, key, arg_name=options[key], queue=queue, raw_args=raw_args, args=args
            )
        return _TaskDraft(name, path, args, options)

    def _check_fifo_arg(
        self,
        path: str,
        key: str,
        *,
        arg_name: str | None,
        queue: str,
        raw_args: Mapping[str, object],
        args: list[_ArgumentDraft],
    ) -> None:
        if arg_name is None:
            return
        where = f"{path}.{key}"
        if not queue.endswith(FIFO_SUFFIX):
            self.problems.add(
                where,
                f'only FIFO queues (names ending in "{FIFO_SUFFIX}") take {key}; '
                f'its queue is "{queue}"',
            )
        if arg_name not in raw_args:
            names = ", ".join(raw_args) or "none"
            self.problems.add(
                where, f'"{arg_name}" is not an argument of the task (arguments: {names})'
            )
            return
        draft = next((arg for arg in args if arg.name == arg_name), None)
        if draft is not None and draft.type not in _FIFO_ARG_TYPES:
            self.problems.add(
                where, f'argument "{arg_name}" is {draft.type.render()}; it must be str or int'
            )

    def _check_cycle(self, drafts: Mapping[str, list[_ArgumentDraft]]) -> None:
        cycle = find_cycle(_skeleton_records(drafts))
        if cycle is not None:
            self.problems.add(
                key_path("types", cycle[0]),
                f"records refer to each other in a cycle ({' -> '.join(cycle)}); a record "
                "may not contain itself, directly or through other records, even optionally",
            )

    def _records(self, drafts: Mapping[str, list[_ArgumentDraft]]) -> dict[str, Record]:
        """Records with wire-form defaults, converted in dependency order."""
        done: dict[str, Record] = {}
        factory = ConverterFactory(done, {}, incoming=False)
        for name in dependency_order(_skeleton_records(drafts)):
            fields = tuple(self._argument_model(draft, factory) for draft in drafts[name])
            done[name] = Record(name=name, fields=fields)
        return {name: done[name] for name in drafts}

    def _finish_task(self, draft: _TaskDraft, factory: ConverterFactory) -> Task:
        return Task(
            name=draft.name,
            args=tuple(self._argument_model(arg, factory) for arg in draft.args),
            queue=draft.options["queue"] or DEFAULT_QUEUE,
            doc=draft.options["doc"],
            fifo_group=draft.options["fifo_group"],
            deduplication=draft.options["deduplication"],
            deprecated=draft.options["deprecated"],
        )

    def _argument_model(self, draft: _ArgumentDraft, factory: ConverterFactory) -> Argument:
        default = draft.default
        if default is not MISSING:
            problems: list[Problem] = []
            default = factory.for_type(draft.type)(default, problems)
            prefix(problems, 0, f"{draft.path}.default")
            for problem in problems:
                self.problems.add("", problem.render())
            if problems:  # keep going as if required, so later defaults are still checked
                default = MISSING
        return Argument(
            name=draft.name, type=draft.type, default=default, deprecated=draft.deprecated
        )

    def _record_classes(
        self, records: Mapping[str, Record], given: Mapping[str, type] | None
    ) -> dict[str, type]:
        if given is None:
            return make_record_classes(records)
        for name in given:
            if name not in records:
                self.problems.add("record_classes", f'"{name}" is not a record of the contract')
        for name, record in records.items():
            problem = _record_class_problem(record, given.get(name))
            if problem is not None:
                self.problems.add(key_path("types", name), problem)
        return dict(given)


def _record_class_problem(record: Record, cls: type | None) -> str | None:
    if cls is None:
        return "no record class was given for this record"
    if not attrs.has(cls):
        return f"record class {cls.__qualname__} is not an attrs class"
    if cls.__name__ != record.name:
        return f'record class is named "{cls.__name__}"; it must be named "{record.name}"'
    have = [field.name for field in attrs.fields(cls)]
    want = [field.name for field in record.fields]
    if sorted(have) != sorted(want):
        return (
            f"record class {cls.__qualname__} has fields {', '.join(have) or 'none'}; "
            f"the contract has {', '.join(want) or 'none'}"
        )
    return None


def _skeleton_records(drafts: Mapping[str, list[_ArgumentDraft]]) -> dict[str, Record]:
    """Records with types only, for ordering and cycle checks before defaults are converted."""
    return {
        name: Record(
            name=name, fields=tuple(Argument(name=arg.name, type=arg.type) for arg in args)
        )
        for name, args in drafts.items()
    }
