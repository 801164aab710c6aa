"""Redis and PostgreSQL probes against real servers started on 127.0.0.1 by the tests."""

from __future__ import annotations

import os

import pytest
from servers.ports import free_port
from servers.postgres import EXTRA_DATABASE, PostgresServer
from servers.redis import RedisServer

from codeb_report.collect.batch import build_script, run_probes
from codeb_report.collect.runner import LocalRunner
from codeb_report.probes.base import Probe
from codeb_report.probes.stack.postgresql import PostgresProbe
from codeb_report.probes.stack.redis import RedisProbe
from codeb_report.probes.stack.settings import PostgresSettings, RedisSettings
from codeb_report.snapshot import ProbeStatus, Server, Snapshot, dumps, now


def collect(probe: Probe) -> Server:
    server = Server(name="n3", host="localhost", role="storage", reachable=True)
    run_probes(LocalRunner(), [probe], server, timeout=60)
    outcome = server.outcome(probe.name)
    assert outcome is not None and outcome.status == ProbeStatus.OK, outcome
    return server


def test_redis_without_password_reports_noauth_as_a_fact(redis_server: RedisServer) -> None:
    redis = collect(RedisProbe(RedisSettings(port=redis_server.port))).redis
    assert redis is not None
    assert redis.running is True
    assert redis.auth_required is True
    assert redis.authenticated is False
    assert redis.memory_used is None
    assert redis.version == redis_server.version
    assert redis.error == "AUTH required; no password configured"


def test_redis_with_password_reads_memory(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEB_TEST_REDIS_PW", redis_server.password)
    settings = RedisSettings(port=redis_server.port, password_env="CODEB_TEST_REDIS_PW")
    redis = collect(RedisProbe(settings)).redis
    assert redis is not None
    assert (redis.running, redis.auth_required, redis.authenticated) == (True, True, True)
    assert redis.version == redis_server.version
    assert redis.memory_used is not None and redis.memory_used > 100_000
    assert redis.error is None


def test_redis_wrong_password_is_named(redis_server: RedisServer, tmp_path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("not-the-password\n")
    settings = RedisSettings(port=redis_server.port, password_file=str(secret))
    redis = collect(RedisProbe(settings)).redis
    assert redis is not None
    assert (redis.running, redis.auth_required, redis.authenticated) == (True, True, False)
    assert redis.error is not None and "WRONGPASS" in redis.error


def test_redis_not_listening() -> None:
    redis = collect(RedisProbe(RedisSettings(port=free_port()))).redis
    assert redis is not None
    assert redis.running is False
    assert redis.version is None
    assert redis.error is not None and "Connection refused" in redis.error


def test_postgres_with_password_lists_databases(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEB_TEST_PG_PW", postgres_server.password)
    settings = PostgresSettings(
        host="127.0.0.1", port=postgres_server.port, password_env="CODEB_TEST_PG_PW"
    )
    pg = collect(PostgresProbe(settings)).postgresql
    assert pg is not None
    assert pg.running is True and pg.error is None
    assert pg.version == postgres_server.version.split()[0]
    sizes = {db.name: db.size for db in pg.databases or []}
    assert set(sizes) == {"postgres", EXTRA_DATABASE}
    for name, size in sizes.items():
        expected = postgres_server.psql(f"SELECT pg_database_size('{name}')")
        assert size == int(expected)
    assert sizes[EXTRA_DATABASE] > sizes["postgres"]  # the filler table
    assert pg.max_connections == int(postgres_server.psql("SHOW max_connections"))
    assert pg.connections is not None and 1 <= pg.connections < pg.max_connections


def test_postgres_without_password_is_running_but_refused(postgres_server: PostgresServer) -> None:
    settings = PostgresSettings(host="127.0.0.1", port=postgres_server.port)
    pg = collect(PostgresProbe(settings)).postgresql
    assert pg is not None
    assert pg.running is True
    assert pg.databases is None and pg.version is None
    assert pg.error is not None and "no password supplied" in pg.error


def test_postgres_trusted_socket_needs_no_password(postgres_server: PostgresServer) -> None:
    settings = PostgresSettings(host=str(postgres_server.socket_dir), port=postgres_server.port)
    pg = collect(PostgresProbe(settings)).postgresql
    assert pg is not None and pg.error is None
    assert pg.version == postgres_server.version.split()[0]
    assert {db.name for db in pg.databases or []} == {"postgres", EXTRA_DATABASE}


def test_postgres_not_listening() -> None:
    pg = collect(PostgresProbe(PostgresSettings(host="127.0.0.1", port=free_port()))).postgresql
    assert pg is not None
    assert pg.running is False
    assert pg.error is not None and "Connection refused" in pg.error


def test_passwords_reach_neither_script_nor_snapshot(
    redis_server: RedisServer, postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEB_TEST_REDIS_PW", redis_server.password)
    monkeypatch.setenv("CODEB_TEST_PG_PW", postgres_server.password)
    probes: list[Probe] = [
        RedisProbe(RedisSettings(port=redis_server.port, password_env="CODEB_TEST_REDIS_PW")),
        PostgresProbe(
            PostgresSettings(
                host="127.0.0.1", port=postgres_server.port, password_env="CODEB_TEST_PG_PW"
            )
        ),
    ]
    script = build_script(probes, "@@token")
    server = Server(name="n3", host="localhost", role="storage", reachable=True)
    run_probes(LocalRunner(), probes, server, timeout=60)
    assert server.redis is not None and server.redis.authenticated is True
    assert server.postgresql is not None and server.postgresql.databases
    text = dumps(Snapshot(collected_at=now(), collector_version="test", servers=[server]))
    for password in (redis_server.password, postgres_server.password):
        assert password not in script
        assert password not in text
        for probe in probes:
            assert password not in probe.command()


def recording_tools(folder, names: tuple[str, ...], record) -> str:
    """Executables that write each argument they get on a line of ``record``.

    They stand in for the database clients only to show how the shell split the
    command line; the real clients are tested against real servers above.
    """
    folder.mkdir()
    for name in names:
        tool = folder / name
        tool.write_text(f"#!/bin/sh\nprintf '%s\\n' {name} \"$@\" >> '{record}'\n")
        tool.chmod(0o755)
    return str(folder)


@pytest.mark.parametrize(
    ("probe", "tools", "host_flag"),
    [
        (lambda host: RedisProbe(RedisSettings(host=host, port=6390)), ("redis-cli",), "-h"),
        (
            lambda host: PostgresProbe(PostgresSettings(host=host, port=5440)),
            ("psql", "pg_isready"),
            "-h",
        ),
    ],
    ids=["redis", "postgresql"],
)
def test_a_configured_host_reaches_the_client_as_one_argument(
    probe, tools: tuple[str, ...], host_flag: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record, marker = tmp_path / "argv", tmp_path / "injected"
    host = f"db host; touch {marker}"
    folder = recording_tools(tmp_path / "bin", tools, record)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    server = Server(name="n3", host="localhost", role="storage", reachable=True)
    run_probes(LocalRunner(), [probe(host)], server, timeout=30)
    assert not marker.exists()
    argv = record.read_text().splitlines()
    calls = [i for i, arg in enumerate(argv) if arg == host_flag]
    assert calls, argv
    assert all(argv[i + 1] == host for i in calls)
