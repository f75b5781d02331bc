"""Compare two contracts and list every change as findings (pure: no I/O, no printing).

Tasks are matched by name, arguments and record fields by name, and record types by structure
(records are expanded where they are used: a record's name never travels, so renaming one is no
change, and a change to a record is reported at every argument that uses it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final

from simple_worker.compat.rules import Finding, finding
from simple_worker.contract.fingerprint import canonical_type, task_fingerprint
from simple_worker.contract.model import (
    Argument,
    Contract,
    DictType,
    ListType,
    LiteralType,
    OptionalType,
    Record,
    RecordRef,
    ScalarType,
    Task,
    TypeExpr,
)
from simple_worker.validation.problems import Problem, render_literal
from simple_worker.validation.scalars import scalar_converter

# Scalar wire values that another scalar type accepts too (producer type -> consumer types).
_SCALAR_WIDENINGS: Final[Mapping[str, frozenset[str]]] = {
    "int": frozenset({"float"}),
    "date": frozenset({"datetime", "str"}),  # datetime.fromisoformat reads a date as midnight
    "datetime": frozenset({"str"}),
    "uuid": frozenset({"str"}),
    "decimal": frozenset({"str"}),
}


def compare(old: Contract, new: Contract) -> list[Finding]:
    """Every change from ``old`` to ``new``, old tasks first (in file order), then added ones."""
    findings: list[Finding] = []
    added = [task for name, task in new.tasks.items() if name not in old.tasks]
    added_prints = {task.name: task_fingerprint(task, new) for task in added}
    for name, old_task in old.tasks.items():
        new_task = new.tasks.get(name)
        if new_task is None:
            fingerprint = task_fingerprint(old_task, old)
            twins = [n for n, print_ in added_prints.items() if print_ == fingerprint]
            findings.append(_removed_task(old_task, twins))
        else:
            findings += _TaskComparison(old, new, name).run(old_task, new_task)
    old_queues = {task.queue for task in old.tasks.values()}
    for task in added:
        rule = "task-added" if task.queue in old_queues else "task-added-on-new-queue"
        message = f"task added on queue {task.queue!r}"
        findings.append(finding(rule, task=task.name, path=task.name, message=message))
    return findings


def _removed_task(task: Task, twins: Sequence[str]) -> Finding:
    hint = None
    if twins:
        hint = (
            f"added task {twins[0]!r} takes the same arguments: if this is a rename, keep both "
            f"tasks until {task.name!r} is drained, then remove it"
        )
    if task.deprecated is not None:
        message = f"deprecated task removed (it was deprecated: {task.deprecated})"
        return finding(
            "task-removed-after-deprecation", task=task.name, path=task.name, message=message
        )
    return finding(
        "task-removed", task=task.name, path=task.name, message="task removed", hint=hint
    )


class _TaskComparison:
    """The comparison of one task present in both contracts."""

    def __init__(self, old: Contract, new: Contract, task_name: str) -> None:
        self.old_records: Mapping[str, Record] = old.records
        self.new_records: Mapping[str, Record] = new.records
        self.task = task_name
        self.findings: list[Finding] = []

    def add(self, rule: str, path: str, message: str, hint: str | None = None) -> None:
        self.findings.append(finding(rule, task=self.task, path=path, message=message, hint=hint))

    def run(self, old: Task, new: Task) -> list[Finding]:
        name = self.task
        if old.queue != new.queue:
            self.add("task-queue-changed", name, f"queue {old.queue!r} -> {new.queue!r}")
        if old.fifo_group != new.fifo_group:
            self.add(
                "task-fifo-group-changed",
                name,
                f"FIFO group argument {old.fifo_group!r} -> {new.fifo_group!r}",
            )
        if old.deduplication != new.deduplication:
            self.add(
                "task-deduplication-changed",
                name,
                f"deduplication argument {old.deduplication!r} -> {new.deduplication!r}",
            )
        if new.deprecated is not None and old.deprecated is None:
            self.add("task-deprecated", name, f"task deprecated: {new.deprecated}")
        self.fields(f"{name}.args", old.args, new.args, what="argument")
        return self.findings

    def fields(
        self, prefix: str, old: Sequence[Argument], new: Sequence[Argument], *, what: str
    ) -> None:
        old_by_name = {arg.name: arg for arg in old}
        new_by_name = {arg.name: arg for arg in new}
        added = [arg for arg in new if arg.name not in old_by_name]
        for arg in old:
            path = f"{prefix}.{arg.name}"
            if arg.name not in new_by_name:
                self.removed(path, arg, added, what=what)
            else:
                self.changed(path, arg, new_by_name[arg.name], what=what)
        for arg in added:
            kind = "required" if arg.required else "optional"
            self.add(f"argument-added-{kind}", f"{prefix}.{arg.name}", f"{kind} {what} added")

    def removed(self, path: str, arg: Argument, added: Sequence[Argument], *, what: str) -> None:
        twin = next((a for a in added if self.same_type(arg.type, a.type)), None)
        hint = f"added {what} {twin.name!r} has the same type: a rename?" if twin else None
        if arg.deprecated is not None and not arg.required:
            message = f"deprecated {what} removed (it was deprecated: {arg.deprecated})"
            self.add("argument-removed-after-deprecation", path, message, hint)
        elif arg.required:
            note = " (deprecated, but required: give it a default first)" if arg.deprecated else ""
            self.add("argument-removed-required", path, f"required {what} removed{note}", hint)
        else:
            self.add("argument-removed", path, f"optional {what} removed", hint)

    def changed(self, path: str, old: Argument, new: Argument, *, what: str) -> None:
        if old.required and not new.required:
            self.add("argument-made-optional", path, f"{what} made optional")
        elif new.required and not old.required:
            self.add("argument-made-required", path, f"{what} made required (default removed)")
        elif not old.required and not _same_value(old.default, new.default):
            self.add(
                "argument-default-changed",
                path,
                f"default {_show(old.default)} -> {_show(new.default)}",
            )
        if new.deprecated is not None and old.deprecated is None:
            self.add("argument-deprecated", path, f"{what} deprecated: {new.deprecated}")
        self.types(path, old.type, new.type)

    def same_type(self, old: TypeExpr, new: TypeExpr) -> bool:
        return canonical_type(old, self.old_records) == canonical_type(new, self.new_records)

    def types(self, path: str, old: TypeExpr, new: TypeExpr) -> None:
        if self.same_type(old, new):
            return
        match old, new:
            case OptionalType(inner=old_inner), OptionalType(inner=new_inner):
                self.types(path, old_inner, new_inner)
            case ListType(item=old_item), ListType(item=new_item):
                self.types(f"{path}[]", old_item, new_item)
            case DictType(value=old_value), DictType(value=new_value):
                self.types(f"{path}{{}}", old_value, new_value)
            case RecordRef(name=old_name), RecordRef(name=new_name):
                old_fields = self.old_records[old_name].fields
                self.fields(path, old_fields, self.new_records[new_name].fields, what="field")
            case _, OptionalType(inner=new_inner):
                self.add("type-widened", path, f"type {old.render()} -> {new.render()}: null added")
                self.types(path, old, new_inner)
            case OptionalType(inner=old_inner), _:
                message = f"type {old.render()} -> {new.render()}: null no longer accepted"
                self.add("type-narrowed", path, message)
                self.types(path, old_inner, new)
            case _:
                self.leaf(path, old, new)

    def leaf(self, path: str, old: TypeExpr, new: TypeExpr) -> None:
        widens, narrows = accepts(new, old), accepts(old, new)
        if widens and narrows:
            return  # the same wire values, spelled differently (bool and Literal[True, False])
        message = f"type {old.render()} -> {new.render()}"
        if isinstance(old, LiteralType) and isinstance(new, LiteralType):
            message += _literal_detail(old, new)
        if widens:
            self.add("type-widened", path, message)
        elif narrows:
            self.add("type-narrowed", path, message)
        else:
            self.add("type-changed", path, message)


def accepts(consumer: TypeExpr, producer: TypeExpr) -> bool:
    """Whether every wire value of scalar or Literal type ``producer`` is valid as ``consumer``.

    Other types are compared structurally by the engine before they get here; for them this is
    False unless the types are equal.
    """
    if consumer == producer:
        return True
    if isinstance(producer, LiteralType):
        return all(_fits(value, consumer) for value in producer.values)
    if isinstance(producer, ScalarType) and isinstance(consumer, ScalarType):
        return consumer.name in _SCALAR_WIDENINGS.get(producer.name, ())
    if producer == ScalarType("bool") and isinstance(consumer, LiteralType):
        return _fits(True, consumer) and _fits(False, consumer)
    return False


def _fits(value: str | int | bool, type_: TypeExpr) -> bool:
    if isinstance(type_, LiteralType):
        return (type(value), value) in {(type(v), v) for v in type_.values}
    if isinstance(type_, ScalarType):
        problems: list[Problem] = []
        scalar_converter(type_.name, type_.name, incoming=True)(value, problems)
        return not problems
    return False


def _literal_detail(old: LiteralType, new: LiteralType) -> str:
    old_keys = {(type(v), v) for v in old.values}
    new_keys = {(type(v), v) for v in new.values}
    added = [render_literal(v) for v in new.values if (type(v), v) not in old_keys]
    removed = [render_literal(v) for v in old.values if (type(v), v) not in new_keys]
    parts = [f"added {', '.join(added)}"] if added else []
    parts += [f"removed {', '.join(removed)}"] if removed else []
    return f" ({'; '.join(parts)})" if parts else ""


def _same_value(old: object, new: object) -> bool:
    """JSON equality that keeps true and 1 apart (and 1 equal to 1.0)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(map(_same_value, old, new))
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same_value(old[k], new[k]) for k in old)
    if type(old) in (int, float) and type(new) in (int, float):
        return old == new
    return type(old) is type(new) and old == new


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
