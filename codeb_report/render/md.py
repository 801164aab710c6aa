"""The report as Markdown, from ``templates/report.md.j2``."""

from __future__ import annotations

from codeb_report.render.base import Report, ReportFormat
from codeb_report.render.templates import markdown_env
from codeb_report.render.view import ReportView


def render_markdown(report: ReportView, history: object | None = None, page: bool = False) -> str:
    """``page``: the Markdown becomes the HTML/PDF page, where lines meant for the
    Markdown reader alone are left out."""
    template = markdown_env().get_template("report.md.j2")
    text = template.render(
        title=report.title,
        date=report.date,
        version=report.version,
        servers=report.servers,
        analysis=report.analysis,
        priorities=report.priorities,
        shape=report.shape,
        grouped=report.grouped,
        scaling=report.scaling,
        next_steps=report.next_steps,
        history=history,
        page=page,
    )
    return _squeeze_blank_lines(text)


def _squeeze_blank_lines(text: str) -> str:
    """Optional sections leave runs of empty lines behind; Markdown needs at most one."""
    out: list[str] = []
    for line in text.splitlines():
        if line.strip():
            out.append(line)  # trailing double spaces are hard line breaks: keep them
        elif out and out[-1]:
            out.append("")
    return "\n".join(out).strip("\n") + "\n"


class MarkdownFormat(ReportFormat):
    name = "md"
    filename = "report.md"

    def render(self, report: Report) -> bytes:
        return report.markdown.encode("utf-8")
