"""The ``codeb-report diff`` report: Korean Markdown, HTML, PDF or JSON of a SnapshotDiff."""

from __future__ import annotations

from datetime import tzinfo

from codeb_report import __version__
from codeb_report.controls import json_text
from codeb_report.history.diff import SnapshotDiff
from codeb_report.history.summary import summary_lines
from codeb_report.history.view import DiffView, diff_view
from codeb_report.render.templates import markdown_env

DIFF_FORMATS = ("md", "html", "pdf", "json")

TITLE = "CodeB 서버 변경 사항 리포트"


def diff_markdown(view: DiffView) -> str:
    return markdown_env().get_template("diff.md.j2").render(diff_view=view)


def diff_html(view: DiffView, body: str | None = None) -> str:
    """The page of the report (report.html.j2 with report.css): the same running header,
    date and page numbers in print, so the two documents look alike."""
    from markupsafe import Markup

    from codeb_report.render.html import markdown_to_html
    from codeb_report.render.templates import html_env, templates_dir

    body = markdown_to_html(diff_markdown(view)) if body is None else body
    css = (templates_dir() / "report.css").read_text(encoding="utf-8")
    return (
        html_env()
        .get_template("report.html.j2")
        .render(
            title=TITLE,
            date=view.new_label.split(" ")[0],
            version=__version__,
            css=Markup(css),
            body=Markup(body),
            charts=Markup(""),
        )
    )


def diff_pdf(view: DiffView) -> bytes:
    from codeb_report.render.html import markdown_to_html
    from codeb_report.render.pdf import pdf_body
    from codeb_report.render.weasy import html_to_pdf

    body = pdf_body(markdown_to_html(diff_markdown(view)))
    return html_to_pdf(diff_html(view, body))


def diff_json(diff: SnapshotDiff, zone: tzinfo | None = None) -> str:
    data = {"changed": diff.changed, "summary": summary_lines(diff, zone)}
    data.update(diff.model_dump(mode="json"))
    return json_text(data)


def render_diff(diff: SnapshotDiff, fmt: str, zone: tzinfo | None = None) -> bytes:
    """The report of ``diff`` in ``fmt`` (one of DIFF_FORMATS), as bytes to write; times
    in ``zone``, the report's time zone."""
    if fmt == "json":
        return diff_json(diff, zone).encode()
    view = diff_view(diff, zone)
    if fmt == "pdf":
        return diff_pdf(view)
    text = diff_html(view) if fmt == "html" else diff_markdown(view)
    return text.encode()
