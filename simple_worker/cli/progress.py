"""A one-line progress bar on stderr for long operations (no dependency)."""

from __future__ import annotations

import sys
import time
from typing import Final, TextIO

BAR_WIDTH: Final = 24
REDRAW_INTERVAL_S: Final = 0.1
PLAIN_STEPS: Final = 4  # not a terminal: a line at each quarter, so logs stay short
CLEAR_TO_END: Final = "\x1b[K"  # ANSI: erase what a longer previous line left


class Progress:
    """``label [#######.......]  120/2000 note``: redrawn in place on a terminal.

    Elsewhere (a pipe, a CI log) it writes a line at each quarter of the total and at the end.
    """

    def __init__(self, label: str, total: int | None, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self._stream = stream if stream is not None else sys.stderr
        self._interactive = self._stream.isatty()
        self._last_draw_s = 0.0
        self._last_step = 0
        self._done = 0
        self._finished = False

    def update(self, done: int, note: str = "") -> None:
        """Record progress; redraw at most every 0.1 s (or at each quarter when not a terminal)."""
        self._done = done
        if self._interactive:
            now_s = time.monotonic()
            if now_s - self._last_draw_s >= REDRAW_INTERVAL_S:
                self._last_draw_s = now_s
                self._stream.write("\r" + self._line(note) + CLEAR_TO_END)
                self._stream.flush()
            return
        if self.total:
            step = min(PLAIN_STEPS, done * PLAIN_STEPS // self.total)
            if step > self._last_step and done < self.total:
                self._last_step = step
                self._stream.write(self._line(note) + "\n")
                self._stream.flush()

    def finish(self, note: str = "") -> None:
        """Draw the final state and end the line (once)."""
        if self._finished:
            return
        self._finished = True
        end = CLEAR_TO_END + "\n" if self._interactive else "\n"
        self._stream.write(("\r" if self._interactive else "") + self._line(note) + end)
        self._stream.flush()

    def _line(self, note: str) -> str:
        suffix = f" {note}" if note else ""
        if not self.total:
            return f"{self.label} {self._done:,}{suffix}"
        filled = min(BAR_WIDTH, self._done * BAR_WIDTH // self.total)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        width = len(f"{self.total:,}")
        return f"{self.label} [{bar}] {self._done:>{width},}/{self.total:,}{suffix}"
