"""The compatibility rules: each change the checker knows, which directions it breaks, and how to
ship it safely.

A direction is a pair of contracts, one producing and one consuming messages:

- ``backward``: messages already queued, and producers still running the OLD contract, reach
  workers of the NEW one;
- ``forward``: producers of the NEW contract reach workers still running the OLD one (a rolling
  deploy that updates producers before, or while, it updates workers).

A change breaks a direction when some message valid under the producing contract is rejected,
stranded or misread by the consuming one. The runtime's rules decide: producers send every
argument, defaults included (but simple-worker 0.2.x and other-language producers may omit an
optional one); workers fill contract defaults for missing optional arguments; validation is
strict (unknown keys are rejected, nothing is coerced, an int is accepted for a float).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import attrs

Direction = Literal["backward", "forward"]
Mode = Literal["full", "backward", "forward"]
Severity = Literal["breaking", "warning", "info"]
DIRECTIONS: Final[tuple[Direction, ...]] = ("backward", "forward")
MODES: Final[Mapping[Mode, tuple[Direction, ...]]] = {
    "full": DIRECTIONS,
    "backward": ("backward",),
    "forward": ("forward",),
}
BOTH: Final[tuple[Direction, ...]] = DIRECTIONS
BACKWARD: Final[tuple[Direction, ...]] = ("backward",)
FORWARD: Final[tuple[Direction, ...]] = ("forward",)
NONE: Final[tuple[Direction, ...]] = ()

WORKERS_FIRST: Final = (
    "deploy the workers with the NEW contract everywhere first",
    "then deploy the producers with the NEW contract",
)
PRODUCERS_FIRST: Final = (
    "deploy the producers with the NEW contract first (old workers still accept their messages)",
    "wait until the queue holds no message from an older producer (drain, and empty or redrive "
    "its dead-letter queue)",
    "then deploy the workers with the NEW contract",
)
PARALLEL_CHANGE: Final = (
    "add: keep the old form and add the new one beside it (a new optional argument, or a new "
    "task); deploy the workers first, then the producers",
    "migrate: switch every producer to the new form; deprecate the old one",
    "drain: wait until the queue holds no message that uses the old form",
    "remove: delete the old form; deploy the producers first, then the workers",
)


@attrs.frozen(kw_only=True)
class Rule:
    """One kind of change: its stable id, what it means, what it breaks, how to ship it."""

    id: str
    summary: str
    breaks: tuple[Direction, ...]
    severity_when_safe: Severity = "info"
    recipe: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Finding:
    """One change found between two contracts.

    ``path`` names what changed: the task (``send_email``), an argument
    (``send_email.args.locale``) or a field inside one, records expanded
    (``send_email.args.shipping.zip``, list items ``[]``, dict values ``{}``).
    """

    rule: str
    task: str
    path: str
    message: str
    breaks: tuple[Direction, ...]
    severity: Severity
    recipe: tuple[str, ...] = ()
    hint: str | None = None

    def breaking_in(self, mode: Mode) -> bool:
        """Whether this finding breaks one of the directions ``mode`` checks."""
        return any(direction in self.breaks for direction in MODES[mode])


def _rule(
    id_: str,
    summary: str,
    breaks: tuple[Direction, ...],
    recipe: tuple[str, ...] = (),
    severity_when_safe: Severity = "info",
) -> Rule:
    return Rule(
        id=id_,
        summary=summary,
        breaks=breaks,
        recipe=recipe,
        severity_when_safe=severity_when_safe,
    )


RULES: Final[Mapping[str, Rule]] = {
    rule.id: rule
    for rule in (
        _rule(
            "task-removed",
            "queued messages of the task reach workers that no longer know it",
            BACKWARD,
            (
                'deprecate the task first (deprecated = "...") and deploy; its producers get '
                "warnings and type-checker errors",
                "migrate every producer off the task",
                "drain: wait until its queue (and dead-letter queue) holds none of its messages",
                "remove the task from the contract and deploy",
            ),
        ),
        _rule(
            "task-removed-after-deprecation",
            "the task was deprecated; safe once no producer sends it and its queue is drained",
            NONE,
            severity_when_safe="warning",
        ),
        _rule(
            "task-added",
            "old workers consuming the task's queue do not know the new task",
            FORWARD,
            WORKERS_FIRST,
        ),
        _rule(
            "task-added-on-new-queue",
            "the task has a queue of its own that old workers do not poll",
            NONE,
        ),
        _rule(
            "task-queue-changed",
            "messages already on the old queue are stranded: new workers poll the new queue",
            BACKWARD,
            (
                "run workers with the NEW contract (polling the new queue) beside the old "
                "workers, which keep polling the old queue",
                "deploy the producers with the NEW contract (they send to the new queue)",
                "drain: wait until the old queue and its dead-letter queue are empty",
                "stop the old workers; delete the old queue",
            ),
        ),
        _rule(
            "task-fifo-group-changed",
            "messages grouped by the old and the new argument are not ordered relative to "
            "each other while both are in the queue",
            BOTH,
            (
                "stop the producers of this task and let the queue drain",
                "deploy the producers and the workers with the NEW contract",
                "start the producers again (or accept that messages sent around the switch "
                "may run out of order)",
            ),
        ),
        _rule(
            "task-deduplication-changed",
            "a message resent within SQS's 5-minute deduplication window across the switch may "
            "run twice",
            NONE,
            severity_when_safe="warning",
        ),
        _rule("task-deprecated", "the task is now deprecated", NONE),
        _rule(
            "argument-added-required",
            "old messages lack it (new workers reject them); old workers reject the unknown key",
            BOTH,
            (
                "add it as an optional argument (with a default); deploy the workers first, "
                "then the producers",
                "drain: wait until the queue holds no message from an older producer",
                "make it required (remove the default); deploy the producers first, then the "
                "workers",
            ),
        ),
        _rule(
            "argument-added-optional",
            "new producers send it (defaults included) and old workers reject the unknown key; "
            "new workers fill its default into old messages",
            FORWARD,
            WORKERS_FIRST,
        ),
        _rule(
            "argument-removed",
            "old messages carry it and new workers reject the unknown key; old workers fill "
            "its default into new messages",
            BACKWARD,
            (
                'deprecate it first (deprecated = "...") and move callers off it',
                *PRODUCERS_FIRST,
            ),
        ),
        _rule(
            "argument-removed-required",
            "old messages carry it (new workers reject the unknown key); old workers require it",
            BOTH,
            (
                "give it a default (make it optional) and deprecate it; deploy the workers "
                "first, then the producers",
                *PRODUCERS_FIRST,
            ),
        ),
        _rule(
            "argument-removed-after-deprecation",
            "it was deprecated and has a default, so producers of the deprecating contract send "
            "it only when a caller passes it (with a DeprecationWarning); safe once no caller "
            "passes it and messages from older producers have drained",
            NONE,
            (
                "make sure no caller passes it: each call that does warns (DeprecationWarning)",
                "drain: wait until the queue holds no message from a producer older than the "
                "deprecation",
                "then deploy producers and workers in any order",
            ),
            severity_when_safe="warning",
        ),
        _rule(
            "argument-made-required",
            "messages that omit it (simple-worker 0.2.x or other-language producers relying on "
            "the default) are rejected by new workers; this library's producers always send it",
            BACKWARD,
            PRODUCERS_FIRST,
        ),
        _rule(
            "argument-made-optional",
            "new producers may omit it (0.2.x or other languages) and old workers require it; "
            "this library's producers always send it",
            FORWARD,
            WORKERS_FIRST,
        ),
        _rule(
            "argument-default-changed",
            "queued messages keep the old value (producers send defaults); only messages that "
            "omit it get the new default",
            NONE,
            severity_when_safe="warning",
        ),
        _rule("argument-deprecated", "the argument is now deprecated", NONE),
        _rule(
            "type-widened",
            "the new type accepts every old value and more: new producers can send values old "
            "workers reject",
            FORWARD,
            WORKERS_FIRST,
        ),
        _rule(
            "type-narrowed",
            "the new type accepts only some old values: queued and old producers' messages can "
            "be rejected",
            BACKWARD,
            PRODUCERS_FIRST,
        ),
        _rule(
            "type-changed",
            "old and new values are different kinds: each side rejects the other's messages",
            BOTH,
            PARALLEL_CHANGE,
        ),
    )
}


def finding(
    rule_id: str, *, task: str, path: str, message: str, hint: str | None = None
) -> Finding:
    """A finding of a known rule, with the rule's directions, severity and recipe."""
    rule = RULES[rule_id]
    return Finding(
        rule=rule.id,
        task=task,
        path=path,
        message=message,
        breaks=rule.breaks,
        severity="breaking" if rule.breaks else rule.severity_when_safe,
        recipe=rule.recipe,
        hint=hint,
    )
