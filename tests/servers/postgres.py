"""A real PostgreSQL (initdb + pg_ctl) on 127.0.0.1 and a random port.

TCP connections need the superuser's password (scram-sha-256); the local socket is
trusted. PostgreSQL refuses to run as root, so as root the server runs as ``postgres``.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers.ports import free_port

# The database the fixture creates besides the defaults, with a table to give it a size.
EXTRA_DATABASE = "codeb_app"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    password: str
    socket_dir: Path
    bindir: Path
    version: str  # server_version, e.g. "15.10 (Debian 15.10-0+deb12u1)"

    def psql(self, sql: str, database: str = "postgres") -> str:
        argv = [
            str(self.bindir / "psql"),
            "-X",
            "-A",
            "-t",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        ]
        out = subprocess.run(argv, capture_output=True, text=True, check=True)
        return out.stdout.strip()


def postgres_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin that has initdb and pg_ctl."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [d for d in found if (d / "pg_ctl").exists()]
    return max(found, key=lambda d: int(d.parent.name)) if found else None


def _as_owner(argv: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    user = "postgres" if os.geteuid() == 0 else None
    work = Path(tempfile.mkdtemp(prefix="codeb-pg-"))
    password = "pg-" + secrets.token_hex(12)
    (work / "sock").mkdir()
    (work / "pwfile").write_text(password + "\n")
    if user:
        entry = pwd.getpwnam(user)
        for path in (work, work / "sock", work / "pwfile"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = free_port()
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(
        _as_owner(
            [
                str(bindir / "initdb"),
                "-D",
                str(work / "data"),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={work / 'pwfile'}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            user,
        ),
        **run,
    )
    options = f"-p {port} -k {work / 'sock'} -c listen_addresses=127.0.0.1"
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(work / "data")]
    subprocess.run(
        _as_owner([*pg_ctl, "-l", str(work / "log"), "-w", "-o", options, "start"], user), **run
    )
    try:
        server = PostgresServer(port, password, work / "sock", bindir, version="")
        server.psql(f"CREATE DATABASE {EXTRA_DATABASE}")
        server.psql(
            "CREATE TABLE filler AS SELECT g, repeat('x', 200) AS pad "
            "FROM generate_series(1, 20000) AS g",
            database=EXTRA_DATABASE,
        )
        version = server.psql("SHOW server_version")
        yield PostgresServer(port, password, work / "sock", bindir, version)
    finally:
        subprocess.run(
            _as_owner([*pg_ctl, "-m", "fast", "-w", "stop"], user), check=False, capture_output=True
        )
        shutil.rmtree(work, ignore_errors=True)
