"""PostgreSQL: running, version, databases and their sizes, connections against the maximum."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import TypeVar

from codeb_report.probes.stack.database import DatabaseProbe
from codeb_report.probes.stack.settings import PostgresSettings
from codeb_report.probes.stack.shell import run_in, section, select_runtime, split_sections
from codeb_report.snapshot import Database, PostgreSQL, Server

T = TypeVar("T")
PASSWORD_VAR = "CB_PG_PASSWORD"
QUERIES = (
    "SELECT 'version', current_setting('server_version')",
    "SELECT 'max_connections', current_setting('max_connections')",
    "SELECT 'connections', sum(numbackends) FROM pg_stat_database",
    # Sizes only where we may connect: pg_database_size() fails otherwise.
    "SELECT 'database', datname, pg_database_size(datname) FROM pg_database"
    " WHERE NOT datistemplate AND has_database_privilege(datname, 'CONNECT') ORDER BY datname",
)
# psql's words for "nobody is listening" (client side, so always C locale), and the
# container runtimes' for a container that is not running or not there.
DOWN = (
    "Connection refused",
    "No such file or directory",
    "could not translate host name",
    "container state improper",
    "is not running",
    "no such container",
    "No such container",
)


class PostgresProbe(DatabaseProbe):
    """PostgreSQL through ``pg_isready`` and ``psql`` on the host or inside a container.

    ``pg_isready`` tells whether the server runs even when we may not log in; ``psql``
    (``-w``: never prompt) reads the facts. A password, when configured, reaches psql as
    ``PGPASSWORD`` from the script's stdin. A refused login is a fact (``error``), not a
    probe failure.

    Sample output::

        == runtime
        host
        == ready
        127.0.0.1:5432 - accepting connections
        rc=0
        == sql
        version|15.10 (Debian 15.10-0+deb12u1)
        max_connections|100
        connections|3
        database|codeb|12467559
        database|postgres|7634279
        rc=0
    """

    name = "postgresql"

    client = "psql"
    password_var = PASSWORD_VAR
    settings: PostgresSettings

    def command(self) -> str:
        s = self.settings
        where = f"-h {shlex.quote(s.host)} " if s.host else ""
        where += f"-p {shlex.quote(str(s.port))} " if s.port else ""
        env = {"PGCONNECT_TIMEOUT": "5"}
        if self.password:
            env["PGPASSWORD"] = f'"${PASSWORD_VAR}"'
        queries = " ".join(f"-c {shlex.quote(q)}" for q in QUERIES)
        psql = (
            f"psql -X -q -A -t -w -F '|' -v ON_ERROR_STOP=1 {where}"
            f"-U {shlex.quote(s.user)} -d {shlex.quote(s.database)} {queries}"
        )
        runtime = select_runtime(s.runtime) if s.container else ""
        return (
            f'{runtime}{section("runtime")}; echo "${{_rt:-host}}"\n'
            f"{section('ready')}; {run_in(s.container, f'pg_isready {where}'.strip())} 2>&1; "
            'echo "rc=$?"\n'
            f'{section("sql")}; {run_in(s.container, psql, env)} 2>&1; echo "rc=$?"\n'
            "exit 0"
        )

    def parse(self, output: str) -> PostgreSQL:
        parts = split_sections(output)
        ready_text, ready_rc = _with_rc(parts.get("ready", ""))
        sql_text, sql_rc = _with_rc(parts.get("sql", ""))
        rows = _rows(sql_text) if sql_rc == 0 else {}
        databases = [Database(name=name, size=int(size)) for name, size in rows.get("database", [])]
        running = _running(ready_rc, sql_rc, sql_text)
        return PostgreSQL(
            running=running,
            runtime=self._runtime(parts.get("runtime", "host")),
            container=self.settings.container,
            version=_first(rows, "version", lambda v: v.split()[0]),
            databases=databases if sql_rc == 0 else None,
            connections=_first(rows, "connections", int),
            max_connections=_first(rows, "max_connections", int),
            error=None if sql_rc == 0 else self._error(sql_text or ready_text),
        )

    def _runtime(self, text: str) -> str:
        return text if text in ("podman", "docker") and self.settings.container else "host"

    def _error(self, text: str) -> str:
        line = next((x.strip() for x in text.splitlines() if x.strip()), "no answer")
        line = line.removeprefix("psql: error: ")
        if self.password_problem and ("password" in line or "authentication" in line):
            return f"{line} ({self.password_problem})"
        return line[:300]

    def store(self, server: Server, value: PostgreSQL) -> None:
        server.postgresql = value


def _with_rc(text: str) -> tuple[str, int | None]:
    body, _, last = text.rpartition("rc=")
    code = last.strip()
    return (body.strip(), int(code)) if code.lstrip("-").isdigit() else (text, None)


def _rows(text: str) -> dict[str, list[tuple[str, str]]]:
    """``kind|value`` and ``database|name|size`` lines, by kind (names may hold ``|``)."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition("|")
        if kind == "database":
            name, _, size = rest.rpartition("|")
            rows.setdefault(kind, []).append((name, size))
        elif rest:
            rows.setdefault(kind, []).append((rest, ""))
    return rows


def _first(
    rows: dict[str, list[tuple[str, str]]], kind: str, convert: Callable[[str], T]
) -> T | None:
    values = rows.get(kind)
    return convert(values[0][0]) if values and values[0][0] else None


def _running(ready_rc: int | None, sql_rc: int | None, sql_text: str) -> bool:
    if sql_rc == 0 or ready_rc in (0, 1):  # 1: up but rejecting (starting, shutting down)
        return True
    if ready_rc == 2:  # no response
        return False
    return bool(sql_text) and not any(word in sql_text for word in DOWN)
