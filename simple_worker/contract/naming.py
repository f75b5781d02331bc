"""Rules for names in a contract (tasks, arguments, records, queues) and the problem collector."""

from __future__ import annotations

import difflib
import json
import keyword
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Final

from simple_worker.contract.model import SCALAR_NAMES
from simple_worker.errors import ContractError
from simple_worker.queue_names import FIFO_SUFFIX, dead_letter_queue_name

MAX_QUEUE_NAME_CHARS: Final = 80
"""SQS queue name limit, ``.fifo`` included.

https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html
"""
SHADOWING_NAMES: Final = frozenset(
    {"self", "attrs", "datetime", "decimal", "uuid", "Any", "Final", "Literal", "Protocol"}
    | {"TYPE_CHECKING"}
)
"""Names generated modules use in bodies and signatures: no task, argument or field may shadow
them (kept in step with ``codegen.view``)."""
GENERATED_NAMES: Final = frozenset(
    {"App", "CONTRACT", "Producers", "TaskRef", "load_contract_text", "tasks"}
)
"""Names the generated package defines next to the record classes."""
PRODUCER_METHOD_NAMES: Final = frozenset({"with_options"})
"""Methods of the generated Producers that a task (also a method there) cannot be named."""
TYPE_NAMES: Final = frozenset({*SCALAR_NAMES, "list", "dict", "Optional", "Literal", "None"})

_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+\Z")
_QUEUE_CHARS: Final = re.compile(r"[A-Za-z0-9_-]+\Z")


class Problems:
    """Problem lines of one load, each ``source: key.path: message``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def add(self, path: str, message: str) -> None:
        where = f"{path}: " if path else ""
        self.lines.append(f"{self.source}: {where}{message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ContractError("\n".join(self.lines))


def key_path(*parts: str) -> str:
    """A TOML key path, quoting keys that are not bare: ``tasks."send email".queue``."""
    return ".".join(
        part if _BARE_KEY.match(part) else json.dumps(part, ensure_ascii=False) for part in parts
    )


def kind(value: object) -> str:
    """The TOML name of a value's kind, for messages."""
    kinds = {str: "a string", int: "an integer", float: "a float", bool: "a boolean"}
    kinds |= {list: "an array", dict: "a table"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def check_unknown_keys(
    problems: Problems, path: str, table: Mapping[str, object], allowed: Sequence[str]
) -> None:
    """Report every key of ``table`` that is not allowed, suggesting the closest allowed one."""
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            where = f"{path}.{key_path(key)}" if path else key_path(key)
            problems.add(where, f"unknown key ({hint}allowed: {', '.join(allowed)})")


def name_problem(what: str, name: str) -> str | None:
    """Why ``name`` cannot name a task, argument, field or record (None when it can)."""
    if not _IDENTIFIER.match(name):
        return (
            f'invalid {what} name "{name}": use letters, digits and underscores, '
            "not starting with a digit"
        )
    if keyword.iskeyword(name):
        return f'invalid {what} name "{name}": it is a Python keyword'
    if name.startswith("_"):
        return f'invalid {what} name "{name}": names must not start with an underscore'
    if what != "record" and name in SHADOWING_NAMES:
        return f'invalid {what} name "{name}": generated code uses this name'
    if what == "task" and name in PRODUCER_METHOD_NAMES:
        return f'invalid task name "{name}": it is a method of the generated Producers'
    return None


def generated_name(task_name: str) -> str:
    """The PascalCase stem of a task's generated classes: ``send_email`` -> ``SendEmail``."""
    return "".join(part[:1].upper() + part[1:] for part in task_name.split("_"))


def check_task_names(problems: Problems, tasks: Collection[str]) -> None:
    """Report tasks whose generated class names would collide (``send_email``, ``sendEmail``)."""
    seen: dict[str, str] = {}
    for task in tasks:
        key = _collision_key(task)
        if key in seen:
            problems.add(
                key_path("tasks", task),
                f'task name "{task}" clashes with "{seen[key]}": both would generate '
                f"{generated_name(seen[key])}Handler; rename one",
            )
        else:
            seen[key] = task


def check_record_names(
    problems: Problems, records: Collection[str], tasks: Collection[str]
) -> None:
    """Report record names that shadow types or names the generated package defines."""
    handlers = {_collision_key(task) + "handler": task for task in tasks}
    for record in records:
        path = key_path("types", record)
        if (problem := name_problem("record", record)) is not None:
            problems.add(path, problem)
        elif record in TYPE_NAMES:
            problems.add(path, f'record name "{record}" is the name of a built-in type')
        elif record in GENERATED_NAMES | SHADOWING_NAMES:
            reserved = ", ".join(sorted(GENERATED_NAMES | SHADOWING_NAMES))
            problems.add(
                path, f'record name "{record}" is used by generated code (reserved: {reserved})'
            )
        elif (task := handlers.get(record.replace("_", "").lower())) is not None:
            problems.add(
                path,
                f'record name "{record}" clashes with the handler Protocol of task "{task}" '
                f"({generated_name(task)}Handler)",
            )


def check_queue_name(full_name: str) -> str | None:
    """Why SQS would refuse ``full_name`` (prefix + queue) or its dead-letter queue, or None.

    SQS allows letters, digits, ``-`` and ``_``, an optional ``.fifo`` suffix for FIFO queues,
    and at most 80 characters; the dead-letter queue adds ``-dlq`` before any ``.fifo``.
    """
    base = full_name.removesuffix(FIFO_SUFFIX)
    if not base:
        return "it is empty"
    if not _QUEUE_CHARS.match(base):
        bad = sorted({char for char in base if not _QUEUE_CHARS.match(char)})
        return (
            f"it contains {', '.join(repr(char) for char in bad)}; SQS allows only letters, "
            f'digits, "-" and "_" (and a "{FIFO_SUFFIX}" suffix)'
        )
    if len(full_name) > MAX_QUEUE_NAME_CHARS:
        return f"it is {len(full_name)} characters long; SQS allows at most {MAX_QUEUE_NAME_CHARS}"
    dead_letter = dead_letter_queue_name(full_name)
    if len(dead_letter) > MAX_QUEUE_NAME_CHARS:
        return (
            f"its dead-letter queue {dead_letter!r} would be {len(dead_letter)} characters "
            f"long; SQS allows at most {MAX_QUEUE_NAME_CHARS}"
        )
    return None


def _collision_key(name: str) -> str:
    return name.replace("_", "").lower()
