"""Which contract a message came from: fingerprint attributes, and counting foreign ones.

Producers with a contract stamp every message with the fingerprint of the task's arguments and
of the whole contract. A worker counts messages whose task fingerprint differs from its own
(older or newer producers, or none at all: simple-worker 0.2.x, other languages) and logs each
new fingerprint once, so operators can tell when old-producer traffic has stopped before they
finish a parallel change.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Final

from simple_worker.contract.fingerprint import contract_fingerprint, task_fingerprint
from simple_worker.contract.model import Contract

logger = logging.getLogger("simple_worker.worker")

TASK_FINGERPRINT_ATTRIBUTE: Final = "simple_worker.task_fingerprint"
CONTRACT_FINGERPRINT_ATTRIBUTE: Final = "simple_worker.contract_fingerprint"
NO_FINGERPRINT: Final = "none"


def fingerprint_attributes(contract: Contract) -> dict[str, dict[str, str]]:
    """Per task name, the fingerprint attributes its messages carry."""
    whole = contract_fingerprint(contract)
    return {
        name: {
            TASK_FINGERPRINT_ATTRIBUTE: task_fingerprint(task, contract),
            CONTRACT_FINGERPRINT_ATTRIBUTE: whole,
        }
        for name, task in contract.tasks.items()
    }


class ForeignFingerprints:
    """Counts received messages by (task name, producer's task fingerprint) when it isn't ours."""

    def __init__(self, contract: Contract | None) -> None:
        self._ours = (
            {
                name: attrs[TASK_FINGERPRINT_ATTRIBUTE]
                for name, attrs in fingerprint_attributes(contract).items()
            }
            if contract is not None
            else {}
        )
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def observe(self, task_name: str, attributes: Mapping[str, str]) -> None:
        ours = self._ours.get(task_name)
        if ours is None:
            return  # a task outside the contract: nothing to compare with
        theirs = attributes.get(TASK_FINGERPRINT_ATTRIBUTE, NO_FINGERPRINT)
        if theirs == ours:
            return
        with self._lock:
            self._counts[(task_name, theirs)] += 1
            first = self._counts[(task_name, theirs)] == 1
        if first:
            logger.warning(
                "task %s: receiving messages from producers with task fingerprint %s (this "
                "worker: %s); counting them in Worker.foreign_fingerprints()",
                task_name,
                theirs,
                ours,
                extra={"task_name": task_name},
            )

    def counts(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)
