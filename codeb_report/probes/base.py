"""A probe: one shell command, run with LANG=C, and a pure parse of its output.

Probes know nothing of transports. The collector batches every probe of a server into
one script (see ``codeb_report.collect.batch``) and hands each probe its own output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from codeb_report.snapshot import Server

# What timeout(1) exits with when its limit stopped the command.
TIMEOUT_EXIT_CODE = 124


@dataclass(frozen=True)
class ProbeRun:
    """One probe's share of the batch: its stdout, stderr and exit code."""

    stdout: str
    stderr: str
    exit_code: int


class Probe(ABC):
    """Subclasses set ``name`` and ``requires`` and implement command/parse/store.

    ``requires`` lists executables; when any is missing on the server the probe is
    recorded as skipped ("<cmd> not installed") instead of being run. ``timeout`` is
    the seconds timeout(1) gives the command; None for a command that only reads the
    kernel's files, which has nothing to wait for (one program less on the server; the
    whole batch still has the server's deadline).
    """

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    timeout: ClassVar[int | None] = 20

    @abstractmethod
    def command(self) -> str:
        """The POSIX shell command whose stdout ``parse`` reads."""

    @abstractmethod
    def parse(self, output: str) -> Any:
        """Turn the command's stdout into this probe's part of the snapshot."""

    @abstractmethod
    def store(self, server: Server, value: Any) -> None:
        """Put the parsed value into the server's snapshot entry."""

    def input_command(self) -> str | None:
        """A command whose output ``command`` reads on its stdin, or None (no stdin).

        When another probe of the same server runs that very command, its output is
        handed on instead of being asked for twice (``collect.batch``).
        """
        return None

    def secrets(self) -> dict[str, str]:
        """Environment variables (name -> value) the command needs, e.g. a database password.

        The values reach the server on the script's stdin and are set for this probe's
        command only: never on a command line (visible in ps), never in the script text.
        """
        return {}

    def skip_reason(self, run: ProbeRun) -> str | None:
        """A reason to record the probe as skipped rather than failed, or None."""
        return None

    def problem(self) -> str | None:
        """A reason to record the probe as failed although its output was read and kept,
        e.g. a configured password that could not be read: the report keeps what was
        collected, the run says it was partial (exit code 4, a warning in its log)."""
        return None

    def failure(self, run: ProbeRun) -> str | None:
        """Why the run failed, or None when its output is to be parsed."""
        if run.exit_code == 0:
            return None
        if run.exit_code == TIMEOUT_EXIT_CODE:
            return f"timed out after {self.timeout} s"
        detail = _last_line(run.stderr) or _last_line(run.stdout) or "no output"
        return f"exit {run.exit_code}: {detail}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
