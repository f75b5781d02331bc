"""Planning and creating the SQS queues an app routes to, with their dead-letter queues.

Idempotent and conservative: a queue that exists is compared with the plan and reported when
it differs, never changed or deleted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final, Literal, Protocol

import attrs

from simple_worker.contract import Contract
from simple_worker.errors import QueueNotFoundError
from simple_worker.queue_names import dead_letter_queue_name, is_fifo

DEFAULT_MAX_RECEIVE_COUNT: Final = 5
DEAD_LETTER_RETENTION_S: Final = 1_209_600
"""14 days, SQS's maximum retention: a dead letter keeps its original enqueue time, so the
dead-letter queue should keep messages longer than any source queue does."""

Outcome = Literal["created", "exists", "differs"]


class QueueAdmin(Protocol):
    """What ensuring queues needs from SQS (``SqsAdmin`` implements it)."""

    def create_queue(self, queue_name: str, attributes: Mapping[str, str]) -> str: ...

    def queue_attributes(
        self, queue_name: str, names: Sequence[str] = ("All",)
    ) -> dict[str, str]: ...


@attrs.frozen(kw_only=True)
class QueueSpec:
    """One queue to ensure: the attributes it must have, and those only set on creation."""

    name: str
    attributes: Mapping[str, str] = attrs.field(factory=dict)
    create_attributes: Mapping[str, str] = attrs.field(factory=dict)
    dead_letter_queue: str | None = None
    max_receive_count: int | None = None


@attrs.frozen(kw_only=True)
class EnsureResult:
    """What ``ensure_queue`` found or did for one queue; ``differences`` one line each."""

    queue_name: str
    outcome: Outcome
    differences: tuple[str, ...] = ()


def contract_queues(contract: Contract) -> list[str]:
    """The short names of the queues a contract routes tasks to, sorted."""
    return sorted({task.queue for task in contract.tasks.values()})


def plan_queues(
    queues: Iterable[str],
    *,
    prefix: str,
    dead_letter_queues: bool,
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
    visibility_timeout_s: int | None = None,
) -> list[QueueSpec]:
    """Specs for the queues (short names), each preceded by its dead-letter queue if asked."""
    if max_receive_count < 1:
        raise ValueError(f"max_receive_count must be at least 1, got {max_receive_count}")
    specs: list[QueueSpec] = []
    for queue in dict.fromkeys(queues):
        name = prefix + queue
        fifo = _fifo_attributes(name)
        dead_letter_queue = dead_letter_queue_name(name) if dead_letter_queues else None
        if dead_letter_queue is not None:
            specs.append(
                QueueSpec(
                    name=dead_letter_queue,
                    attributes=fifo,
                    create_attributes={"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_S)},
                )
            )
        visibility = (
            {} if visibility_timeout_s is None else {"VisibilityTimeout": str(visibility_timeout_s)}
        )
        specs.append(
            QueueSpec(
                name=name,
                attributes={**fifo, **visibility},
                dead_letter_queue=dead_letter_queue,
                max_receive_count=max_receive_count if dead_letter_queue else None,
            )
        )
    return specs


def ensure_queues(
    admin: QueueAdmin,
    specs: Sequence[QueueSpec],
    on_result: Callable[[EnsureResult], None] | None = None,
) -> list[EnsureResult]:
    """Ensure every queue in order (dead-letter queues come before their sources)."""
    results = []
    for spec in specs:
        result = ensure_queue(admin, spec)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def ensure_queue(admin: QueueAdmin, spec: QueueSpec) -> EnsureResult:
    """Create the queue if it does not exist; otherwise compare it with the spec."""
    try:
        actual = admin.queue_attributes(spec.name)
    except QueueNotFoundError:
        attributes = {**spec.create_attributes, **spec.attributes}
        if spec.dead_letter_queue is not None:
            attributes["RedrivePolicy"] = _redrive_policy(admin, spec)
        admin.create_queue(spec.name, attributes)
        return EnsureResult(queue_name=spec.name, outcome="created")
    differences = [
        f"{key} is {actual.get(key, '(not set)')}, the plan says {wanted}"
        for key, wanted in spec.attributes.items()
        if actual.get(key) != wanted
    ]
    if spec.dead_letter_queue is not None:
        differences += _redrive_differences(spec, actual.get("RedrivePolicy"))
    outcome: Outcome = "differs" if differences else "exists"
    return EnsureResult(queue_name=spec.name, outcome=outcome, differences=tuple(differences))


def _fifo_attributes(queue_name: str) -> dict[str, str]:
    # Content-based deduplication: producers without a `deduplication` argument rely on it.
    if is_fifo(queue_name):
        return {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    return {}


def _redrive_policy(admin: QueueAdmin, spec: QueueSpec) -> str:
    assert spec.dead_letter_queue is not None
    arn = admin.queue_attributes(spec.dead_letter_queue, ["QueueArn"])["QueueArn"]
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": spec.max_receive_count})


def _redrive_differences(spec: QueueSpec, policy_text: str | None) -> list[str]:
    wanted = f"dead-letter queue {spec.dead_letter_queue} after {spec.max_receive_count} receives"
    if not policy_text:
        return [f"RedrivePolicy is not set, the plan says {wanted}"]
    try:
        policy = json.loads(policy_text)
        target = str(policy["deadLetterTargetArn"]).rsplit(":", 1)[-1]
        count = int(policy["maxReceiveCount"])
    except (ValueError, TypeError, KeyError):
        return [f"RedrivePolicy is {policy_text!r}, the plan says {wanted}"]
    if (target, count) != (spec.dead_letter_queue, spec.max_receive_count):
        found = f"dead-letter queue {target} after {count} receives"
        return [f"RedrivePolicy is {found}, the plan says {wanted}"]
    return []
