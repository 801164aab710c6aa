"""Progress of a fleet collection on stderr.

On a terminal every server gets a live line (connecting, collecting, done, failed).
Without one (cron) only failures are printed, so cron mails carry nothing but problems.
``-q`` drops a level (terminal: failures only; cron: nothing), ``-v`` prints every step
as a plain line with its time.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
import unicodedata
from collections.abc import Sequence
from enum import Enum
from typing import TextIO

from codeb_report.controls import escape_controls


class Mode(Enum):
    SILENT = "silent"
    ERRORS = "errors"
    LIVE = "live"
    LOG = "log"


def choose_mode(verbosity: int, is_terminal: bool) -> Mode:
    if verbosity > 0:
        return Mode.LOG
    if verbosity < 0:
        return Mode.ERRORS if is_terminal else Mode.SILENT
    return Mode.LIVE if is_terminal else Mode.ERRORS


MARKS = {"waiting": "·", "connecting": "…", "collecting": "…", "done": "✔", "failed": "✘"}


class Progress:
    """Thread-safe: the fleet's worker threads report into one instance."""

    def __init__(
        self, names: Sequence[str], verbosity: int = 0, stream: TextIO | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        is_terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.mode = choose_mode(verbosity, is_terminal)
        self.names = list(names)
        self.shown = {n: escape_controls(n) for n in self.names}
        self.width = max((len(n) for n in self.shown.values()), default=4)
        self.states: dict[str, tuple[str, str]] = {n: ("waiting", "") for n in self.names}
        self.started = {n: time.monotonic() for n in self.names}
        self.took: dict[str, float] = {}  # frozen when a server is done or failed
        self._drawn = 0
        self._lock = threading.Lock()

    def update(self, name: str, state: str, detail: str = "") -> None:
        with self._lock:
            if state == "connecting":
                self.started[name] = time.monotonic()
            # A server's error text is its own: no newline or escape sequence gets through.
            self.states[name] = (state, escape_controls(detail))
            if state in ("done", "failed"):
                self.took[name] = time.monotonic() - self.started[name]
            if self.mode is Mode.LIVE:
                self._redraw()
            elif self.mode is Mode.LOG:
                self._write(self._line(name) + "\n")
            elif self.mode is Mode.ERRORS and state == "failed":
                self._write(f"codeb-report: {self.shown[name]}: {self.states[name][1]}\n")

    def close(self) -> None:
        """Leave the live lines in place, then each failure whole (lines were cut to fit)."""
        with self._lock:
            if self.mode is Mode.LIVE and self._drawn:
                self._redraw()
                for name in self.names:
                    state, detail = self.states[name]
                    if state == "failed":
                        self._write(f"codeb-report: {self.shown[name]}: {detail}\n")
            self._drawn = 0

    def _line(self, name: str) -> str:
        state, detail = self.states[name]
        took = ""
        if state in ("done", "failed", "collecting"):
            seconds = self.took.get(name, time.monotonic() - self.started[name])
            took = f" {seconds:.1f}s"
        text = f"{MARKS.get(state, ' ')} {self.shown[name]:<{self.width}} {state}{took}"
        return f"{text}  {detail}" if detail else text

    def _redraw(self) -> None:
        columns = shutil.get_terminal_size((100, 20)).columns
        # Lines longer than the terminal wrap and break the cursor arithmetic: cut them.
        lines = [fit(self._line(n), max(10, columns - 1)) for n in self.names]
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self._write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self._drawn = len(lines)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed: progress is never worth a failure
            pass


def fit(text: str, columns: int) -> str:
    """Cut ``text`` to ``columns`` terminal cells; Hangul and other wide letters take two."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used > columns:
            return text[:index]
    return text
