"""The trend charts in HTML and PDF: heading kept with them, a time axis, the 5-minute load."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import history_gen as gen
import pytest

from codeb_report.analysis import analyse
from codeb_report.history.charts import label_step, load_chart, usage_chart
from codeb_report.history.charts_html import HEADING
from codeb_report.history.trends import ServerSeries
from codeb_report.nightly.stages import NightlyHistory

LAST = 34
MD_ONLY = "HTML·PDF 리포트에 서버별 차트가 있습니다."


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("output")
    gen.write_history(root, days=LAST)
    for missing in (26, 27, 28):  # three nights without a report
        shutil.rmtree(root / gen.day_of(missing).isoformat())
    stages = NightlyHistory(root, analyse)
    tonight = gen.snapshot_for(LAST)
    paths = stages.render(tonight, stages.analyse(tonight), ["md", "html", "pdf"], root / "r")
    return {p.suffix[1:]: p for p in paths}


def test_the_markdown_only_line_is_only_in_the_markdown(rendered: dict[str, Path]) -> None:
    assert MD_ONLY in rendered["md"].read_text()
    html = rendered["html"].read_text()
    assert MD_ONLY not in html
    assert html.count(HEADING) == 1
    # The heading opens the block that holds the first server's charts.
    lead = re.search(r'<div class="chart-lead">(.*?)</div>', html, re.S)
    assert lead and f"<h3>{HEADING}</h3>" in lead.group(1) and "<svg" in lead.group(1)


def test_in_the_pdf_the_heading_shares_its_page_with_the_first_chart(
    rendered: dict[str, Path],
) -> None:
    text = subprocess.run(
        ["pdftotext", rendered["pdf"], "-"], capture_output=True, check=True, text=True
    ).stdout
    assert MD_ONLY not in text
    [page] = [p for p in text.split("\f") if HEADING in p]
    assert "n1 — 메모리·디스크 사용률 (%)" in page
    # The axis ends on the latest report's own date (03:00 KST, still the day before in UTC).
    # A tick may share its text line with the next chart's axis label ("12-20 0.00").
    ticks = re.findall(r"^(\d\d-\d\d)\b", page, re.M)
    # The first chart's axis: its ticks up to where the next chart's start again.
    ends = [i for i in range(1, len(ticks)) if ticks[i] <= ticks[i - 1]]
    first = ticks[: ends[0]] if ends else ticks
    assert first and first[-1] == gen.day_of(LAST).strftime("%m-%d")
    assert (gen.day_of(LAST) - timedelta(days=1)).strftime("%m-%d") not in ticks
    assert re.search(r"가로축은 날짜에 비례하며\s+눈금은 7일 간격입니다", page)


def _series(times: list[datetime]) -> ServerSeries:
    n = len(times)
    return ServerSeries(
        name="n1",
        memory_pct=[40.0] * n,
        load1=[9.75] * n,  # a spike the 5-minute figure smooths away
        load5=[0.5 + i / 100 for i in range(n)],
        disks={},
    )


def test_load_chart_plots_the_five_minute_average() -> None:
    times = [datetime(2025, 12, 1, 3) + timedelta(days=i) for i in range(10)]
    chart = load_chart(_series(times), times)
    assert chart.title == "n1 — 부하 (5분 평균)"
    # The y axis fits the plotted series: up to 1.0 for 5-minute loads of 0.5-0.6,
    # where the 1-minute spike of 9.75 would have stretched it past 11.
    labels = [float(v) for v in re.findall(r"<title>(\d+\.\d\d)</title>", chart.svg)]
    assert labels and max(labels) <= 1.0


def test_time_axis_keeps_missing_days_and_ticks_evenly_from_the_latest() -> None:
    days = [0, 1, 2, 3, 10, 11, 12]  # a week without snapshots
    times = [datetime(2025, 12, 1, 3) + timedelta(days=d) for d in days]
    assert label_step(times) == 3
    svg = usage_chart(_series(times), times).svg
    ticks = re.findall(r"<text[^>]*>(\d\d-\d\d)</text>", svg)
    assert ticks == ["12-01", "12-04", "12-07", "12-10", "12-13"][-len(ticks) :]
    assert ticks[-1] == "12-13"
    # Points sit where their day is: the gap is as wide as the seven days it spans.
    [line] = re.findall(r'<path d="([^"]*)" class="line reactive nofill"', svg)[:1]
    xs = [float(x) for x in re.findall(r"([\d.]+) [\d.]+", line)]
    assert len(xs) == len(days)
    per_day = xs[1] - xs[0]
    assert xs[4] - xs[3] == pytest.approx(7 * per_day, rel=0.01)
