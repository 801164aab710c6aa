"""The report as an A4 PDF, printed by WeasyPrint from the HTML page.

WeasyPrint is imported only when a PDF is printed (render/weasy.py), in a process of
its own when the command started one (render/printer.py), so the CLI's other paths
stay quick.
"""

from __future__ import annotations

import re

from codeb_report.render.base import Report, ReportFormat
from codeb_report.render.columns import size_tables
from codeb_report.render.html import page

_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3"
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")
_HEADING = re.compile(r"(<h[1-6][^>]*>.*?</h[1-6]>)", re.S)
_BETWEEN_HANGUL = re.compile(rf"(?<=[{_HANGUL}])(?=[{_HANGUL}])")
_ICON_SPACE = re.compile(r"([✅❌]|⚠\ufe0f?) ")
WORD_JOINER = "\u2060"
NO_BREAK_SPACE = "\u00a0"


def keep_hangul_words(body: str) -> str:
    """Forbid line breaks inside Hangul words and between a status icon and its word.

    WeasyPrint ignores ``word-break: keep-all`` and would break Korean lines inside a
    word ("의미합니/다"). A word joiner (U+2060, invisible, no glyph) between syllables
    forbids those breaks; lines still break at spaces. It costs no boxes: a no-wrap span
    per word did the same but took 95 MB more for a 100-server report.

    Headings are left alone: their text is also the PDF's outline (table of contents),
    where joiners would travel into every bookmark and the viewer's search.
    """

    def text(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(1)
        joined = _BETWEEN_HANGUL.sub(WORD_JOINER, match.group(2))
        return _ICON_SPACE.sub(lambda m: m.group(1) + NO_BREAK_SPACE, joined)

    return "".join(
        part if _HEADING.fullmatch(part) else _TAG_OR_TEXT.sub(text, part)
        for part in _HEADING.split(body)
    )


def pdf_body(body: str) -> str:
    """The report's HTML body as the PDF prints it: Hangul words whole, tables sized."""
    return size_tables(keep_hangul_words(body))


class PdfFormat(ReportFormat):
    name = "pdf"
    filename = "report.pdf"

    def render(self, report: Report) -> bytes:
        from codeb_report.render.printer import print_pdf

        return print_pdf(page(report, pdf_body(report.html_body)))
