"""The trend charts as an HTML fragment for the report page (HTML and PDF).

The fragment goes into the page as is, after the Markdown body: SVG cannot travel through
the Markdown, whose conversion lets no raw HTML through. Server names inside the SVG are
escaped by pygal (it writes through ElementTree).
"""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from codeb_report.history.trends import Trends
from codeb_report.outputdir import local_time

HEADING = "서버별 메모리·디스크·부하 차트"

# The heading, its note and the first server's charts move to a new page together.
_CSS = """
.trend-charts .chart-row { display: flex; break-inside: avoid; page-break-inside: avoid;
  margin: 0 0 4mm 0; }
.trend-charts .chart-row svg { width: 50%; height: auto; }
.trend-charts .chart-lead { break-inside: avoid; page-break-inside: avoid; }
.trend-charts .chart-note { font-size: 0.9em; color: #4b5563; }
"""


def axis_note(trends: Trends) -> str:
    from codeb_report.history.charts import label_step

    return (
        f"가로축은 날짜에 비례하며 눈금은 {label_step(trends.times)}일 간격입니다. "
        "부하는 부하 판정과 같은 5분 평균입니다."
    )


def _row(label: str, svgs: list[str]) -> str:
    return (
        f'<div class="chart-row" role="group" aria-label="{escape(label)}">'
        + "".join(svgs)
        + "</div>"
    )


def charts_html(trends: Trends, zone: tzinfo | None = None, only: list[str] | None = None) -> str:
    """Under their heading, per server side by side: memory and disk use (%), and the
    5-minute load. With fewer than two snapshots the Markdown says why there are none.
    The axis shows the dates of ``zone``, the report's time zone.

    ``only`` (a large fleet): the whole fleet's figures first, then these servers' charts
    in this order, with a note saying how many servers were left out."""
    if len(trends.times) < 2:
        return ""
    from codeb_report.history.charts import fleet_charts, server_charts

    times = [local_time(at, zone) for at in trends.times]
    series = trends.servers
    note = axis_note(trends)
    rows = []
    if only is not None:
        by_name = {s.name: s for s in trends.servers}
        series = [by_name[n] for n in only if n in by_name]
        rows.append(_row("전체 서버 추세 차트", [c.svg for c in fleet_charts(trends, times)]))
        left = len(trends.servers) - len(series)
        note += (
            " 서버가 많아 전체 서버의 중앙값과 최고값을 먼저 보이고, 서버별 차트는 점검이"
            f" 필요한 서버 {len(series)}대만 그렸습니다(디스크 소진이 가까운 순,"
            f" 나머지 {left}대 생략)."
        )
    for one in series:
        charts = server_charts(one, times)
        rows.append(_row(f"{one.name} 추세 차트", [c.svg for c in charts]))
    if not rows:
        return ""
    lead = (
        f'<div class="chart-lead"><h3>{HEADING}</h3>\n'
        f'<p class="chart-note">{escape(note)}</p>\n{rows[0]}</div>'
    )
    return (
        f'<section class="trend-charts"><style>{_CSS}</style>\n'
        + "\n".join([lead, *rows[1:]])
        + "\n</section>\n"
    )
