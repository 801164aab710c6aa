"""The trend charts as an HTML fragment for the report page (HTML and PDF).

The fragment goes into the page as is, after the Markdown body: SVG cannot travel through
the Markdown, whose conversion lets no raw HTML through. Server names inside the SVG are
escaped by pygal (it writes through ElementTree).
"""

from __future__ import annotations

from html import escape

from codeb_report.history.trends import Trends

_CSS = """
.trend-charts .chart-row { display: flex; break-inside: avoid; page-break-inside: avoid;
  margin: 0 0 4mm 0; }
.trend-charts .chart-row svg { width: 50%; height: auto; }
"""


def charts_html(trends: Trends) -> str:
    """Per server, side by side: memory and disk use (%), and the 1-minute load."""
    if len(trends.times) < 2:
        return ""
    from codeb_report.history.charts import server_charts

    rows = []
    for series in trends.servers:
        charts = server_charts(series, trends.times)
        label = escape(f"{series.name} 추세 차트")
        rows.append(
            f'<div class="chart-row" role="group" aria-label="{label}">'
            + "".join(c.svg for c in charts)
            + "</div>"
        )
    return (
        f'<section class="trend-charts"><style>{_CSS}</style>\n'
        + "\n".join(rows)
        + "\n</section>\n"
    )
