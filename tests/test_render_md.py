"""The Markdown report: the reference's structure, and collected text that stays text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import markdown
import pytest
from test_render_sample import HOSTILE, analysis_of, app_server, fleet, hostile_fleet

from codeb_report.analysis import analyse
from codeb_report.render.base import Report
from codeb_report.render.escape import code, md
from codeb_report.snapshot import Server

CELL_SPLIT = re.compile(r"(?<!\\)\|")


def render(snapshot, analysis) -> str:
    return Report(snapshot, analysis).markdown


class CellText(HTMLParser):
    """The text of every table cell and list item, as a reader sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._depth = 0
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("td", "li", "p"):
            self._depth += 1
            self._buf = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "li", "p") and self._depth:
            self._depth -= 1
            self.cells.append("".join(self._buf))

    def handle_data(self, data: str) -> None:
        if self._depth:
            self._buf.append(data)


def shown(markdown_text: str) -> list[str]:
    """What python-markdown makes of a Markdown text: the visible text per cell/item."""
    parser = CellText()
    parser.feed(markdown.markdown(markdown_text, extensions=["tables"]))
    return parser.cells


@pytest.mark.parametrize(
    "value", [*HOSTILE.values(), "1. x", "- y", "---", "&lt;", "~~s~~", "pg_stat", "_x_", "a_b_c_"]
)
def test_escaped_value_reads_as_itself_in_a_table_cell(value: str) -> None:
    table = f"| a | b |\n|---|---|\n| {md(value)} | {code(value)} |\n"
    assert shown(table) == [value.replace("\n", " ")] * 2


@pytest.mark.parametrize("value", [*HOSTILE.values(), "1. x", "- y", "---", "# h"])
def test_escaped_value_reads_as_itself_in_a_list_item(value: str) -> None:
    assert shown(f"- {md(value)}\n") == [value.replace("\n", " ")]


def test_code_span_outlasts_backticks_inside_it() -> None:
    assert str(code("a``b")) == "``` a``b ```"
    assert shown(f"x {code('a``b')}") == ["x a``b"]


def test_sections_follow_the_reference_numbered_in_order() -> None:
    snapshot = fleet()
    text = render(snapshot, analysis_of(snapshot))
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings == [
        "1. 서버 현황 요약",
        "2. 서버별 상세 분석",
        "3. Vultr CLI 오토스케일링 기능 분석",
        "4. 오토스케일링 구현 권장사항",
        "5. 즉시 개선 필요 사항",
        "6. 결론",
    ]
    assert re.findall(r"^### 5\.\d .+$", text, re.M) == [
        "### 5.1 High Priority",
        "### 5.2 Medium Priority",
        "### 5.3 Low Priority",
    ]
    # Without a [vultr] table sections 3 and 4 say what the account would add.
    vultr = text.split("## 3. ")[1].split("## 4. ")[0]
    assert "**계정 데이터 없음**: 설정 파일에 `[vultr]` 표가 없어" in vultr
    assert "`VULTR_API_KEY`" in vultr and "`~/.vultr-cli.yaml`" in vultr
    assert "**Vultr CLI 버전**: 확인 안 함 (`[vultr]` 설정 없음)" in text
    assert text.startswith("# CodeB 서버 인프라 현황 리포트\n")
    assert "**생성일**: 2025-12-20" in text
    assert "**분석자**: codeb-report 0.1.0" in text


def test_every_table_row_has_its_header_s_column_count() -> None:
    snapshot, analysis = hostile_fleet()
    for text in (render(snapshot, analysis), render(fleet(), analysis_of(fleet()))):
        tables = re.findall(r"(?:^\|.*\|\n)+", text, re.M)
        assert len(tables) >= 5
        for table in tables:
            widths = {len(CELL_SPLIT.split(row)) for row in table.splitlines()}
            assert len(widths) == 1, table


def test_server_details_carry_the_figures_and_states() -> None:
    snapshot = fleet()
    text = render(snapshot, analysis_of(snapshot))
    assert "| **n1** | n1-app | 192.0.2.10 | App Server | ✅ Active | 80일 |" in text
    assert "### n1 - App Server (192.0.2.10)" in text
    assert "| **Memory** | 15GB (Total) | 1.5GB 사용 (10%) | ✅ 여유 |" in text
    assert "| codeb-dashboard | 3100→3000 | ✅ Up | 25시간 |" in text
    assert "중지된 컨테이너: `old-job` (❌ Exited)" in text
    assert "| codeb-watchdog | ✅ Active | 워치독 모니터 |" in text
    assert "| 3100 | 0.0.0.0, :: | docker-proxy | codeb-dashboard |" in text
    assert "| **상태** | ✅ Active (1일 18시간) |" in text
    assert "| **CPU 시간** | 3분 23초 |" in text
    assert "| **Redis** | codeb-redis | ✅ Running (Podman, Auth 필요) |" in text
    assert "| `/opt/codeb/backups` | 0 | 0B | - | - |" in text


def test_unreachable_server_shows_the_cross_and_the_reason() -> None:
    snapshot = fleet()
    text = render(snapshot, analysis_of(snapshot))
    assert "| **n5** | n5.example.test | - | Spare | ❌ 연결 실패 | - |" in text
    section = text.split("### n5 - Spare Server (n5.example.test)")[1].split("---")[0]
    assert "**상태**: ❌ 연결 실패\n" in section
    assert "**원인**: `connection refused`" in section
    assert "리소스 현황" not in section


def test_an_unreachable_servers_address_is_not_its_hostname() -> None:
    """호스트명 is what the server calls itself; not collected, it is unknown (-), never
    the address the IP column already shows."""
    down = Server(
        name="n6", host="203.0.113.9", address="203.0.113.9", role="Backup", reachable=False,
        error="connection refused",
    )  # fmt: skip
    v6 = down.model_copy(update={"name": "n7", "host": "2001:db8::7", "address": None})
    snapshot = fleet().model_copy(update={"servers": [*fleet().servers, down, v6]})
    text = render(snapshot, analysis_of(snapshot))
    assert "| **n6** | - | 203.0.113.9 | Backup | ❌ 연결 실패 | - |" in text
    assert "| **n7** | - | - | Backup | ❌ 연결 실패 | - |" in text


def test_a_server_without_a_role_is_headed_server_in_korean() -> None:
    """The configuration's default role is the word "server": not a role to print."""
    plain = app_server("n1").model_copy(update={"role": "server"})
    snapshot = fleet().model_copy(update={"servers": [plain]})
    text = render(snapshot, analysis_of(snapshot))
    assert "| **n1** | n1-app | 192.0.2.10 | - | " in text
    assert "### n1 - 서버 (192.0.2.10)" in text
    assert "| server |" not in text and " - server (" not in text


def test_skipped_probe_is_said_where_its_rows_would_be() -> None:
    snapshot = fleet()
    text = render(snapshot, analysis_of(snapshot))
    n2 = text.split("### n2 - ")[1].split("### n3 - ")[0]
    containers = n2.split("#### 실행 중인 컨테이너")[1].split("####")[0]
    assert containers.strip() == "- docker 미설치로 수집하지 않음"


def test_failed_probe_gives_its_error() -> None:
    from codeb_report.snapshot import ProbeOutcome, ProbeStatus

    snapshot = fleet()
    snapshot.servers[0].probes.append(
        ProbeOutcome(probe="services", status=ProbeStatus.FAILED, reason="timed out after 10 s")
    )
    text = render(snapshot, analysis_of(snapshot))
    services = text.split("#### 시스템 서비스")[1].split("####")[0]
    assert "- ❌ 시스템 서비스 수집 실패: 시간 초과 (10초)\n" in services


def test_probe_reasons_are_korean_with_the_original_beside_them() -> None:
    from codeb_report.snapshot import ProbeOutcome, ProbeStatus

    daemon = (
        "exit 1: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
        "Is the docker daemon running?"
    )
    snapshot = fleet()
    snapshot.servers[0].probes += [
        ProbeOutcome(probe="docker", status=ProbeStatus.FAILED, reason=daemon),
        ProbeOutcome(
            probe="services",
            status=ProbeStatus.SKIPPED,
            reason="systemd is not the init system (PID 1)",
        ),
        ProbeOutcome(probe="ports", status=ProbeStatus.FAILED, reason="exit 7: odd thing"),
    ]
    text = render(snapshot, analysis_of(snapshot))
    n1 = text.split("### n1 - ")[1].split("### n2 - ")[0]
    assert f"- ❌ Docker 컨테이너 수집 실패: Docker 데몬 미실행 (`{daemon}`)\n" in n1
    assert "- 시스템 서비스 수집하지 않음: systemd 미사용 (PID 1 아님)\n" in n1
    assert "- ❌ 포트 수집 실패: `exit 7: odd thing`\n" in n1  # no Korean words: as collected
    assert "services 수집" not in text and "not the init system" not in text


def test_long_connection_error_stays_out_of_the_summary_table() -> None:
    from codeb_report.snapshot import Server

    error = (
        "호스트 키 미확인: [10.9.9.9]:2222 is not in known_hosts (ssh-ed25519 "
        "SHA256:Xy9+abc/DEF0123456789ghijklmnopqrstuvwxyzABCD); if that is the server's key, "
        "rerun with --accept-new to record it in /root/.ssh/known_hosts, or add it with: "
        "ssh-keyscan -p 2222 10.9.9.9 >> /root/.ssh/known_hosts"
    )
    down = Server(name="n9", host="10.9.9.9", role="App", reachable=False, error=error)
    snapshot = fleet().model_copy(update={"servers": [down]})
    text = render(snapshot, analyse(snapshot))
    row = next(line for line in text.splitlines() if line.startswith("| **n9**"))
    assert row.endswith("| ❌ 연결 실패: 호스트 키 미확인 (SHA256:Xy9+abc/DEF0…) | - |")
    assert "ssh-keyscan" not in row and "known\\_hosts" not in row
    section = text.split("### n9 - App Server (10.9.9.9)")[1]
    assert "ssh-keyscan -p 2222 10.9.9.9" in section  # the fix, in section 2


def test_findings_fill_their_priority_tables() -> None:
    snapshot = fleet()
    text = render(snapshot, analysis_of(snapshot))
    high = text.split("### 5.1 High Priority")[1].split("### 5.2")[0]
    assert "| ⚠️ 백업 미설정 | n4 | `/opt/codeb/backups` 비어있음 | 백업 자동화 설정 |" in high
    medium = text.split("### 5.2 Medium Priority")[1].split("### 5.3")[0]
    assert medium.strip() == "해당 사항 없음"
    conclusion = text.split("## 6. 결론")[1]
    assert "- ✅ **안정성**: 모든 4대 서버 정상 가동" in conclusion
    assert "1. n4 백업 자동화 설정\n2. 모니터링 대시보드 구축" in conclusion


def test_hostile_names_never_become_markup() -> None:
    snapshot, analysis = hostile_fleet()
    text = render(snapshot, analysis)
    cells = shown(text)
    for value in ("a|b", "<script>alert(1)</script>", "**x**", "tick`name", "line1 line2"):
        assert any(value in c for c in cells), value
    assert "# not a heading" in cells
    assert not re.search(r"^#{1,6} not a heading", text, re.M)
    assert "경로 <script>alert(1)</script> 그리고 [click](http://127.0.0.1:9/x)" in cells


def test_configured_title_zone_and_descriptions_are_used() -> None:
    from zoneinfo import ZoneInfo

    from codeb_report.render import RenderOptions

    late = fleet().collected_at.replace(hour=20)  # 2025-12-20 20:00 UTC is the 21st in Seoul
    snapshot = fleet().model_copy(update={"collected_at": late})
    options = RenderOptions(
        title="우리 서버 | 현황",
        zone=ZoneInfo("Asia/Seoul"),
        ports={3100: "대시보드"},
        units={"codeb-watchdog": "감시 데몬"},
    )
    text = Report(snapshot, analysis_of(snapshot), options).markdown
    assert text.startswith("# 우리 서버 \\| 현황\n")
    assert "**생성일**: 2025-12-21" in text
    assert "| 3100 | 0.0.0.0, :: | docker-proxy | codeb-dashboard 컨테이너 |" not in text
    assert "| 3100 | 0.0.0.0, :: | docker-proxy | 대시보드 |" in text
    assert "| codeb-watchdog | ✅ Active | 감시 데몬 |" in text


def test_watched_units_lead_the_service_table_and_missing_ones_show() -> None:
    from codeb_report.snapshot import Service, Watched

    services = [
        Service(unit="cron.service", active="active", sub="running", description="cron"),
        Service(unit="ufw.service", active="inactive", sub="dead", description="firewall"),
        Service(unit="bad.service", active="failed", sub="failed", description="broken"),
        Service(unit="codeb-watchdog.service", active="active", sub="running", description="wd"),
    ]
    watched = [
        Watched(kind="unit", name="codeb-watchdog", unit="codeb-watchdog.service", present=True,
                state="active"),
        Watched(kind="unit", name="codeb-protection", present=False),
        Watched(kind="container", name="codeb-cms", present=False),
    ]  # fmt: skip
    server = app_server("n1", services=services, watched=watched)
    snapshot = fleet().model_copy(update={"servers": [server]})
    text = render(snapshot, analysis_of(snapshot))
    table = text.split("#### 시스템 서비스")[1].split("####")[0]
    rows = [
        line.split(" | ")[0].strip("| ") for line in table.splitlines() if line.startswith("| ")
    ]
    assert rows[1:] == ["codeb-watchdog", "codeb-protection", "bad"]  # [0] is the header
    assert "| codeb-protection | ❌ 없음 | - |" in table
    assert "❌ 찾을 수 없는 컨테이너: `codeb-cms`" in text
    unwatched = app_server("n1", services=services)
    text = render(snapshot.model_copy(update={"servers": [unwatched]}), analysis_of(snapshot))
    table = text.split("#### 시스템 서비스")[1].split("####")[0]
    assert "cron" in table and "bad" in table and "ufw" not in table


def test_backup_folder_that_cannot_be_read_says_so() -> None:
    from codeb_report.snapshot import BackupDir

    server = app_server(
        "n4", backups=[BackupDir(path="/srv/b", exists=True, error="permission denied")]
    )
    snapshot = fleet().model_copy(update={"servers": [server]})
    text = render(snapshot, analysis_of(snapshot))
    assert "| `/srv/b` | ⚠️ 확인 불가: 권한 없음 | - | - | - |" in text


def test_other_runtime_missing_is_no_news_when_containers_were_found() -> None:
    from codeb_report.snapshot import ProbeOutcome, ProbeStatus

    skipped = ProbeOutcome(
        probe="podman", status=ProbeStatus.SKIPPED, reason="podman not installed"
    )
    snapshot = fleet().model_copy(update={"servers": [app_server("n1", probes=[skipped])]})
    text = render(snapshot, analysis_of(snapshot))
    assert "podman 미설치" not in text
    snapshot = fleet().model_copy(
        update={"servers": [app_server("n1", probes=[skipped], containers=[])]}
    )
    assert "- podman 미설치로 수집하지 않음" in render(snapshot, analysis_of(snapshot))


def test_database_details_follow_their_table() -> None:
    from codeb_report.snapshot import Database, PostgreSQL, Redis

    pg = PostgreSQL(
        running=True,
        version="15.4",
        databases=[
            Database(name="app|x", size=1536 * 1024**2),
            Database(name="cms", size=8 * 1024**2),
        ],
        connections=12,
        max_connections=100,
    )
    redis = Redis(running=False, runtime="docker", container="r", memory_used=1024**2, error="boom")
    server = app_server("n3", postgresql=pg, redis=redis)
    snapshot = fleet().model_copy(update={"servers": [server]})
    text = render(snapshot, analysis_of(snapshot))
    assert "| **PostgreSQL** | - | ✅ Running (Host) |" in text
    assert "| **Redis** | r | ❌ Stopped (Docker) |" in text
    assert "- **PostgreSQL** 15.4: 데이터베이스 2개 (app\\|x 1.5GB, cms 8MB), 연결 12/100\n" in text
    assert "- **Redis**: 메모리 사용 1MB — ⚠️ `boom`\n" in text  # no Korean words: as collected
    redis = redis.model_copy(update={"error": "AUTH required; no password configured"})
    server = app_server("n3", redis=redis)
    text = render(fleet().model_copy(update={"servers": [server]}), analysis_of(snapshot))
    assert "- **Redis**: 메모리 사용 1MB — ⚠️ Redis 인증 필요 — 비밀번호 미설정\n" in text


@pytest.mark.parametrize(
    ("role", "heading"),
    [
        ("App Server", "App Server"),
        ("Streaming", "Streaming Server"),
        ("Storage (DB)", "Storage Server"),
        ("Backup", "Backup Server"),
        ("web server", "web server"),
        ("(DB)", "(DB) Server"),
        ("백업", "백업 서버"),
        ("스토리지 서버 (DB)", "스토리지 서버"),
        ("server", "서버"),
        ("Server", "서버"),
    ],
)
def test_section_2_heading_names_the_role_as_a_server(role: str, heading: str) -> None:
    from codeb_report.render.view import heading as heading_of

    assert heading_of(role) == heading


def test_port_description_does_not_repeat_the_process() -> None:
    from codeb_report.render.view import PortRow

    def row(process: str | None, **kw: str | None) -> PortRow:
        given = {"described": None, "container": None, "service": None} | kw
        return PortRow(3001, "0.0.0.0", process, **given)

    assert row("docker-proxy", described="docker-proxy").description is None
    assert row("docker-proxy", described="docker-proxy", container="web").description == "web"
    assert row("docker-proxy", container="codeb-cms-redis").description == "codeb-cms-redis"
    assert row("centrifugo", service="Centrifugo").description is None
    assert row("node", described="SSOT Registry").description == "SSOT Registry"
    assert row(None, service="SSH").description == "SSH"


def test_database_error_in_korean_with_the_original_once() -> None:
    from codeb_report.snapshot import PostgreSQL

    pg = PostgreSQL(running=True, error='FATAL:  role "root" does not exist')
    server = app_server("n3", postgresql=pg)
    snapshot = fleet().model_copy(update={"servers": [server]})
    text = render(snapshot, analysis_of(snapshot))
    assert '- **PostgreSQL** — ⚠️ DB 역할 root 없음 (`FATAL:  role "root" does not exist`)\n' in text


def test_docker_being_podman_is_no_news_when_podman_listed_the_containers() -> None:
    from codeb_report.snapshot import ProbeOutcome, ProbeStatus

    reason = "docker is podman's docker command (podman-docker)"
    snapshot = fleet()
    n1 = snapshot.servers[0]
    assert n1.containers
    n1.probes.append(ProbeOutcome(probe="docker", status=ProbeStatus.SKIPPED, reason=reason))
    text = render(snapshot, analysis_of(snapshot))
    assert "Podman으로 수집" not in text and "podman-docker" not in text
    n1.containers = []
    text = render(snapshot, analysis_of(snapshot))
    assert "- Docker 컨테이너 수집하지 않음: docker 명령이 Podman (Podman으로 수집)\n" in text


def test_report_date_is_the_fleet_s_day_without_a_configuration() -> None:
    # 22:00 UTC on the 19th is 07:00 on the 20th in Seoul: the day the folder is named for.
    snapshot = fleet()
    snapshot.collected_at = datetime(2025, 12, 19, 22, 0, tzinfo=UTC)
    assert "**생성일**: 2025-12-20" in render(snapshot, analyse(snapshot))
