"""The report as one self-contained HTML page: the Markdown converted, wrapped with print CSS."""

from __future__ import annotations

import re

import markdown
from markupsafe import Markup

from codeb_report.render.base import Report, ReportFormat
from codeb_report.render.templates import html_env, templates_dir


def markdown_to_html(text: str) -> str:
    """Convert the report's Markdown; raw HTML is never passed through, only printed.

    The Markdown template escapes collected text already; dropping python-markdown's raw
    HTML handling as well means no ``<tag>`` in the source can ever become an element.
    """
    converter = markdown.Markdown(
        extensions=["tables", "sane_lists", "fenced_code"], output_format="html"
    )
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return keep_small_tables_whole(converter.convert(text))


# Tables up to this many rows move to the next page whole rather than split.
SMALL_TABLE_ROWS = 12
_TABLE = re.compile(r"<table>(.*?)</table>", re.S)


# A large fleet's one-row-per-server table (templates/fleet_compact.md.j2), known by its
# first heading: printed small, so 1,000 servers take pages, not a chapter.
COMPACT_TABLE_HEAD = "<th>정상 서버</th>"


def keep_small_tables_whole(html: str) -> str:
    def mark(match: re.Match[str]) -> str:
        rows = match.group(1).count("<tr>")
        if COMPACT_TABLE_HEAD in match.group(1)[:200]:
            tag = '<table class="compact">'
        else:
            tag = '<table class="keep">' if rows <= SMALL_TABLE_ROWS + 1 else "<table>"
        return f"{tag}{match.group(1)}</table>"

    return _TABLE.sub(mark, html)


def page(report: Report, body: str) -> str:
    """The complete page around a body; the PDF passes its own variant of the body.

    The history's trend charts follow the body as they are: they are SVG made by pygal,
    which escapes the names inside, and must not get the PDF's no-wrap spans.
    """
    css = (templates_dir() / "report.css").read_text(encoding="utf-8")
    return (
        html_env()
        .get_template("report.html.j2")
        .render(
            title=report.view.title,
            date=report.view.date,
            version=report.view.version,
            css=Markup(css),
            body=Markup(body),
            charts=Markup(report.charts_html),
        )
    )


class HtmlFormat(ReportFormat):
    name = "html"
    filename = "report.html"

    def render(self, report: Report) -> bytes:
        return page(report, report.html_body).encode("utf-8")
