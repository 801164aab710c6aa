"""The example fleet rendered to Markdown carries, fact by fact, what the reference report
says in its sections 1 (서버 현황 요약), 2 (서버별 상세 분석), 5 (즉시 개선 필요 사항) and
6 (결론). The reference's facts are written out in test_example_snapshot.py.

Sections are found by title, not number: this report leaves out the reference's Vultr
sections 3 and 4, so its 즉시 개선 필요 사항 and 결론 come third and fourth.
"""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_example_snapshot import (
    ASSESSMENT,
    CONTAINERS,
    EXAMPLE,
    FINDINGS,
    FIRST_STEP,
    NOTES,
    RESOURCES,
    SERVERS,
    SERVICES,
)

from codeb_report.analysis import analyse
from codeb_report.config import load_config
from codeb_report.render import RenderOptions, render_report
from codeb_report.snapshot import load

CONFIG = EXAMPLE.parent / "codeb-report.toml"


def unescape(text: str) -> str:
    """Undo Markdown backslash escapes, so ``pg\\_stat`` compares as ``pg_stat``."""
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", text)


def section(md: str, title: str, level: int = 2) -> str:
    """The text under the heading that contains ``title``, up to the next one of its level."""
    marks = "#" * level
    pattern = rf"^{marks} [^\n]*{re.escape(title)}[^\n]*\n(.*?)(?=^{marks} |\Z)"
    match = re.search(pattern, md, re.M | re.S)
    assert match, f"no '{marks} …{title}…' heading"
    return match.group(1)


def table(text: str) -> list[tuple[str, ...]]:
    """The body rows of the first Markdown table in ``text``, cells unescaped, bold removed."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
        rows.append(tuple(unescape(c).replace("**", "") for c in cells))
    assert len(rows) >= 2, "no table"
    return rows[2:]  # header and the --- line


def bullets(text: str) -> list[str]:
    return [unescape(line[2:]) for line in text.splitlines() if line.startswith("- ")]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example rendered as ``codeb-report render --config examples/codeb-report.toml`` would."""
    config = load_config(CONFIG)
    snapshot = load(EXAMPLE)
    options = RenderOptions(
        title=config.report.title,
        zone=ZoneInfo(config.report.timezone),
        ports=config.descriptions.ports,
        units=config.descriptions.units,
        containers=config.descriptions.containers,
    )
    out = tmp_path_factory.mktemp("report")
    [path] = render_report(
        snapshot, analyse(snapshot, config.report.thresholds), ["md"], out, options
    )
    return path.read_text(encoding="utf-8")


def server_section(report: str, name: str) -> str:
    return section(section(report, "서버별 상세 분석"), f"{name} - ", level=3)


def test_header(report: str) -> None:
    assert report.startswith("# CodeB 서버 인프라 현황 리포트\n")
    assert "**생성일**: 2025-12-20" in report
    assert re.search(r"\*\*분석자\*\*: codeb-report \d+\.\d+", report)


def test_section_1_server_summary(report: str) -> None:
    assert table(section(report, "서버 현황 요약")) == SERVERS


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_section_2_resources(report: str, name: str) -> None:
    address = next(s[2] for s in SERVERS if s[0] == name)
    assert re.search(rf"^### {name} - .+ \({re.escape(address)}\)$", report, re.M)
    text = server_section(report, name)
    assert table(section(text, "리소스 현황", level=4)) == RESOURCES[name]


def test_section_2_n1_containers(report: str) -> None:
    rows = table(section(server_section(report, "n1"), "실행 중인 컨테이너", level=4))
    assert sorted(rows) == sorted(CONTAINERS)


def test_section_2_n1_services(report: str) -> None:
    rows = table(section(server_section(report, "n1"), "시스템 서비스", level=4))
    # The reference elides the runner's organisation: actions.runner.*.codeb-app-server.
    runner = re.compile(r"^actions\.runner\.[^.]+\.codeb-app-server$")
    rows = [
        ("actions.runner.*.codeb-app-server" if runner.match(r[0]) else r[0], *r[1:]) for r in rows
    ]
    assert rows == SERVICES


def test_section_2_n1_ports(report: str) -> None:
    rows = table(section(server_section(report, "n1"), "포트 사용 현황", level=4))
    described = {int(r[0]): " ".join(r[2:]) for r in rows}
    # 3000 - next-server (예약됨), 3001 - docker-proxy, 3100 - codeb-dashboard,
    # 3101 - node (SSOT Registry), 3102 - node (Domain Manager), 3202 - codeb-cms,
    # 5432-5434 - PostgreSQL instances
    expected = {
        3000: ("next-server", "예약됨"),
        3001: ("docker-proxy",),
        3100: ("codeb-dashboard",),
        3101: ("node", "SSOT Registry"),
        3102: ("node", "Domain Manager"),
        3202: ("codeb-cms",),
        5432: ("PostgreSQL",),
        5433: ("PostgreSQL",),
        5434: ("PostgreSQL",),
    }
    for port, words in expected.items():
        assert port in described, f"port {port} missing"
        for word in words:
            assert word in described[port], f"{port}: {word!r} not in {described[port]!r}"


def test_section_2_n2_centrifugo(report: str) -> None:
    rows = dict(table(section(server_section(report, "n2"), "Centrifugo 상태", level=4)))
    assert rows["버전"] == "5.4.9"
    assert rows["런타임"] == "Go 1.23.4"
    assert rows["엔진"] == "Memory"
    assert rows["포트"] == "8000"
    assert rows["상태"] == "✅ Active (1일 18시간)"
    assert rows["메모리 사용"] == "90.9MB"
    assert rows["CPU 시간"] == "3분 23초"


def test_section_2_n3_databases(report: str) -> None:
    rows = table(section(server_section(report, "n3"), "데이터베이스 서비스", level=4))
    assert rows == [
        ("PostgreSQL", "codeb-postgres", "✅ Running (Podman)"),
        ("Redis", "codeb-redis", "✅ Running (Podman, Auth 필요)"),
    ]


@pytest.mark.parametrize("name", sorted(NOTES))
def test_section_2_notes(report: str, name: str) -> None:
    assert bullets(section(server_section(report, name), "주의사항", level=4)) == NOTES[name]


def test_section_5_findings(report: str) -> None:
    text = section(report, "즉시 개선 필요 사항")
    got = [
        (priority, *row)
        for priority in ("High", "Medium", "Low")
        for row in table(section(text, f"{priority} Priority", level=3))
    ]
    assert got == FINDINGS


def test_section_6_conclusion(report: str) -> None:
    text = section(report, "결론")
    assert bullets(section(text, "현재 상태 평가", level=3)) == ASSESSMENT
    steps = re.findall(r"^\d+\. (.+)$", section(text, "다음 단계", level=3), re.M)
    assert steps[0] == FIRST_STEP


def test_every_reference_status_word_and_icon_is_printed(report: str) -> None:
    for word in (
        "✅ 여유",
        "✅ 매우 여유",
        "✅ 안정",
        "✅ 유휴",
        "✅ 정상",
        "매우 낮음",
        "낮음",
        "거의 없음",
        "✅ Up",
        "✅ Active",
        "⚠️ 백업 미설정",
        "⚠️ Centrifugo 보안",
    ):
        assert word in report, word


def test_cli_render_writes_the_same_sections(tmp_path: Path) -> None:
    """``codeb-report render`` of the example, without a config: the same judged facts."""
    from click.testing import CliRunner

    from codeb_report.cli import cli

    result = CliRunner().invoke(
        cli, ["render", str(EXAMPLE), "--format", "md", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert table(section(md, "서버 현황 요약")) == SERVERS
    assert bullets(section(section(md, "결론"), "현재 상태 평가", level=3)) == ASSESSMENT


def test_html_carries_the_same_facts(tmp_path: Path) -> None:
    """HTML is made from the same Markdown: its text holds every judged fact too."""
    import html

    snapshot = load(EXAMPLE)
    [path] = render_report(snapshot, analyse(snapshot), ["html"], tmp_path)
    page = re.sub(r"</?(?:strong|code|em|span|b|i)\b[^>]*>", "", path.read_text(encoding="utf-8"))
    page = html.unescape(re.sub(r"<[^>]+>", " ", page))
    words = " ".join(page.split())

    def has(fact: str) -> bool:
        return " ".join(fact.replace("`", "").replace("**", "").split()) in words

    facts = [cell for row in SERVERS for cell in row]
    facts += [cell for rows in RESOURCES.values() for row in rows for cell in row]
    facts += [cell for row in FINDINGS for cell in row[1:]]
    facts += [note for notes in NOTES.values() for note in notes] + ASSESSMENT
    missing = [f for f in facts if not has(f)]
    assert missing == []


def test_section_2_headings_are_the_references(report: str) -> None:
    """As the reference writes them, though its summary table (and the example's roles)
    say Streaming, Storage (DB) and Backup."""
    headings = re.findall(r"^### (n\d - .+)$", section(report, "서버별 상세 분석"), re.M)
    assert headings == [
        "n1 - App Server (158.247.203.55)",
        "n2 - Streaming Server (141.164.42.213)",
        "n3 - Storage Server (64.176.226.119)",
        "n4 - Backup Server (141.164.37.63)",
    ]
