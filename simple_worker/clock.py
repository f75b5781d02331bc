"""Clocks: the real monotonic clock and a manual one for deterministic tests."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells monotonic time in seconds."""

    def monotonic(self) -> float: ...


class SystemClock:
    """The process's monotonic clock."""

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that only moves when told to, for tests of timeouts and delays."""

    def __init__(self, start_s: float = 0.0) -> None:
        self._now_s = start_s
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._now_s

    def advance(self, seconds: float) -> None:
        """Move time forward; the memory broker notices on its next call."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back (advance({seconds!r}))")
        with self._lock:
            self._now_s += seconds
