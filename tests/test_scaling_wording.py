"""Sections 4 and 6 weigh the app servers' measured use: where there is none to weigh (no
app server, or none collected), they say so instead of calling the use low."""

from __future__ import annotations

from pathlib import Path

from test_example_snapshot import EXAMPLE

from codeb_report.analysis import analyse
from codeb_report.render import render_report
from codeb_report.snapshot import Snapshot, load


def sections_4_and_6(snapshot: Snapshot, out: Path) -> tuple[str, str]:
    [md] = render_report(snapshot, analyse(snapshot), ["md"], out)
    text = md.read_text(encoding="utf-8")
    section_4 = text.split("## 4. ")[1].split("## 5. ")[0]
    section_6 = text.split("## 6. ")[1].split("## 7. ")[0]
    return section_4.split("### 데이터 기준 판단")[1], section_6


def test_a_fleet_without_app_servers_is_not_called_lightly_used(tmp_path: Path) -> None:
    snapshot = load(EXAMPLE)
    for server in snapshot.servers:
        server.role, server.proxy = "storage", None
    choice, section_6 = sections_4_and_6(snapshot, tmp_path)
    assert "한참 못 미칩니다" not in choice and "수집된 수치 없음" not in choice
    assert "App 서버가 없어" in choice
    assert "Instance 기반 수동 스케일링 (App 서버 없음)" in section_6
    assert "수집된 수치 없음" not in section_6


def test_app_servers_not_collected_are_said_as_such(tmp_path: Path) -> None:
    snapshot = load(EXAMPLE)
    for server in snapshot.servers:
        server.reachable, server.error = False, "connection refused"
        server.system = server.memory = server.swap = None
        server.filesystems = []
    choice, section_6 = sections_4_and_6(snapshot, tmp_path)
    assert "한참 못 미칩니다" not in choice
    assert "사용률이 수집되지 않아" in choice
    assert "(App 서버 사용률 수치 없음)" in section_6


def test_measured_use_is_still_weighed(tmp_path: Path) -> None:
    choice, section_6 = sections_4_and_6(load(EXAMPLE), tmp_path)
    assert "한참 못 미칩니다" in choice and "메모리" in choice
    assert "Instance 기반 수동 스케일링으로 충분 (App 서버 최고 메모리" in section_6
