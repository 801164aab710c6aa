"""Section 2's database rows: PostgreSQL and Redis, on the host or in a container."""

from __future__ import annotations

from dataclasses import dataclass

from codeb_report import units
from codeb_report.analysis.model import Level, Status
from codeb_report.analysis.reasons import Reason, probe_reason
from codeb_report.snapshot import Server


@dataclass(frozen=True)
class DatabaseRow:
    service: str
    container: str | None
    runtime: str
    status: Status
    auth_required: bool
    version: str | None
    databases: list[str] | None  # "name size", when they could be listed
    connections: str | None  # "12/100"
    memory: str | None
    error: Reason | None

    @property
    def has_details(self) -> bool:
        return any(
            v is not None for v in (self.version, self.databases, self.connections, self.memory)
        ) or bool(self.error)


def database_rows(server: Server) -> list[DatabaseRow]:
    rows = []
    if (pg := server.postgresql) is not None:
        rows.append(
            DatabaseRow(
                "PostgreSQL",
                pg.container,
                _runtime(pg.runtime),
                _db_status(pg.running),
                auth_required=False,
                version=pg.version,
                databases=None
                if pg.databases is None
                else [f"{d.name} {units.size(d.size)}" for d in pg.databases],
                connections=f"{pg.connections}/{pg.max_connections}"
                if pg.connections is not None and pg.max_connections is not None
                else None,
                memory=None,
                error=probe_reason(pg.error),
            )
        )
    if (rd := server.redis) is not None:
        rows.append(
            DatabaseRow(
                "Redis",
                rd.container,
                _runtime(rd.runtime),
                _db_status(rd.running),
                auth_required=bool(rd.auth_required),
                version=rd.version,
                databases=None,
                connections=None,
                memory=units.size_fine(rd.memory_used) if rd.memory_used is not None else None,
                error=probe_reason(rd.error),
            )
        )
    return rows


def _db_status(running: bool) -> Status:
    return (
        Status(level=Level.OK, word="Running")
        if running
        else Status(level=Level.CRIT, word="Stopped")
    )


def _runtime(runtime: str) -> str:
    return "Host" if runtime == "host" else runtime.capitalize()
