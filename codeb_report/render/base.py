"""One output format of the report: a small class that turns the report into bytes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from codeb_report.analysis.model import Analysis
from codeb_report.render import view
from codeb_report.snapshot import Snapshot

if TYPE_CHECKING:
    from codeb_report.history.section import HistoryReport


@dataclass
class Report:
    """What every format starts from; each stage is made once and shared (PDF reuses HTML)."""

    snapshot: Snapshot
    analysis: Analysis
    options: view.RenderOptions | None = None
    history: HistoryReport | None = None  # the nightly run's 전일 대비 / 추세 sections

    @cached_property
    def view(self) -> view.ReportView:
        return view.build(self.snapshot, self.analysis, self.options)

    @cached_property
    def markdown(self) -> str:
        from codeb_report.render.md import render_markdown

        return render_markdown(self.view, self.history)

    @cached_property
    def html_body(self) -> str:
        """The report's body as HTML, converted from the Markdown so the wording is one."""
        from codeb_report.render.html import markdown_to_html
        from codeb_report.render.md import render_markdown

        if self.history is None:
            return markdown_to_html(self.markdown)
        return markdown_to_html(render_markdown(self.view, self.history, page=True))

    @cached_property
    def charts_html(self) -> str:
        """The trend charts (SVG), which go into the page after the body: never through
        the Markdown, whose conversion lets no raw HTML pass. Drawn once for the HTML and
        the PDF (a large fleet's took seconds each time)."""
        if self.history is None:
            return ""
        if self.view.shape is not None:  # a large fleet: the fleet, then who needs attention
            return self.history.charts_of([v.server.name for v in self.view.shape.detailed])
        return self.history.charts_html


class ReportFormat(ABC):
    name: ClassVar[str]
    filename: ClassVar[str]

    @abstractmethod
    def render(self, report: Report) -> bytes: ...
