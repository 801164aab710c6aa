"""The report of a large fleet (above [report] detail_threshold): summaries by role,
details only where a server needs attention, findings grouped by rule, and a PDF whose
page count and table of contents stay usable at 1,000 servers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from fleet_gen import large_fleet

from codeb_report.analysis import analyse
from codeb_report.analysis.model import Priority
from codeb_report.config import parse_config
from codeb_report.errors import ConfigError
from codeb_report.render import RenderOptions
from codeb_report.render.base import Report
from codeb_report.render.html import page
from codeb_report.render.pdf import keep_hangul_words
from codeb_report.render.weasy import html_to_pdf, import_weasyprint
from codeb_report.snapshot import Snapshot


def markdown(snapshot: Snapshot, threshold: int | None = None) -> str:
    options = RenderOptions() if threshold is None else RenderOptions(detail_threshold=threshold)
    return Report(snapshot, analyse(snapshot), options).markdown


FINDINGS, CONCLUSION = "즉시 개선 필요 사항", "결론"


def section(text: str, which: int | str) -> str:
    """Section ``which``: its number, or its title (numbers move with optional sections)."""
    if isinstance(which, str):
        start = re.search(rf"\n## \d+\. {which}\n", text).start()
    else:
        start = text.index(f"\n## {which}. ")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else None]


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after ``heading``, split into cells."""
    after = text[text.index(heading) :]
    lines = after.split("\n|", 1)[1].splitlines()
    rows = []
    for line in ["|" + lines[0], *lines[1:]][2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


@pytest.fixture(scope="module")
def fleet_100() -> Snapshot:
    return large_fleet(100, trouble=0.1)


@pytest.fixture(scope="module")
def md_100(fleet_100: Snapshot) -> str:
    return markdown(fleet_100)


def trouble_names(snapshot: Snapshot) -> set[str]:
    return {s.name for i, s in enumerate(snapshot.servers) if (i + 1) % 10 == 0}


def test_up_to_the_threshold_every_server_has_its_row_and_block() -> None:
    snapshot = large_fleet(20, trouble=0.1)
    text = markdown(snapshot)
    assert "### 전체 서버 구성" in text and "역할별 현황" not in text
    assert all(f"### {s.name} - " in text for s in snapshot.servers)


def test_section_1_counts_each_role_by_state(fleet_100: Snapshot, md_100: str) -> None:
    one = section(md_100, 1)
    assert "### 전체 서버 구성" not in one
    rows = {r[0]: r for r in table_rows(one, "### 역할별 현황")}
    analysis = analyse(fleet_100)
    for role in {s.role for s in fleet_100.servers}:
        servers = [s for s in fleet_100.servers if s.role == role]
        assert int(rows[role][1]) == len(servers)
        assert sum(int(n) for n in rows[role][2:5]) == len(servers)
    total = rows["**전체**"]
    # 10 in trouble: 2 Redis-password copies of n3 are ⚠️, the rest ❌ (fleet_gen's order).
    assert total[1:5] == ["100", "90", "2", "8"]
    # The worst disk is named with its server and mount, as the analysis judged it.
    shares = {
        (s.name, fs.mount): fs.used * 100 / (fs.used + fs.available)
        for s in fleet_100.servers
        if s.reachable
        for fs in s.filesystems
    }
    value, name, mount = re.fullmatch(r"(\d+)% \((\S+) (\S+)\)", total[6]).groups()
    assert round(shares[(name, mount)]) == int(value) == round(max(shares.values()))
    assert analysis.findings  # the fleet has something to report
    assert "**전체 100대**: ✅ 정상 90대 · ⚠️ 주의 2대 · ❌ 위험 8대 (연결 실패 1대 포함)" in one


def test_section_2_details_only_servers_needing_attention(fleet_100: Snapshot, md_100: str) -> None:
    two = section(md_100, 2)
    detailed = set(re.findall(r"^### (s\d{4}) - ", two, re.M))
    assert detailed == trouble_names(fleet_100)
    compact = table_rows(two, "### 정상 서버 (90대)")
    assert [r[0] for r in compact] == [s.name for s in fleet_100.servers if s.name not in detailed]
    # Every healthy server is there once, with its figures; none needing attention is.
    first = fleet_100.servers[0]
    assert compact[0][:3] == [first.name, first.address, first.role]
    assert re.fullmatch(r"\d+%", compact[0][3]) and re.fullmatch(r"\d+%", compact[0][4])
    # Section 1 lists the same servers needing attention, in the fleet's order.
    listed = [r[0].strip("*") for r in table_rows(section(md_100, 1), "### 점검이 필요한 서버")]
    assert listed == [s.name for s in fleet_100.servers if s.name in detailed]


def test_findings_of_one_rule_are_one_row_with_their_servers(
    fleet_100: Snapshot, md_100: str
) -> None:
    analysis = analyse(fleet_100)
    findings = section(md_100, FINDINGS)
    rows = table_rows(findings, "High Priority")
    origins = [r for r in rows if "Centrifugo 보안" in r[0]]
    servers = sorted(f.server for f in analysis.findings if f.rule.startswith("centrifugo.allowed"))
    assert len(origins) == 1 and len(servers) == 2
    assert origins[0][1] == f"{', '.join(servers)} ({len(servers)}대)"
    unreachable = [f.server for f in analysis.findings if f.rule == "server.unreachable"]
    assert [r[1] for r in rows if "서버 연결 실패" in r[0]] == unreachable
    # Each rule once, whatever the number of servers it was raised on.
    high = {(f.rule, f.title) for f in analysis.findings if f.priority.value == "High"}
    assert len(rows) == len(high)


def test_the_conclusion_names_a_few_servers_and_counts_the_rest() -> None:
    conclusion = section(markdown(large_fleet(200, trouble=0.2)), CONCLUSION)  # 6-7 servers a rule
    next_steps = conclusion.split("### 다음 단계")[1]  # 스케일링 권장사항 is numbered too
    steps = re.findall(r"^\d+\. (.*)$", next_steps, re.M)
    assert len(steps) == len(set(steps)) and len(steps) <= 10
    assert any(re.search(r"외 \d+대", step) for step in steps)
    assert max(len(line) for line in conclusion.splitlines()) < 300


def test_the_threshold_comes_from_the_configuration(fleet_100: Snapshot) -> None:
    text = markdown(fleet_100, threshold=100)
    assert "### 전체 서버 구성" in text and "### s0001 - " in text
    config = parse_config(
        '[report]\ndetail_threshold = 5\n[[servers]]\nname = "a"\nhost = "127.0.0.1"\n', "f.toml"
    )
    assert RenderOptions.from_config(config).detail_threshold == 5
    for bad in ('"5"', "-1"):
        with pytest.raises(ConfigError, match=r"report\.detail_threshold"):
            parse_config(f'[report]\ndetail_threshold = {bad}\n[[servers]]\nname = "a"\n'
                         'host = "127.0.0.1"\n', "f.toml")  # fmt: skip


def test_a_1000_server_fleet_prints_under_80_pages_with_a_usable_outline(tmp_path: Path) -> None:
    """5 % of 1,000 servers in trouble; the outline (the PDF's table of contents) holds the
    sections and each detailed server, not a thousand entries."""
    snapshot = large_fleet(1000, trouble=0.05)
    report = Report(snapshot, analyse(snapshot))
    weasyprint = import_weasyprint()
    document = weasyprint.HTML(string=page(report, keep_hangul_words(report.html_body))).render()
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(document.write_pdf())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    assert 20 < pages < 80

    def titles(tree: list, depth: int = 0) -> list[tuple[int, str]]:
        return [x for label, _, kids, _ in tree for x in [(depth, label), *titles(kids, depth + 1)]]

    outline = titles(document.make_bookmark_tree())
    top = [label for depth, label in outline if depth == 1]
    assert top[:2] == ["1. 서버 현황 요약", "2. 서버별 상세 분석"]
    assert any(t.endswith(". 즉시 개선 필요 사항") for t in top)
    assert any(t.endswith(". 결론") for t in top)
    servers = [label for _, label in outline if re.match(r"s\d{4} - ", label)]
    assert len(servers) == 50
    assert "정상 서버 (950대)" in [label for _, label in outline]
    # The compact table is printed small: 950 rows on well under 20 pages.
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    compact_pages = [p for p in text.split("\f") if "정상 서버" in p and "80일" in p]
    assert len(compact_pages) < 20
    assert html_to_pdf  # the report's own PDF path is what the pipeline uses


def test_trend_charts_of_a_large_fleet_show_the_fleet_then_few_servers() -> None:
    from datetime import timedelta

    from codeb_report.history.section import HistoryReport
    from codeb_report.history.trends import build_trends

    today = large_fleet(100, trouble=0.1)
    yesterday = today.model_copy(update={"collected_at": today.collected_at - timedelta(days=1)})
    trends = build_trends([yesterday, today])
    history = HistoryReport(today.collected_at.date(), None, None, trends, [])
    attention = sorted(trouble_names(today))
    html = history.charts_of(attention, at_most=4)
    groups = re.findall(r'aria-label="([^"]+) 추세 차트"', html)
    assert groups == ["전체 서버", *attention[:4]]
    assert "전체 100대 — 메모리·디스크 사용률 (%)" in html
    assert "서버별 차트는 점검이 필요한 서버 4대만 그렸습니다" in html and "나머지 96대" in html
    # A small fleet keeps a chart row per server and no fleet row.
    assert len(re.findall(r'aria-label="[^"]+ 추세 차트"', history.charts_html)) == 100


def test_a_low_observation_alone_keeps_a_server_in_the_compact_table() -> None:
    snapshot = large_fleet(30, trouble=0.1)
    rebooted = snapshot.servers[0]
    assert rebooted.system is not None
    rebooted.system.uptime_seconds = 600  # 최근 재부팅: a Low finding
    text = markdown(snapshot)
    assert any(f.server == rebooted.name for f in analyse(snapshot).by_priority(Priority.LOW))
    assert f"### {rebooted.name} - " not in section(text, 2)
    assert rebooted.name in [r[0] for r in table_rows(section(text, 2), "### 정상 서버")]
    low = table_rows(section(text, FINDINGS), "Low Priority")
    assert any("최근 재부팅" in r[0] and rebooted.name in r[1] for r in low)


def _forecasts(snapshot: Snapshot) -> list:
    """Every server's /data growing: 45 due within 30 days (one at 29.5 days), 10 within a
    year after that, the rest later; the soonest on the servers listed last."""
    from codeb_report.history.trends import Forecast

    gib, found = 2**30, []
    for i, server in enumerate(reversed(snapshot.servers)):
        days = 2.0 + i * 0.6 if i < 45 else (100.0 + i if i < 55 else 400.0 + i)
        days = 29.5 if i == 44 else days
        found.append(
            Forecast(server.name, "/data", 30, float(gib), 500 * gib, int(days * gib), days)
        )
    return found


def _section_8(snapshot: Snapshot, threshold: int | None = None) -> str:
    from codeb_report.history.section import HistoryReport
    from codeb_report.history.trends import Trends

    trends = Trends(times=[], servers=[], forecasts=_forecasts(snapshot))
    history = HistoryReport(snapshot.collected_at.date(), None, None, trends, [])
    options = RenderOptions() if threshold is None else RenderOptions(detail_threshold=threshold)
    text = Report(snapshot, analyse(snapshot), options, history).markdown
    return section(text, "리소스 추세")


def test_a_large_fleets_forecast_table_lists_the_disks_due_within_the_horizon() -> None:
    """Above the threshold the table holds what is acted on: the filesystems due full
    within the horizon (the findings), soonest first, at most 30 rows; the rest counted."""
    snapshot = large_fleet(100, trouble=0.1)
    text = _section_8(snapshot)
    rows = table_rows(text, "### 디스크 용량 소진 예상")
    soonest = [s.name for s in reversed(snapshot.servers)]
    assert [r[0] for r in rows] == soonest[:30]
    assert rows[0][4] == "⚠️ 2일 후" and all(r[4].startswith("⚠️") for r in rows)
    assert "30일 안에 가득 찰 것으로 보이는 파일시스템만 소진이 가까운 순으로" in text
    assert "(서버 45대, 5장의" in text
    days = [int(2 + i * 0.6 + 1e-6) for i in range(44)] + [29]  # whole days, rounded down
    rest = [f"{name} `/data` {d}일 후" for name, d in zip(soonest, days, strict=False)][30:]
    assert f"30일 안에 가득 찰 나머지 15개(소진이 가까운 순): {', '.join(rest)}\n" in text
    assert "30일 이후 1년 안에 가득 찰 것으로 보이는 파일시스템 10개(서버 10대)" in text
    assert "그 밖에 사용량이 늘고 있는 파일시스템 45개는 1년 이상 여유가 있습니다" in text


def test_up_to_the_threshold_the_forecast_table_lists_a_year() -> None:
    snapshot = large_fleet(100, trouble=0.1)
    text = _section_8(snapshot, threshold=1000)
    rows = table_rows(text, "### 디스크 용량 소진 예상")
    assert len(rows) == 55 and rows[-1][4] == "154일 후"
    assert "생략" not in text and "표에 넣지 않았습니다" not in text


def test_a_large_fleet_with_no_disk_due_within_the_horizon_says_so() -> None:
    from codeb_report.history.section import HistoryReport
    from codeb_report.history.trends import Trends

    snapshot = large_fleet(60, trouble=0.1)
    later = [f for f in _forecasts(snapshot) if (f.days_left or 0) >= 30][:3]
    assert len(later) == 3
    trends = Trends(times=[], servers=[], forecasts=later)
    history = HistoryReport(snapshot.collected_at.date(), None, None, trends, [])
    text = section(Report(snapshot, analyse(snapshot), RenderOptions(), history).markdown, 8)
    assert "30일 안에 가득 찰 것으로 보이는 파일시스템 없음" in text
    assert "| 서버 |" not in text.split("### 디스크 용량 소진 예상")[1].split("###")[0]
    assert "30일 이후 1년 안에 가득 찰 것으로 보이는 파일시스템 3개(서버 3대)" in text


def test_each_count_under_the_forecast_table_is_its_own_paragraph() -> None:
    from codeb_report.history.section import HistoryReport
    from codeb_report.history.trends import Trends

    snapshot = large_fleet(100, trouble=0.1)
    kept = [f for f in _forecasts(snapshot) if not 30 <= (f.days_left or 0) < 365]
    trends = Trends(times=[], servers=[], forecasts=kept)
    history = HistoryReport(snapshot.collected_at.date(), None, None, trends, [])
    text = section(Report(snapshot, analyse(snapshot), RenderOptions(), history).markdown, 8)
    assert "일 후\n\n그 밖에 사용량이 늘고 있는 파일시스템 45개" in text
