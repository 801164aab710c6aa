"""Probes run for real here: backup folders, Centrifugo health endpoint, composition."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servers.ports import free_port

from codeb_report.collect.batch import run_probes
from codeb_report.collect.runner import LocalRunner
from codeb_report.probes.base import Probe
from codeb_report.probes.stack import StackSettings, stack_probes
from codeb_report.probes.stack.backups import BackupsProbe
from codeb_report.probes.stack.centrifugo import CentrifugoHealth
from codeb_report.probes.stack.settings import BackupFolder, CentrifugoSettings
from codeb_report.snapshot import ProbeStatus, Server


def collect(*probes: Probe) -> Server:
    server = Server(name="n4", host="localhost", role="backup", reachable=True)
    run_probes(LocalRunner(), probes, server, timeout=60)
    for probe in probes:
        outcome = server.outcome(probe.name)
        assert outcome is not None and outcome.status == ProbeStatus.OK, outcome
    return server


def write(path: Path, size: int, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))


def test_backup_folders(tmp_path: Path) -> None:
    full, empty = tmp_path / "backups", tmp_path / "empty"
    empty.mkdir()
    write(full / "db-2025-12-18.sql.gz", 1000, 1_766_000_000)
    write(full / "nested" / "db 2025-12-20.sql.gz", 2500, 1_766_198_400.5)
    write(full / "db-2025-12-19.sql.gz", 700, 1_766_100_000)
    folders = [
        BackupFolder(path=str(full), max_age_hours=26),
        BackupFolder(path=str(empty)),
        BackupFolder(path=str(tmp_path / "missing")),
    ]
    backups = {b.path: b for b in collect(BackupsProbe(folders)).backups}
    done = backups[str(full)]
    assert (done.exists, done.files, done.total_size) == (True, 3, 4200)
    assert done.newest_file == str(full / "nested" / "db 2025-12-20.sql.gz")
    assert done.newest_mtime == datetime.fromtimestamp(1_766_198_400.5, tz=UTC)
    assert done.max_age_hours == 26
    assert (backups[str(empty)].exists, backups[str(empty)].files) == (True, 0)
    assert backups[str(empty)].newest_file is None
    assert backups[str(tmp_path / "missing")].exists is False


class Health(BaseHTTPRequestHandler):
    """Answers as Centrifugo does: ``{}`` on /health when enabled, Go's 404 otherwise."""

    enabled = True

    def do_GET(self) -> None:
        ok = self.path == "/health" and self.enabled
        self.send_response(200 if ok else 404)
        self.end_headers()
        self.wfile.write(b"{}" if ok else b"404 page not found\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_port() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    ("path", "expected"), [("/health", "ok"), ("/nothing", "HTTP 404")], ids=["ok", "404"]
)
def test_health_endpoint(health_port: int, path: str, expected: str) -> None:
    url = f"http://127.0.0.1:{health_port}{path}"
    server = collect(CentrifugoHealth(CentrifugoSettings(health_url=url)))
    assert server.centrifugo is not None and server.centrifugo.health == expected


class HealthOff(Health):
    enabled = False


@pytest.mark.parametrize(
    ("handler", "flag", "expected"),
    [(Health, ', "health": true', "ok"), (HealthOff, "", "disabled")],
    ids=["enabled", "disabled"],
)
def test_health_url_from_the_servers_configuration(
    tmp_path: Path, handler: type[Health], flag: str, expected: str
) -> None:
    """No health_url: the port is the one Centrifugo's own configuration names."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        config = tmp_path / "config.json"
        config.write_text(f'{{"port": "{httpd.server_address[1]}"{flag}}}\n')
        probe = CentrifugoHealth(CentrifugoSettings(config_path=str(config)))
        server = collect(probe)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert server.centrifugo is not None and server.centrifugo.health == expected


def test_health_refused() -> None:
    url = f"http://127.0.0.1:{free_port()}/health"
    server = collect(CentrifugoHealth(CentrifugoSettings(health_url=url)))
    assert server.centrifugo is not None
    assert server.centrifugo.health is not None
    assert server.centrifugo.health.startswith("unreachable: curl: (7)")


def test_stack_probes_follow_the_settings() -> None:
    names = [p.name for p in stack_probes(StackSettings(ci_runner=False))]
    assert names == []
    full = StackSettings.model_validate(
        {
            "units": ["codeb-watchdog"],
            "containers": ["codeb-redis"],
            "backups": [{"path": "/opt/codeb/backups", "max_age_hours": 26}],
            "centrifugo": {},
            "postgresql": {"container": "codeb-postgres"},
            "redis": {"container": "codeb-redis", "password_env": "CODEB_REDIS_PASSWORD"},
        }
    )
    names = [p.name for p in stack_probes(full)]
    assert names == [
        "watched.units",
        "watched.containers",
        "backups",
        "centrifugo.version",
        "centrifugo.unit",
        "centrifugo.health",
        "centrifugo.config",
        "postgresql",
        "redis",
    ]
    assert len(set(names)) == len(names)  # the batch tells outputs apart by name


def test_unknown_setting_is_named() -> None:
    with pytest.raises(ValueError, match=r"redis\.passwd_env"):
        StackSettings.model_validate({"redis": {"passwd_env": "X"}})


def test_secret_problems_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEB_MISSING_PW", raising=False)
    settings = StackSettings.model_validate({"redis": {"password_env": "CODEB_MISSING_PW"}})
    assert settings.secret_problems() == [
        "redis.password_env: environment variable CODEB_MISSING_PW is not set"
    ]
