"""A storage role collected over real SSH: Redis and PostgreSQL passwords go over the
channel's stdin (also through ``sudo -n``), backups are read, nothing secret is kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from servers.postgres import EXTRA_DATABASE, PostgresServer
from servers.redis import RedisServer
from servers.sshd import Sshd, SshdFactory

from codeb_report.collect.fleet import collect_fleet
from codeb_report.config import parse_config
from codeb_report.pipeline import probes_for
from codeb_report.snapshot import ProbeStatus, dumps


@pytest.fixture(scope="module")
def storage_sshd(sshd_factory: SshdFactory) -> Sshd:
    return sshd_factory.start("stack-storage")


def test_storage_role_over_ssh(
    sshd_factory: SshdFactory,
    storage_sshd: Sshd,
    redis_server: RedisServer,
    postgres_server: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEB_TEST_REDIS_PW", redis_server.password)
    pg_secret = tmp_path / "pg-password"
    pg_secret.write_text(postgres_server.password + "\n")
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "dump.sql.gz").write_bytes(b"z" * 4096)
    os.utime(backups / "dump.sql.gz", (1_766_198_400, 1_766_198_400))
    known = sshd_factory.base / "stack_known_hosts"
    known.write_text(storage_sshd.known_hosts_line())
    servers = "".join(
        f'[[servers]]\nname = "{name}"\nhost = "127.0.0.1"\nport = {storage_sshd.port}\n'
        f'user = "root"\nidentity_file = "{sshd_factory.client_key.private}"\n'
        f'role = "storage"\nsudo = {sudo}\n'
        for name, sudo in (("n3", "false"), ("n3-sudo", "true"))
    )
    config = parse_config(
        f'[ssh]\nknown_hosts = "{known}"\nconfig_file = "{tmp_path / "none"}"\n'
        f"use_agent = false\n{servers}"
        "[roles.storage]\nci_runner = false\n"
        f'backups = [{{ path = "{backups}", max_age_hours = 26 }}]\n'
        f"redis = {{ port = {redis_server.port}, password_env = "
        '"CODEB_TEST_REDIS_PW" }\n'
        f'postgresql = {{ host = "127.0.0.1", port = {postgres_server.port}, '
        f'password_file = "{pg_secret}" }}\n',
        "fleet.toml",
    )
    snapshot = collect_fleet(config, probes_for)
    for name in ("n3", "n3-sudo"):
        server = snapshot.server(name)
        assert server is not None and server.reachable, server
        outcomes = {p.probe: p.status for p in server.probes}
        assert {k: outcomes[k] for k in ("redis", "postgresql", "backups")} == {
            "redis": ProbeStatus.OK,
            "postgresql": ProbeStatus.OK,
            "backups": ProbeStatus.OK,
        }
        redis, pg = server.redis, server.postgresql
        assert redis is not None and pg is not None
        assert (redis.auth_required, redis.authenticated) == (True, True)
        assert redis.version == redis_server.version and redis.memory_used
        assert pg.version == postgres_server.version.split()[0]
        assert EXTRA_DATABASE in {db.name for db in pg.databases or []}
        assert [(b.files, b.total_size) for b in server.backups] == [(1, 4096)]
    text = dumps(snapshot)
    assert redis_server.password not in text
    assert postgres_server.password not in text
