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
    return keep_small_tables_whole(wrap_long_words(converter.convert(text)))


# A cell holding a word this long (a hostname, image or path without spaces) may break
# it anywhere (``td.long`` in report.css): else the word sets the column's least width
# and pushes the table past the page's right edge. Only such cells: breaking every cell
# anywhere lets a table squeeze its Hangul and address columns until their words split.
LONG_WORD = 30
_CELL = re.compile(r"<td>(.*?)</td>", re.S)
_TAG = re.compile(r"<[^>]*>")
_LONG = re.compile(rf"[^\s<>]{{{LONG_WORD},}}")
LONG_CELL = '<td class="long">'


def wrap_long_words(html: str) -> str:
    def mark(match: re.Match[str]) -> str:
        if _LONG.search(_TAG.sub(" ", match.group(1))):
            return f"{LONG_CELL}{match.group(1)}</td>"
        return match.group(0)

    return _CELL.sub(mark, html)


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
            # Long words wrapped over lines make rows tall: such a table may split.
            small = rows <= SMALL_TABLE_ROWS + 1 and LONG_CELL not in match.group(1)
            tag = '<table class="keep">' if small else "<table>"
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
