"""The example fleet (examples/fleet-snapshot.json) is valid and, analysed, says what the
reference report (shared/reference/codeb-infra-report-2025-12-20.md) says in sections 1, 2,
5 and 6. The rendered report is checked against the same facts in test_example_report.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from analysis_fleet import plain

from codeb_report import units
from codeb_report.analysis import Analysis, analyse
from codeb_report.snapshot import Snapshot, dumps, load

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet-snapshot.json"

# 1. 서버 현황 요약
SERVERS = [
    ("n1", "videopick-phase2-app", "158.247.203.55", "App Server", "✅ Active", "80일"),
    ("n2", "videopick-phase2-streaming", "141.164.42.213", "Streaming", "✅ Active", "80일"),
    ("n3", "videopick-phase2-storage", "64.176.226.119", "Storage (DB)", "✅ Active", "80일"),
    ("n4", "videopick-phase2-backup", "141.164.37.63", "Backup", "✅ Active", "32일"),
]

# 2. 리소스 현황 of each server
RESOURCES = {
    "n1": [
        ("Memory", "15GB (Total)", "1.5GB 사용 (10%)", "✅ 여유"),
        ("Disk", "300GB", "39GB 사용 (14%)", "✅ 여유"),
        ("Load Average", "0.09, 0.05, 0.02", "매우 낮음", "✅ 안정"),
        ("Swap", "8GB", "3MB 사용 (0%)", "✅ 정상"),
    ],
    "n2": [
        ("Memory", "15GB (Total)", "425MB 사용 (3%)", "✅ 매우 여유"),
        ("Disk", "300GB", "20GB 사용 (7%)", "✅ 여유"),
        ("Load Average", "0.00, 0.00, 0.00", "거의 없음", "✅ 유휴"),
    ],
    "n3": [
        ("Memory", "15GB (Total)", "1.3GB 사용 (9%)", "✅ 여유"),
        ("Disk", "300GB", "30GB 사용 (11%)", "✅ 여유"),
        ("Load Average", "0.13, 0.12, 0.14", "낮음", "✅ 안정"),
    ],
    "n4": [
        ("Memory", "7.7GB (Total)", "363MB 사용 (5%)", "✅ 여유"),
        ("Disk", "150GB", "20GB 사용 (14%)", "✅ 여유"),
        ("Load Average", "0.08, 0.02, 0.01", "거의 없음", "✅ 유휴"),
    ],
}

# 2. n1 실행 중인 컨테이너: name, ports, state, uptime
CONTAINERS = [
    ("codeb-dashboard", "3100→3000", "✅ Up", "25시간"),
    ("codeb-cms", "3202→3000", "✅ Up", "2일"),
    ("codeb-cms-postgres", "5433→5432", "✅ Up", "2일"),
    ("codeb-cms-redis", "6380→6379", "✅ Up", "2일"),
    ("powerdns-postgres", "5434→5432", "✅ Up", "47시간"),
]

# 2. n1 시스템 서비스 (the runner's organisation is elided as * in the reference)
SERVICES = [
    ("actions.runner.*.codeb-app-server", "✅ Active", "GitHub Actions Self-hosted Runner"),
    ("codeb-auto-scanner", "✅ Active", "주기적 서버 헬스 모니터"),
    ("codeb-dashboard", "✅ Active", "대시보드 서비스"),
    ("codeb-protection", "✅ Active", "보호 데몬"),
    ("codeb-watchdog", "✅ Active", "워치독 모니터"),
]

# 2. 주의사항 / 백업 현황 bullets
NOTES = {
    "n2": [
        "⚠️ `allowed_origins: *` 설정 - 보안 강화 권장",
        "WebSocket endpoint: `/connection/websocket`",
        "API endpoint: `:8000`",
    ],
    "n3": ["⚠️ Redis 인증 활성화됨 (NOAUTH 에러 발생)", "PostgreSQL 데이터베이스 목록 접근 필요"],
    "n4": ["⚠️ `/opt/codeb/backups` 디렉토리 비어있음", "백업 자동화 설정 필요"],
}

# 5. 즉시 개선 필요 사항: priority, 항목, 서버, 설명, 조치
FINDINGS = [
    ("High", "⚠️ 백업 미설정", "n4", "`/opt/codeb/backups` 비어있음", "백업 자동화 설정"),
    ("High", "⚠️ Centrifugo 보안", "n2", "`allowed_origins: *`", "도메인 명시적 설정"),
    ("Medium", "Redis 인증", "n3", "인증 설정됨 - CLI에서 접근 불가", "환경변수에 비밀번호 추가"),
    ("Medium", "DB 모니터링", "n3", "데이터베이스 목록 확인 필요", "pg_stat 모니터링 설정"),
    ("Low", "리소스 여유", "전체", "모든 서버 리소스 10% 미만 사용", "현재 스케일 적정"),
    ("Low", "n4 스펙", "n4", "7.7GB RAM (다른 서버 15GB)", "백업 서버로 적절"),
]

# 6. 현재 상태 평가
ASSESSMENT = [
    "✅ **안정성**: 모든 4대 서버 정상 가동 (n1-n3: 80일, n4: 32일)",
    "✅ **리소스**: 전체적으로 10% 미만 사용 (스케일 아웃 필요 없음)",
    "✅ **서비스**: GitHub Actions Runner, Centrifugo, PostgreSQL, Redis 모두 정상",
    "⚠️ **백업**: n4 백업 디렉토리 비어있음 - 즉시 설정 필요",
]
FIRST_STEP = "n4 백업 자동화 설정"


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return load(EXAMPLE)


@pytest.fixture(scope="module")
def analysis(snapshot: Snapshot) -> Analysis:
    return analyse(snapshot)


def test_example_is_valid_and_canonical(snapshot: Snapshot) -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == dumps(snapshot)  # stable text, diffs cleanly


def test_servers_summary(snapshot: Snapshot, analysis: Analysis) -> None:
    got = [
        (s.name, s.system.hostname, s.address, s.role, a.state.label, a.uptime)
        for s, a in zip(snapshot.servers, analysis.servers, strict=True)
    ]
    assert got == SERVERS


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_resources(analysis: Analysis, name: str) -> None:
    rows = [(r.item, r.value, r.usage, r.status.label) for r in analysis.server(name).resources]
    assert rows == RESOURCES[name]


def test_n1_containers(snapshot: Snapshot, analysis: Analysis) -> None:
    n1 = snapshot.server("n1")
    got = [
        (
            c.name,
            ", ".join(f"{p.host_port}→{p.container_port}" for p in c.ports),
            analysis.server("n1").container_states[c.name].label,
            units.duration((snapshot.collected_at - c.started_at).total_seconds()),
        )
        for c in n1.containers
    ]
    assert sorted(got) == sorted(CONTAINERS)


def test_n1_services(snapshot: Snapshot, analysis: Analysis) -> None:
    """The units the configuration watches on n1, and the CI runner found by pattern."""
    judged = analysis.server("n1").service_states
    runner = re.compile(r"^actions\.runner\.[^.]+\.codeb-app-server$")
    got = []
    for w in snapshot.server("n1").watched:
        if w.kind != "unit":
            continue
        name = w.name.removesuffix(".service")
        if w.ci_runner and runner.match(name):
            name = "actions.runner.*.codeb-app-server"
        got.append((name, judged[w.unit].label, w.description))
    assert got == SERVICES
    assert all(w.present for w in snapshot.server("n1").watched)


def test_n1_ports(snapshot: Snapshot) -> None:
    ports = {(p.port, p.process) for p in snapshot.server("n1").ports}
    for port, process in [
        (3000, "next-server"),
        (3001, "docker-proxy"),
        (3101, "node"),
        (3102, "node"),
    ]:
        assert (port, process) in ports
    assert {3100, 3202, 5432, 5433, 5434} <= {p for p, _ in ports}


def test_n2_centrifugo(snapshot: Snapshot) -> None:
    c = snapshot.server("n2").centrifugo
    assert (c.version, c.go_version, c.engine.capitalize(), c.port) == (
        "5.4.9",
        "1.23.4",
        "Memory",
        8000,
    )
    assert c.active == "active"
    assert units.span((snapshot.collected_at - c.active_since).total_seconds()) == "1일 18시간"
    assert units.size_fine(c.memory_bytes) == "90.9MB"
    assert units.cpu_time(c.cpu_seconds) == "3분 23초"


def test_n3_databases(snapshot: Snapshot) -> None:
    n3 = snapshot.server("n3")
    assert (n3.postgresql.container, n3.postgresql.runtime, n3.postgresql.running) == (
        "codeb-postgres",
        "podman",
        True,
    )
    assert (n3.redis.container, n3.redis.runtime, n3.redis.running, n3.redis.auth_required) == (
        "codeb-redis",
        "podman",
        True,
        True,
    )


@pytest.mark.parametrize("name", sorted(NOTES))
def test_notes(analysis: Analysis, name: str) -> None:
    assert [plain(n) for n in analysis.server(name).notes] == NOTES[name]
    assert analysis.server("n1").notes == []


def test_findings(analysis: Analysis) -> None:
    got = [
        (
            f.priority.value,
            f"{f.icon} {f.title}" if f.icon else f.title,
            f.server,
            plain(f.description),
            f.action,
        )
        for f in analysis.findings
        if not f.rule.startswith("provider.")  # the account's own: see test_account_findings
    ]
    assert got == FINDINGS


def test_account_findings(analysis: Analysis) -> None:
    """The reference had no API key; with the example's account the right-sizing rule sees
    every server far below its plan and says so, as Low findings beside the reference's."""
    account = [(f.rule, f.server) for f in analysis.findings if f.rule.startswith("provider.")]
    assert account == [("provider.rightsize.down", name) for name in ("n1", "n2", "n3", "n4")]


def test_conclusion(analysis: Analysis) -> None:
    got = [f"{a.status.icon} **{a.topic}**: {a.text}" for a in analysis.assessment]
    assert got == ASSESSMENT
    assert analysis.next_steps[0] == FIRST_STEP
