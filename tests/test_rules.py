"""Every rule on its own, on small hand-built snapshots: when it fires, what it says, and
when it stays quiet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from analysis_fleet import AT, GiB, MiB, fleet, plain, run, server

from codeb_report.analysis.model import Finding, Priority
from codeb_report.analysis.rules import RULES
from codeb_report.snapshot import (
    BackupDir,
    Centrifugo,
    Container,
    PostgreSQL,
    ProbeOutcome,
    ProbeStatus,
    Redis,
    Server,
    Service,
    Swap,
    Watched,
)
from codeb_report.thresholds import Thresholds


def row(f: Finding) -> tuple:
    return (f.priority.value, f.icon, f.title, f.server, plain(f.description), f.action)


def test_rule_ids_are_stable_and_unique() -> None:
    assert [r.id for r in RULES] == [
        "server.unreachable",
        "server.rebooted",
        "probe.failed",
        "disk.high",
        "memory.high",
        "swap.high",
        "load.high",
        "watched.missing",
        "watched.down",
        "service.failed",
        "container.down",
        "backup.missing",
        "backup.unreadable",
        "backup.stale",
        "centrifugo.allowed_origins_any",
        "centrifugo.down",
        "centrifugo.unhealthy",
        "postgres.down",
        "redis.down",
        "postgres.connections_high",
        "redis.auth_no_password",
        "postgres.db_list_unavailable",
        "resources.low_usage",
        "server.smaller_spec",
        "provider.api.no_key",
        "provider.api.refused",
        "provider.api.empty_instances",
        "provider.api.unavailable",
        "provider.cost.unmatched",
        "provider.rightsize.down",
        "provider.rightsize.up",
        "provider.backup.missing",
        "provider.bandwidth.overage",
        "prometheus.unavailable",
    ]


def test_a_healthy_busy_fleet_raises_nothing() -> None:
    busy = dict(mem_used=4 * GiB, load=(1.0, 1.0, 1.0))  # 25% memory, 0.25 per CPU
    snapshot = fleet(server("n1", **busy), server("n2", **busy))
    assert [(r.id, run(r.id, snapshot)) for r in RULES if run(r.id, snapshot)] == []


# server.unreachable -------------------------------------------------------------------


def test_unreachable_server() -> None:
    down = Server(
        name="n2", host="h", role="Streaming", reachable=False, error="connect timed out after 10s"
    )
    [f] = run("server.unreachable", fleet(server("n1"), down))
    assert row(f) == (
        "High",
        "❌",
        "서버 연결 실패",
        "n2",
        "시간 초과 (응답 없음)",
        "서버 상태 및 SSH 접속 확인",
    )
    assert run("server.unreachable", fleet(server("n1"))) == []


def test_unreachable_server_without_korean_words_shows_the_error() -> None:
    down = Server(name="n2", host="h", role="App", reachable=False, error="h: EOFError: odd")
    [f] = run("server.unreachable", fleet(down))
    assert plain(f.description) == "`h: EOFError: odd`"


@pytest.mark.parametrize(
    ("hours", "fires"), [(3, True), (23.9, True), (24, False), (80 * 24, False)]
)
def test_recent_reboot(hours: float, fires: bool) -> None:
    found = run("server.rebooted", fleet(server(uptime=int(hours * 3600))))
    assert bool(found) == fires
    if fires:
        assert row(found[0])[:4] == ("Low", None, "최근 재부팅", "n1")
        assert found[0].step == "재부팅 원인 확인"  # a Low finding that asks for a next step


# probe.failed ---------------------------------------------------------------------------


def test_failed_probe_is_reported_and_skipped_one_is_not() -> None:
    s = server(
        probes=[
            ProbeOutcome(probe="docker", status=ProbeStatus.FAILED, reason="permission denied"),
            ProbeOutcome(probe="podman", status=ProbeStatus.SKIPPED, reason="podman not installed"),
            ProbeOutcome(probe="system", status=ProbeStatus.OK),
        ]
    )
    [f] = run("probe.failed", fleet(s))
    assert row(f) == (
        "Medium",
        None,
        "수집 실패",
        "n1",
        "Docker 컨테이너: 권한 없음",
        "수집 명령과 권한 확인",
    )


def test_docker_daemon_down_is_said_in_korean() -> None:
    reason = (
        "exit 1: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
        "Is the docker daemon running?"
    )
    s = server(probes=[ProbeOutcome(probe="docker", status=ProbeStatus.FAILED, reason=reason)])
    [f] = run("probe.failed", fleet(s))
    assert row(f) == (
        "Medium",
        None,
        "수집 실패",
        "n1",
        "Docker 컨테이너: Docker 데몬 미실행",
        "Docker 데몬 실행 여부 확인",
    )
    assert f.step == "Docker 데몬 실행 여부 확인"


# disk.high / memory.high / swap.high / load.high ------------------------------------------


@pytest.mark.parametrize(("share", "priority"), [(0.79, None), (0.85, "Medium"), (0.95, "High")])
def test_disk_high(share: float, priority: str | None) -> None:
    found = run("disk.high", fleet(server(disk_used=share)))
    assert [f.priority.value for f in found] == ([priority] if priority else [])
    if priority:
        assert plain(found[0].description).startswith(f"`/` {round(share * 100)}% 사용 (")
        assert found[0].summary == f"디스크 {round(share * 100)}% 사용"


@pytest.mark.parametrize(("used_gib", "priority"), [(12, None), (13, "Medium"), (15, "High")])
def test_memory_high(used_gib: int, priority: str | None) -> None:
    found = run("memory.high", fleet(server(mem_total=16 * GiB, mem_used=used_gib * GiB)))
    assert [f.priority.value for f in found] == ([priority] if priority else [])
    if priority:
        pct = round(used_gib / 16 * 100)
        assert plain(found[0].description) == f"{pct}% 사용 ({used_gib}GB / 16GB)"


@pytest.mark.parametrize(("used_gib", "priority"), [(1, None), (5, "Medium"), (7, "High")])
def test_swap_high(used_gib: int, priority: str | None) -> None:
    s = server(swap=Swap(total=8 * GiB, used=used_gib * GiB, free=(8 - used_gib) * GiB))
    found = run("swap.high", fleet(s))
    assert [f.priority.value for f in found] == ([priority] if priority else [])


def test_no_swap_is_not_a_swap_problem() -> None:
    assert run("swap.high", fleet(server(swap=Swap(total=0, used=0, free=0)))) == []


@pytest.mark.parametrize(("load5", "priority"), [(2.7, None), (2.8, "Medium"), (4.5, "High")])
def test_load_high_per_cpu(load5: float, priority: str | None) -> None:
    found = run("load.high", fleet(server(cpus=4, load=(9.0, load5, 1.0))))
    assert [f.priority.value for f in found] == ([priority] if priority else [])
    if priority:
        assert plain(found[0].description) == f"Load Average `9.00, {load5:.2f}, 1.00` (CPU 4개)"
        word = "CPU 부하 높음" if priority == "Medium" else "CPU 과부하"
        assert found[0].summary == f"{word} (Load {load5:.2f})"  # says load once


def test_thresholds_from_config_move_the_line() -> None:
    loose = Thresholds.model_validate({"disk": {"warn_at": 90, "crit_at": 98}})
    assert run("disk.high", fleet(server(disk_used=0.85)), loose) == []


# service.failed / container.down ----------------------------------------------------------


def test_failed_service() -> None:
    s = server(
        services=[
            Service(unit="codeb-watchdog.service", active="failed", sub="failed"),
            Service(unit="cron.service", active="active", sub="running"),
            Service(unit="apt-daily.service", active="inactive", sub="dead"),
        ]
    )
    [f] = run("service.failed", fleet(s))
    assert row(f) == (
        "High",
        "❌",
        "서비스 실패",
        "n1",
        "`codeb-watchdog` failed",
        "서비스 로그 확인 후 재시작",
    )


def test_stopped_container() -> None:
    s = server(
        containers=[
            Container(runtime="docker", name="codeb-cms", image="cms:1", state="exited"),
            Container(runtime="podman", name="codeb-redis", image="redis:7", state="running"),
        ]
    )
    [f] = run("container.down", fleet(s))
    assert row(f) == (
        "Medium",
        None,
        "컨테이너 중지",
        "n1",
        "`codeb-cms` Exited",
        "컨테이너 로그 확인 후 재시작",
    )


# watched.missing / watched.down -------------------------------------------------------------


def test_watched_unit_missing() -> None:
    s = server(watched=[Watched(kind="unit", name="codeb-watchdog", present=False)])
    [f] = run("watched.missing", fleet(s))
    assert row(f) == ("High", "❌", "서비스 없음", "n1", "`codeb-watchdog` 없음", "배포 상태 확인")


def test_watched_runner_and_container_missing() -> None:
    s = server(
        watched=[
            Watched(kind="unit", name="actions.runner.*", present=False, ci_runner=True),
            Watched(kind="container", name="codeb-cms", present=False, runtime="docker"),
            Watched(kind="container", name="codeb-redis", present=None, error="podman hung"),
        ]
    )
    assert [f.title for f in run("watched.missing", fleet(s))] == ["CI 러너 없음", "컨테이너 없음"]


@pytest.mark.parametrize(
    ("kind", "state", "priority"),
    [
        ("unit", "failed", "High"),
        ("unit", "inactive", "High"),
        ("container", "exited", "High"),
        ("unit", "activating", "Medium"),
        ("container", "paused", "Medium"),
        ("unit", "active", None),
        ("container", "running", None),
    ],
)
def test_watched_down(kind: str, state: str, priority: str | None) -> None:
    s = server(watched=[Watched(kind=kind, name="codeb-dashboard", present=True, state=state)])
    found = run("watched.down", fleet(s))
    assert [f.priority.value for f in found] == ([priority] if priority else [])
    if priority:
        what = "서비스" if kind == "unit" else "컨테이너"
        assert (found[0].title, plain(found[0].description)) == (
            f"{what} 중단",
            f"`codeb-dashboard` {state}",
        )


def test_a_watched_outage_is_reported_once() -> None:
    s = server(
        services=[Service(unit="codeb-watchdog.service", active="failed", sub="failed")],
        containers=[Container(runtime="docker", name="codeb-cms", image="cms:1", state="exited")],
        watched=[
            Watched(
                kind="unit",
                name="codeb-watchdog",
                unit="codeb-watchdog.service",
                present=True,
                state="failed",
            ),
            Watched(kind="container", name="codeb-cms", present=True, state="exited"),
        ],
    )
    assert len(run("watched.down", fleet(s))) == 2
    assert run("service.failed", fleet(s)) == []
    assert run("container.down", fleet(s)) == []


# backup.missing / backup.unreadable / backup.stale ----------------------------------------


def _backup_server(**backup: Any) -> Server:
    return server("n4", role="Backup", backups=[BackupDir(path="/opt/codeb/backups", **backup)])


def test_empty_backup_directory() -> None:
    [f] = run("backup.missing", fleet(_backup_server(exists=True, files=0)))
    assert row(f) == (
        "High",
        "⚠️",
        "백업 미설정",
        "n4",
        "`/opt/codeb/backups` 비어있음",
        "백업 자동화 설정",
    )
    assert f.summary == "백업 디렉토리 비어있음"


def test_absent_backup_directory() -> None:
    [f] = run("backup.missing", fleet(_backup_server(exists=False)))
    assert plain(f.description) == "`/opt/codeb/backups` 없음"


def test_backup_with_files_is_not_missing() -> None:
    fresh = _backup_server(exists=True, files=3, newest_mtime=AT - timedelta(hours=2))
    assert run("backup.missing", fleet(fresh)) == []


def test_unreadable_backup_directory() -> None:
    s = _backup_server(exists=True, files=0)
    s.backups[0] = s.backups[0].model_copy(update={"error": "permission denied"})
    [f] = run("backup.unreadable", fleet(s))
    assert plain(f.description) == "`/opt/codeb/backups`: 권한 없음"
    assert run("backup.missing", fleet(s)) == []  # unknown is not "empty"


@pytest.mark.parametrize(
    ("hours", "max_age", "fires"),
    [(25, None, False), (27, None, True), (27, 48, False), (50, 48, True)],
)
def test_stale_backup(hours: float, max_age: float | None, fires: bool) -> None:
    s = _backup_server(
        exists=True, files=3, newest_mtime=AT - timedelta(hours=hours), max_age_hours=max_age
    )
    found = run("backup.stale", fleet(s))
    assert bool(found) == fires
    if fires:
        assert plain(found[0].description).startswith("`/opt/codeb/backups` 최근 백업 ")


# centrifugo.* -----------------------------------------------------------------------------


def _centrifugo(**facts: Any) -> Server:
    return server("n2", role="Streaming", centrifugo=Centrifugo(**facts))


def test_centrifugo_any_origin() -> None:
    [f] = run("centrifugo.allowed_origins_any", fleet(_centrifugo(allowed_origins=["*"])))
    assert row(f) == (
        "High",
        "⚠️",
        "Centrifugo 보안",
        "n2",
        "`allowed_origins: *`",
        "도메인 명시적 설정",
    )


@pytest.mark.parametrize("origins", [["https://videopick.example"], [], None])
def test_centrifugo_named_origins_are_fine(origins: list[str] | None) -> None:
    assert run("centrifugo.allowed_origins_any", fleet(_centrifugo(allowed_origins=origins))) == []


def test_centrifugo_down() -> None:
    [f] = run("centrifugo.down", fleet(_centrifugo(unit="centrifugo.service", active="failed")))
    assert row(f)[:5] == ("High", "❌", "Centrifugo 중단", "n2", "`centrifugo.service: failed`")
    assert run("centrifugo.down", fleet(_centrifugo(active="active"))) == []


@pytest.mark.parametrize(
    ("facts", "fires"),
    [
        (dict(active="active", health="unreachable: Connection refused"), True),
        (dict(active="active", health="HTTP 502"), True),
        (dict(active="active", health="ok"), False),
        (dict(active="active", health="disabled"), False),  # endpoint off in its config
        (dict(active="failed", health="unreachable: Connection refused"), False),  # down says it
        (dict(active="active"), False),  # health not probed
    ],
)
def test_centrifugo_unhealthy(facts: dict, fires: bool) -> None:
    found = run("centrifugo.unhealthy", fleet(_centrifugo(**facts)))
    assert bool(found) == fires
    if fires:
        assert row(found[0])[:5] == (
            "High",
            "❌",
            "Centrifugo 응답 없음",
            "n2",
            f"/health: `{facts['health']}`",
        )


# postgres.* / redis.* ---------------------------------------------------------------------


def test_redis_wants_a_password_we_lack() -> None:
    rd = Redis(
        running=True,
        runtime="podman",
        container="codeb-redis",
        auth_required=True,
        authenticated=False,
        error="AUTH required; no password configured",
    )
    [f] = run("redis.auth_no_password", fleet(server("n3", redis=rd)))
    assert row(f) == (
        "Medium",
        None,
        "Redis 인증",
        "n3",
        "인증 설정됨 - CLI에서 접근 불가",
        "환경변수에 비밀번호 추가",
    )


@pytest.mark.parametrize(
    "facts",
    [dict(auth_required=True, authenticated=True), dict(auth_required=False), dict(running=False)],
)
def test_redis_auth_quiet(facts: dict) -> None:
    rd = Redis(**{"running": True, **facts})
    assert run("redis.auth_no_password", fleet(server("n3", redis=rd))) == []


def test_postgres_database_list_unavailable() -> None:
    pg = PostgreSQL(
        running=True,
        runtime="podman",
        container="codeb-postgres",
        error='FATAL:  role "root" does not exist',
    )
    [f] = run("postgres.db_list_unavailable", fleet(server("n3", postgresql=pg)))
    assert row(f) == (
        "Medium",
        None,
        "DB 모니터링",
        "n3",
        "데이터베이스 목록 확인 필요",
        "pg_stat 모니터링 설정",
    )
    listed = pg.model_copy(update={"databases": [], "error": None})
    assert run("postgres.db_list_unavailable", fleet(server("n3", postgresql=listed))) == []


@pytest.mark.parametrize(
    ("connections", "priority"), [(79, None), (80, "Medium"), (96, "High"), (None, None)]
)
def test_postgres_connections_high(connections: int | None, priority: str | None) -> None:
    pg = PostgreSQL(running=True, databases=[], connections=connections, max_connections=100)
    found = run("postgres.connections_high", fleet(server("n3", postgresql=pg)))
    assert [f.priority.value for f in found] == ([priority] if priority else [])
    if priority:
        assert plain(found[0].description) == f"{connections} / 100 ({connections}%)"


def test_database_down() -> None:
    pg = PostgreSQL(
        running=False, runtime="podman", container="codeb-postgres", error="no response"
    )
    rd = Redis(running=False, error="Could not connect to Redis at 127.0.0.1:6379")
    s = server("n3", postgresql=pg, redis=rd)
    [p] = run("postgres.down", fleet(s))
    [r] = run("redis.down", fleet(s))
    assert row(p)[:5] == ("High", "❌", "PostgreSQL 중단", "n3", "`codeb-postgres`: 응답 없음")
    assert plain(r.description) == "호스트: 연결 거부"
    pg = pg.model_copy(update={"error": "server closed the connection unexpectedly"})
    [p] = run("postgres.down", fleet(server("n3", postgresql=pg)))
    # No Korean words for it: the error itself, as collected.
    assert plain(p.description) == "`codeb-postgres`: `server closed the connection unexpectedly`"
    assert run("postgres.db_list_unavailable", fleet(s)) == []  # down says it already


# resources.low_usage ----------------------------------------------------------------------


def test_low_usage_over_the_whole_fleet() -> None:
    quiet = dict(mem_total=16 * GiB, load=(0.3, 0.2, 0.1))
    [f] = run(
        "resources.low_usage",
        fleet(
            server("n1", mem_used=int(1.55 * GiB), **quiet),
            server("n2", mem_used=400 * MiB, **quiet),
        ),
    )
    assert row(f) == (
        "Low",
        None,
        "리소스 여유",
        "전체",
        "모든 서버 리소스 10% 미만 사용",
        "현재 스케일 적정",
    )


@pytest.mark.parametrize(
    "other",
    [
        dict(mem_total=10 * GiB, mem_used=GiB),  # exactly 10% is not under 10%
        dict(load=(0.5, 0.4, 0.3)),  # 0.1 per CPU
    ],
)
def test_low_usage_needs_every_server_under(other: dict) -> None:
    snapshot = fleet(server("n1", mem_used=GiB), server("n2", **other))
    assert run("resources.low_usage", snapshot) == []


def test_low_usage_not_claimed_for_servers_not_measured() -> None:
    down = Server(name="n2", host="h", role="App", reachable=False, error="refused")
    assert run("resources.low_usage", fleet(server("n1", mem_used=GiB), down)) == []


def test_low_usage_threshold_is_configurable() -> None:
    [f] = run(
        "resources.low_usage", fleet(server(mem_used=3 * GiB)), Thresholds(low_usage_below=25)
    )
    assert plain(f.description) == "모든 서버 리소스 25% 미만 사용"


# server.smaller_spec ----------------------------------------------------------------------


def test_smaller_backup_server() -> None:
    big = dict(mem_total=16_355_432 * 1024)
    snapshot = fleet(
        server("n1", **big),
        server("n2", **big),
        server("n3", **big),
        server("n4", role="Backup", mem_total=8_126_000 * 1024),
    )
    [f] = run("server.smaller_spec", snapshot)
    assert row(f) == (
        "Low",
        None,
        "n4 스펙",
        "n4",
        "7.7GB RAM (다른 서버 15GB)",
        "백업 서버로 적절",
    )
    assert f.step is None


def test_smaller_server_of_another_role_asks_for_a_check() -> None:
    snapshot = fleet(
        server("n1", mem_total=32 * GiB),
        server("n2", mem_total=32 * GiB),
        server("n3", role="App Server", mem_total=8 * GiB),
    )
    [f] = run("server.smaller_spec", snapshot)
    assert (f.server, f.action, plain(f.description)) == (
        "n3",
        "역할 대비 사양 확인",
        "8GB RAM (다른 서버 32GB)",
    )


def test_equal_servers_have_no_smaller_spec() -> None:
    assert run("server.smaller_spec", fleet(server("n1"), server("n2", mem_total=14 * GiB))) == []
    assert run("server.smaller_spec", fleet(server("n1", mem_total=GiB))) == []


def test_unreachable_servers_raise_only_unreachable() -> None:
    down = Server(
        name="n1",
        host="h",
        role="App",
        reachable=False,
        error="refused",
        redis=Redis(running=False),
        backups=[BackupDir(path="/b", exists=False)],
    )
    raised = {r.id for r in RULES if run(r.id, fleet(down))}
    assert raised == {"server.unreachable"}


def test_priorities_are_the_three_of_section_5() -> None:
    assert [p.value for p in Priority] == ["High", "Medium", "Low"]
