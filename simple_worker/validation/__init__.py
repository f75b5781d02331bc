"""Strict validation of task payloads against a contract, at both ends of the queue.

Policy (one converter per direction, compiled once per task and cached):

- Nothing is coerced: ``"5"`` is not an int, ``1.7`` is not an int, ``True`` is neither an int
  nor a float, ``3`` is not a str, ``None`` only fits ``T | None``. The one widening is that an
  int is accepted for a float (and becomes a float). Literals match by value and exact type.
- datetime, date, uuid and decimal travel as strings: ``datetime.isoformat()`` (naive datetimes
  are allowed and round-trip naive, aware ones keep their offset; whatever
  ``datetime.fromisoformat`` reads is accepted, so a bare date means midnight),
  ``date.isoformat()`` (a datetime is not a date), the hyphenated UUID in either case,
  ``str(Decimal)`` (finite only, plain or exponent notation; a float or int is not a decimal).
  ``incoming`` parses them; ``outgoing`` accepts the Python object or a valid string and sends
  the canonical string.
- Records are JSON objects with exactly their fields; ``incoming`` returns instances of the
  contract's record classes, ``outgoing`` also accepts those instances (and checks their
  fields, since attrs classes do not validate).
- Unknown arguments and fields are errors; defaults are filled in on both sides.
- Every problem is collected, one line each with its path (``route.stops[0].y: ...``).

cattrs is not used: its default hooks coerce (``int("5")``), and strict hooks for every case
would be longer and slower than these closures (about 1-2 µs for a flat payload).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from simple_worker.contract.model import Contract, Task
from simple_worker.errors import PayloadValidationError, UnknownTaskError
from simple_worker.validation.converters import ConverterFactory, convert_fields
from simple_worker.validation.problems import Problem, got
from simple_worker.validation.records import make_record_classes

__all__ = ["ContractValidator"]

_TaskConverter = Callable[[Mapping[str, object]], dict[str, object]]


class ContractValidator:
    """Validates and converts payloads of a contract's tasks; build once per contract."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        classes = make_record_classes(contract.records, contract.record_classes)
        incoming = ConverterFactory(contract.records, classes, incoming=True)
        outgoing = ConverterFactory(contract.records, classes, incoming=False)
        self._incoming = {name: _task_converter(t, incoming) for name, t in contract.tasks.items()}
        self._outgoing = {name: _task_converter(t, outgoing) for name, t in contract.tasks.items()}

    def outgoing(self, task_name: str, payload: Mapping[str, object]) -> dict[str, object]:
        """Producer side: accept Python values or wire forms; return the wire payload.

        The result holds JSON values only, every argument present, defaults filled in.
        Raises ``PayloadValidationError`` listing every problem, ``UnknownTaskError``.
        """
        convert = self._outgoing.get(task_name)
        if convert is None:
            raise UnknownTaskError(task_name, known=list(self.contract.tasks))
        return convert(payload)

    def incoming(self, task_name: str, payload: Mapping[str, object]) -> dict[str, object]:
        """Worker side: validate decoded JSON; return the handler's keyword arguments.

        Values are Python objects (datetime, date, UUID, Decimal, record instances, lists,
        dicts); missing optional arguments get their contract defaults.
        """
        convert = self._incoming.get(task_name)
        if convert is None:
            raise UnknownTaskError(task_name, known=list(self.contract.tasks))
        return convert(payload)


def _task_converter(task: Task, factory: ConverterFactory) -> _TaskConverter:
    specs = factory.field_specs(task.args, nested=False)
    names = frozenset(arg.name for arg in task.args)
    takes = f"takes: {', '.join(arg.name for arg in task.args)}" if task.args else "takes none"
    unexpected = f"unexpected argument (task {takes})"
    task_name = task.name

    def convert(payload: Mapping[str, object]) -> dict[str, object]:
        problems: list[Problem] = []
        if not isinstance(payload, Mapping):
            problems.append(Problem(f"expected a mapping of named arguments, got {got(payload)}"))
            raise PayloadValidationError(task_name, [problem.render() for problem in problems])
        out = convert_fields(specs, names, payload, problems, unexpected, nested=False)
        if problems:
            raise PayloadValidationError(task_name, [problem.render() for problem in problems])
        return out

    return convert
