"""What the PostgreSQL and Redis probes share: their client, their password on stdin."""

from __future__ import annotations

from typing import ClassVar

from codeb_report.probes.base import Probe
from codeb_report.probes.stack.settings import DatabaseTarget


class DatabaseProbe(Probe):
    """A database reached with its command-line ``client``, on the host or in a container.

    The password is resolved here, on the collecting machine, and travels to the server
    only on the batch script's stdin, in the shell variable ``password_var``.
    """

    client: ClassVar[str]
    password_var: ClassVar[str]

    def __init__(self, settings: DatabaseTarget) -> None:
        self.settings = settings
        self.password, self.password_problem = settings.resolve()
        if settings.container is None:
            self.requires = (self.client,)
        elif settings.runtime != "auto":
            self.requires = (settings.runtime,)

    def problem(self) -> str | None:
        return self.password_problem

    def secrets(self) -> dict[str, str]:
        return {self.password_var: self.password} if self.password else {}
