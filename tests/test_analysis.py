"""analyse() as a whole: finding order, 주의사항 bullets, the derived conclusion."""

from __future__ import annotations

from analysis_fleet import GiB, fleet, plain, server

from codeb_report.analysis import analyse
from codeb_report.analysis.conclusion import name_ranges
from codeb_report.analysis.model import Level
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
    Snapshot,
    Watched,
)


def _down(name: str) -> Server:
    return Server(
        name=name, host=f"{name}.example", role="App", reachable=False, error="connection refused"
    )


def bullets(snapshot: Snapshot) -> dict[str, str]:
    return {a.topic: f"{a.status.icon} {a.text}" for a in analyse(snapshot).assessment}


def test_findings_sorted_by_priority_then_rule_then_server() -> None:
    snapshot = fleet(
        server("n10", disk_used=0.85),
        server("n2", disk_used=0.95, centrifugo=Centrifugo(allowed_origins=["*"])),
        server("n3", disk_used=0.85),
        _down("n9"),
    )
    got = [(f.priority.value, f.rule, f.server) for f in analyse(snapshot).findings]
    assert got == [
        ("High", "server.unreachable", "n9"),
        ("High", "disk.high", "n2"),
        ("High", "centrifugo.allowed_origins_any", "n2"),
        ("Medium", "disk.high", "n3"),
        ("Medium", "disk.high", "n10"),  # n3 before n10: names compare as numbers
    ]


def test_analysis_is_the_same_whatever_the_input_order() -> None:
    servers = [server("n1", disk_used=0.85), server("n2", disk_used=0.85)]
    a = analyse(fleet(*servers)).findings
    b = analyse(fleet(*reversed(servers))).findings
    assert a == b


def test_notes_gather_the_servers_rule_bullets_then_facts() -> None:
    c = Centrifugo(port=8000, allowed_origins=["*"], endpoints=["/connection/websocket", "/api"])
    n2 = analyse(fleet(server("n2", centrifugo=c))).server("n2")
    assert [plain(n) for n in n2.notes] == [
        "⚠️ `allowed_origins: *` 설정 - 보안 강화 권장",
        "WebSocket endpoint: `/connection/websocket`",
        "API endpoint: `:8000`",
    ]


def test_states_uptime_and_gaps_per_server() -> None:
    s = server(
        uptime=25 * 3600,
        containers=[Container(runtime="docker", name="web", image="web:1", state="exited")],
        services=[Service(unit="codeb-watchdog.service", active="active", sub="running")],
        probes=[
            ProbeOutcome(probe="podman", status=ProbeStatus.SKIPPED, reason="podman not installed")
        ],
    )
    judged = analyse(fleet(s, _down("n2")))
    n1, n2 = judged.server("n1"), judged.server("n2")
    assert (n1.state.label, n1.uptime) == ("✅ Active", "25시간")
    assert n1.container_states["web"].label == "❌ Exited"
    assert n1.service_states["codeb-watchdog.service"].label == "✅ Active"
    assert n1.skipped == ["podman: podman not installed"]
    assert (n2.state.label, n2.uptime, n2.resources) == (
        "❌ 연결 실패: 연결 거부",
        None,
        [],
    )


def test_stability_groups_uptimes() -> None:
    snapshot = fleet(server("n1"), server("n2"), server("n3"), server("n4", uptime=32 * 86400))
    assert bullets(snapshot)["안정성"] == "✅ 모든 4대 서버 정상 가동 (n1-n3: 80일, n4: 32일)"


def test_stability_of_a_single_server_does_not_say_all() -> None:
    assert bullets(fleet(server("local")))["안정성"] == "✅ 서버 1대 정상 가동 (local: 80일)"


def test_stability_names_unreachable_servers() -> None:
    snapshot = fleet(server("n1"), _down("n2"), server("n3"))
    assert bullets(snapshot)["안정성"] == "❌ 1대 서버 연결 실패 (n2), 2대 정상 가동"


def test_name_ranges() -> None:
    order = ["n1", "n2", "n3", "n4", "n5"]
    assert name_ranges(["n3", "n1", "n2", "n5"], order) == "n1-n3, n5"
    assert name_ranges(["n1", "n2"], order) == "n1, n2"


def test_resources_bullet_follows_the_figures() -> None:
    low = fleet(server("n1", mem_used=GiB), server("n2", mem_used=GiB))
    assert bullets(low)["리소스"] == "✅ 전체적으로 10% 미만 사용 (스케일 아웃 필요 없음)"
    busy = fleet(server("n1", mem_used=4 * GiB), server("n2", mem_used=4 * GiB))
    assert bullets(busy)["리소스"] == "✅ 모든 서버 임계치 이내"
    full = fleet(server("n1", disk_used=0.85), server("n2", mem_used=15 * GiB))
    assert bullets(full)["리소스"] == "❌ n2 메모리 94% 사용, n1 디스크 85% 사용 - 점검 필요"
    loaded = fleet(server("local", cpus=2, load=(0.4, 6.92, 2.53)))
    assert bullets(loaded)["리소스"] == "❌ local CPU 과부하 (Load 6.92) - 점검 필요"


def test_services_bullet_names_the_main_services() -> None:
    runner = Service(unit="actions.runner.org.app.service", active="active", sub="running")
    snapshot = fleet(
        server("n1", services=[runner]),
        server("n2", centrifugo=Centrifugo(active="active")),
        server("n3", postgresql=PostgreSQL(running=True, databases=[]), redis=Redis(running=True)),
    )
    assert bullets(snapshot)["서비스"] == (
        "✅ GitHub Actions Runner, Centrifugo, PostgreSQL, Redis 모두 정상"
    )


def test_services_bullet_turns_on_a_stopped_service() -> None:
    runner = Service(unit="actions.runner.org.app.service", active="inactive", sub="dead")
    snapshot = fleet(
        server("n1", services=[runner]),
        server("n3", redis=Redis(running=False, container="codeb-redis")),
    )
    assert bullets(snapshot)["서비스"] == "❌ n3 Redis 중단, GitHub Actions Runner 중지 - 확인 필요"


def test_services_bullet_reads_the_watched_runner() -> None:
    runner = Watched(
        kind="unit",
        name="actions.runner.org.app.service",
        present=True,
        state="active",
        ci_runner=True,
    )
    assert bullets(fleet(server("n1", watched=[runner])))["서비스"] == (
        "✅ GitHub Actions Runner 모두 정상"
    )
    stopped = runner.model_copy(update={"state": "failed"})
    assert bullets(fleet(server("n1", watched=[stopped])))["서비스"] == (
        "❌ n1 actions.runner.org.app.service failed - 확인 필요"
    )


def test_backup_bullet() -> None:
    empty = server("n4", role="Backup", backups=[BackupDir(path="/b", exists=True)])
    assert bullets(fleet(server("n1"), empty))["백업"] == (
        "⚠️ n4 백업 디렉토리 비어있음 - 즉시 설정 필요"
    )
    kept = server("n4", role="Backup", backups=[BackupDir(path="/b", exists=True, files=2)])
    assert bullets(fleet(kept))["백업"] == "✅ n4 백업 정상"
    assert "백업" not in bullets(fleet(server("n1")))  # nothing known, nothing said


def test_next_steps_come_from_high_and_medium_findings() -> None:
    snapshot = fleet(
        server("n1", mem_used=GiB, disk_used=0.85),
        server(
            "n4",
            role="Backup",
            mem_total=4 * GiB,
            mem_used=100 * 2**20,
            backups=[BackupDir(path="/b", exists=False)],
        ),
    )
    analysis = analyse(snapshot)
    assert [f.priority.value for f in analysis.findings] == ["High", "Medium", "Low", "Low"]
    # Low findings (리소스 여유, n4 스펙 of a backup server) ask for nothing.
    assert analysis.next_steps == ["n4 백업 자동화 설정", "n1 디스크 정리 또는 증설"]


def test_empty_fleet() -> None:
    analysis = analyse(fleet())
    assert (analysis.servers, analysis.findings, analysis.assessment, analysis.next_steps) == (
        [],
        [],
        [],
        [],
    )


def test_assessment_levels_carry_icons() -> None:
    a = analyse(fleet(_down("n1"))).assessment
    assert [(x.topic, x.status.level) for x in a] == [("안정성", Level.CRIT)]
