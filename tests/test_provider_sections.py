"""Sections 3, 4 and 6's scaling advice when the account is missing, refused, or the use high."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_example_snapshot import EXAMPLE

from codeb_report.analysis import analyse
from codeb_report.provider.model import ProviderError
from codeb_report.render import render_report
from codeb_report.render.view.provider import build
from codeb_report.snapshot import ListeningPort, Memory, Snapshot, load


def markdown(snapshot: Snapshot, out: Path) -> str:
    [md] = render_report(snapshot, analyse(snapshot), ["md"], out)
    return md.read_text(encoding="utf-8")


def test_a_refused_key_is_said_and_the_rest_of_the_report_stays(tmp_path: Path) -> None:
    snapshot = load(EXAMPLE)
    assert snapshot.provider is not None
    snapshot.provider = snapshot.provider.model_copy(
        update={
            "error": ProviderError(kind="unauthorized", message="401", endpoint="/account"),
            "instances": [],
            "regions": [],
            "plans": [],
        }
    )
    text = markdown(snapshot, tmp_path)
    section_3 = text.split("## 3. ")[1].split("## 4. ")[0]
    assert "**계정 데이터를 읽지 못함**: API 키 거부 (401) (/account)" in section_3
    assert "vultr-cli instance create" not in text
    assert not (tmp_path / "scale-out.sh").exists()
    assert "## 5. 즉시 개선 필요 사항" in text and "Caddy (n1)" in text  # the rest is there
    assert "Vultr API 키 설정 (`~/.vultr-cli.yaml`)" in text


def test_the_header_gives_vultr_cli_s_version_or_says_the_api_is_read(tmp_path: Path) -> None:
    snapshot = load(EXAMPLE)
    assert snapshot.provider is not None
    snapshot.provider.cli_version = "Vultr-CLI v3.10.0"
    assert build(snapshot, analyse(snapshot)).cli_version == "v3.10.0"
    snapshot.provider.cli_version = None
    installed = build(snapshot, analyse(snapshot)).cli_version
    assert installed == "vultr-cli 미설치 (Vultr API 직접 조회)"
    snapshot.provider = None
    assert build(snapshot, analyse(snapshot)).cli_version == "확인 안 함 (`[vultr]` 설정 없음)"


def test_other_proxies_are_a_later_step_said_as_such() -> None:
    snapshot = load(EXAMPLE)
    n2 = snapshot.server("n2")
    assert n2 is not None
    n2.ports.append(ListeningPort(address="0.0.0.0", port=443, process="nginx", pid=900))
    notes = build(snapshot, analyse(snapshot)).architecture_notes
    assert any("n2에서 nginx 감지" in n and "이후 단계" in n for n in notes), notes


def test_high_use_turns_the_advice_to_scaling_out_now() -> None:
    snapshot = load(EXAMPLE)
    n1 = snapshot.server("n1")
    assert n1 is not None and n1.memory is not None
    total = n1.memory.total
    n1.memory = Memory(total=total, used=total * 9 // 10, available=total - total * 9 // 10)
    view = build(snapshot, analyse(snapshot))
    assert "메모리 90%가 주의 임계치를 넘었습니다" in view.choice
    assert view.scaling[0][2].startswith("즉시 App 서버 추가 필요 (메모리 90%)")


def test_without_a_proxy_the_app_servers_come_from_their_role() -> None:
    snapshot = load(EXAMPLE)
    n1 = snapshot.server("n1")
    assert n1 is not None
    n1.proxy = None
    view = build(snapshot, analyse(snapshot))
    assert view.app_servers == ["n1"] and view.app_ports == []
    assert any("리버스 프록시 정보 없음" in n for n in view.architecture_notes)
    assert view.script is not None and "업스트림 추가는 직접" in view.script


def test_the_collection_time_is_the_example_s() -> None:
    # The script's date is the snapshot's, never the clock's.
    view = build(example := load(EXAMPLE), analyse(example))
    assert view.script is not None and "2025-12-20 계정 데이터" in view.script
    assert datetime.now(UTC).date().isoformat() not in view.script


def test_a_large_fleet_draws_a_few_boxes_and_counts_the_rest() -> None:
    from codeb_report.snapshot import Server

    snapshot = load(EXAMPLE)
    snapshot.servers += [
        Server(name=f"w{i}", host=f"10.0.0.{i}", role="Worker", reachable=True) for i in range(40)
    ]
    drawing = build(snapshot, analyse(snapshot)).architecture
    assert len(drawing) < 30
    assert any("+36 more" in line for line in drawing)


def test_section_4_weighs_the_analysis_figures_not_its_own() -> None:
    """Section 4 reads the analysis' peaks: a figure changed there is what it says."""
    snapshot = load(EXAMPLE)
    analysis = analyse(snapshot)
    analysis.peaks["n1"] = analysis.peaks["n1"].model_copy(update={"memory_percent": 95.0})
    view = build(snapshot, analysis)
    assert "메모리 95%가 주의 임계치를 넘었습니다" in view.choice
    assert view.scaling[0][2].startswith("즉시 App 서버 추가 필요 (메모리 95%)")


def test_right_sizing_and_section_4_give_the_same_figures(tmp_path: Path) -> None:
    text = markdown(load(EXAMPLE), tmp_path)
    section_4 = text.split("## 4. ")[1].split("## 5. ")[0]
    [finding] = [line for line in text.splitlines() if line.startswith("| 플랜 축소 가능 | n1 |")]
    figures = re.search(r"메모리 \d+%, 디스크 \d+%, 부하 [\d.]+/vCPU", section_4)
    assert figures is not None
    assert f"1회 수집 중 최고 {figures.group()}" in finding


def test_the_nightly_history_reaches_section_4_through_the_analysis() -> None:
    from codeb_report.analysis import with_trends
    from codeb_report.history.trends import build_trends

    today = load(EXAMPLE)
    earlier = load(EXAMPLE)
    earlier.collected_at = today.collected_at - timedelta(days=1)
    n1 = earlier.server("n1")
    assert n1 is not None and n1.memory is not None
    total = n1.memory.total
    n1.memory = Memory(total=total, used=total * 9 // 10, available=total - total * 9 // 10)
    analysis = with_trends(analyse(today), today, build_trends([earlier, today]))
    assert analysis.peaks["n1"].samples == 2
    choice = build(today, analysis).choice
    assert "스냅샷 2회 중 메모리 90%" in choice
    assert "메모리 90%가 주의 임계치를 넘었습니다" in choice


def test_peaks_count_the_points_that_have_any_figure() -> None:
    """A series that has only disk points (as an earlier night's forecast series) still
    counts its points; one with nothing counts none."""
    from codeb_report.analysis.usage import peaks
    from codeb_report.history.trends import FilesystemPoint, ServerSeries, Trends

    today = load(EXAMPLE)
    at = today.collected_at
    disk = [FilesystemPoint(at, 100, 40, 60), None, FilesystemPoint(at, 100, 50, 50)]
    trends = Trends([at] * 3, [ServerSeries("n1", disks={"/": disk})], [])
    found = peaks(today, trends)
    assert found["n1"].samples == 2 and found["n1"].disk_percent == 50.0
    assert found["n1"].memory_percent is None
    assert found["n2"].samples == 0 and not found["n2"].measured()
