"""How the diff words findings, units and filesystems, against the report's own wording."""

from __future__ import annotations

import history_gen as gen

from codeb_report.analysis.model import Finding, Priority, text
from codeb_report.history.diff import diff_snapshots
from codeb_report.history.summary import summary_lines
from codeb_report.history.view import diff_view
from codeb_report.render.diff_report import diff_markdown

HISTORY = gen.history()


def _finding(rule: str, server: str, priority: Priority, title: str) -> Finding:
    return Finding(
        rule=rule,
        priority=priority,
        server=server,
        title=title,
        description=text("설명"),
        action="-",
    )


def test_a_finding_open_in_both_of_the_same_moment_is_not_new_today() -> None:
    same = [_finding("backup.missing", "n4", Priority.HIGH, "백업 미설정")]
    diff = diff_snapshots(HISTORY[3], HISTORY[3], old_findings=same, new_findings=same)
    markdown = diff_markdown(diff_view(diff))
    assert "| ⏳ 지속 | High | n4 | 백업 미설정 | 1일 미만 |" in markdown
    assert "오늘 발생" not in markdown


def test_a_low_observation_going_away_is_not_celebrated() -> None:
    old = [
        _finding("resources.low_usage", "전체", Priority.LOW, "리소스 여유"),
        _finding("memory.high", "n1", Priority.MEDIUM, "메모리 부족"),
    ]
    diff = diff_snapshots(HISTORY[3], HISTORY[4], old_findings=old, new_findings=[])
    lines = summary_lines(diff)
    assert "✅ 해결: n1 메모리 부족" in lines
    assert "➖ 사라짐 (Low): 전체 리소스 여유" in lines
    assert not [line for line in lines if "해결" in line and "리소스 여유" in line]
    markdown = diff_markdown(diff_view(diff))
    assert "| ➖ 사라짐 | Low | 전체 | 리소스 여유 |" in markdown


def test_units_and_filesystems_are_named_as_in_the_report() -> None:
    services = diff_snapshots(HISTORY[29], HISTORY[30])  # n2's watchdog fails on day 30
    assert "n2 서비스 codeb-watchdog: active/running → failed/failed" in summary_lines(services)
    markdown = diff_markdown(diff_view(services))
    assert "| n2 | codeb-watchdog | active/running | failed/failed |" in markdown
    assert ".service" not in markdown
    disks = diff_snapshots(HISTORY[0], HISTORY[34])  # n1's /data fills a GiB a day
    lines = [line for line in summary_lines(disks) if "n1 디스크" in line]
    assert lines and lines[0].startswith("n1 디스크(/data) 사용률")
