"""Database passwords that are wrong or missing at run time, against real Redis, PostgreSQL
and sshd: the finding says what to fix, the run warns and exits partial (4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers.postgres import PostgresServer
from servers.redis import RedisServer
from servers.sshd import SshdFactory, fleet_config

from codeb_report.analysis import analyse
from codeb_report.collect.batch import run_probes
from codeb_report.collect.runner import LocalRunner
from codeb_report.probes.base import Probe
from codeb_report.probes.stack.postgresql import PostgresProbe
from codeb_report.probes.stack.redis import RedisProbe
from codeb_report.probes.stack.settings import PostgresSettings, RedisSettings
from codeb_report.snapshot import ProbeStatus, Server, Snapshot, now

UNSET = "CODEB_TEST_UNSET_PASSWORD"


def _analysed(probe: Probe) -> tuple[Server, list]:
    server = Server(name="n3", host="localhost", role="storage", reachable=True)
    run_probes(LocalRunner(), [probe], server, timeout=60)
    snapshot = Snapshot(collected_at=now(), collector_version="test", servers=[server])
    return server, analyse(snapshot).findings


def _wrong(tmp_path: Path) -> str:
    secret = tmp_path / "pw"
    secret.write_text("not-the-password\n")
    return str(secret)


def test_a_wrong_redis_password_is_said_to_be_wrong(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    probe = RedisProbe(RedisSettings(port=redis_server.port, password_file=_wrong(tmp_path)))
    server, findings = _analysed(probe)
    assert server.redis is not None and "WRONGPASS" in (server.redis.error or "")
    [finding] = [f for f in findings if f.title == "Redis 인증"]
    assert finding.action.startswith("설정된 비밀번호가 틀림")
    assert "환경변수에 비밀번호 추가" not in finding.action
    assert "Redis 비밀번호 불일치" in "".join(s.text for s in finding.description)


def test_a_wrong_postgresql_password_is_said_to_be_wrong(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    settings = PostgresSettings(
        host="127.0.0.1", port=postgres_server.port, password_file=_wrong(tmp_path)
    )
    server, findings = _analysed(PostgresProbe(settings))
    assert "password authentication failed" in (server.postgresql.error or "")  # type: ignore[union-attr]
    [finding] = [f for f in findings if f.title == "PostgreSQL 인증"]
    assert finding.action.startswith("설정된 비밀번호가 틀림")
    assert all(f.action != "pg_stat 모니터링 설정" for f in findings)


def test_a_password_variable_unset_at_run_time_fails_the_probe_and_says_which(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    server, findings = _analysed(
        RedisProbe(RedisSettings(port=redis_server.port, password_env=UNSET))
    )
    outcome = server.outcome("redis")
    assert outcome is not None and outcome.status == ProbeStatus.FAILED
    assert outcome.reason == f"password_env: environment variable {UNSET} is not set"
    assert server.redis is not None and server.redis.running  # what it could read is kept
    [finding] = [f for f in findings if "인증" in f.title]  # one finding, not two
    assert finding.action == f"환경변수 {UNSET}를 실행 환경에 설정"


def test_run_warns_on_stderr_and_in_run_log_and_exits_partial(
    sshd_factory: SshdFactory, redis_server: RedisServer, tmp_path: Path
) -> None:
    sshd = sshd_factory.start("password-run")
    role = f'[roles.storage]\nredis = {{ port = {redis_server.port}, password_env = "{UNSET}" }}\n'
    config = fleet_config(
        sshd_factory, {"n3": sshd}, tmp_path / "fleet.toml", server='role = "storage"\n', tail=role
    )
    env = {k: v for k, v in os.environ.items() if k != UNSET} | {"HOME": str(tmp_path)}
    root = tmp_path / "output"
    argv = ["run", "--config", str(config), "--output-root", str(root)]
    done = subprocess.run(
        [sys.executable, "-c", "from codeb_report.cli import main; main()", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 4, done.stderr
    expected = (
        f"WARNING n3 probe redis failed: password_env: environment variable {UNSET} is not set"
    )
    assert expected in done.stderr
    assert expected in (root / "latest" / "run.log").read_text()
    report = (root / "latest" / "report.md").read_text()
    assert f"환경변수 {UNSET}를 실행 환경에 설정" in report
