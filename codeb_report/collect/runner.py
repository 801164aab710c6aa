"""The one small interface every transport implements: run a shell script, get its output."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from typing import Protocol

# Probes parse English, C-locale output whatever the server's own locale is.
C_LOCALE = {"LANG": "C", "LC_ALL": "C"}


@dataclass(frozen=True)
class CommandResult:
    stdout: str
    stderr: str
    exit_code: int


class CommandTimeout(Exception):
    """The script did not finish within its deadline."""


class Runner(Protocol):
    """Runs one POSIX shell script on one server.

    ``stdin`` carries secrets (never the command line, which other users can see in ps).
    """

    def run(self, script: str, timeout: float, stdin: str | None = None) -> CommandResult: ...


class LocalRunner:
    """Runs scripts on the machine codeb-report itself runs on."""

    def run(self, script: str, timeout: float, stdin: str | None = None) -> CommandResult:
        try:
            done = subprocess.run(
                ["/bin/sh", "-c", script],
                input=stdin if stdin is not None else "",
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                env={**os.environ, **C_LOCALE},
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CommandTimeout(f"no answer within {timeout:g} s") from None
        return CommandResult(done.stdout, done.stderr, done.returncode)
