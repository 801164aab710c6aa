"""Exit codes and the one-line user errors behind them.

The codes are documented in the README; monitoring relies on them, so never renumber.
"""

from __future__ import annotations

from enum import IntEnum

import click

from codeb_report.controls import escape_controls


class Exit(IntEnum):
    OK = 0
    CHANGED = 1  # `diff` only: the snapshots differ (as diff(1))
    USAGE = 2  # bad command line (click's own code)
    INPUT = 3  # a file, host or field given by the user is wrong
    PARTIAL = 4  # report written, but some servers or probes failed
    FAILED = 5  # no server could be collected
    MAIL = 6  # report written, mail not delivered
    LOCKED = 7  # another run holds the lock
    OUTPUT = 8  # the report could not be rendered or written


class UserError(click.ClickException):
    """A problem the user can fix: printed as one line, never a traceback."""

    def __init__(self, message: str, code: Exit = Exit.INPUT) -> None:
        super().__init__(message)
        self.exit_code = int(code)

    def format_message(self) -> str:
        # Messages name files, hosts and fields the user or a server chose: on one line,
        # and no escape sequence reaches the terminal.
        return escape_controls(self.message)


class SnapshotError(UserError):
    """A snapshot file that cannot be read or validated."""


class ConfigError(UserError):
    """A configuration file that cannot be read or validated."""


class OutputError(UserError):
    def __init__(self, message: str) -> None:
        super().__init__(message, Exit.OUTPUT)
