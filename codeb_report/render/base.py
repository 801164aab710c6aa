"""One output format of the report: a small class that turns the report into bytes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

from codeb_report.analysis.model import Analysis
from codeb_report.render import view
from codeb_report.snapshot import Snapshot


@dataclass
class Report:
    """What every format starts from; each stage is made once and shared (PDF reuses HTML)."""

    snapshot: Snapshot
    analysis: Analysis
    options: view.RenderOptions | None = None

    @cached_property
    def view(self) -> view.ReportView:
        return view.build(self.snapshot, self.analysis, self.options)

    @cached_property
    def markdown(self) -> str:
        from codeb_report.render.md import render_markdown

        return render_markdown(self.view)

    @cached_property
    def html_body(self) -> str:
        """The report's body as HTML, converted from the Markdown so the wording is one."""
        from codeb_report.render.html import markdown_to_html

        return markdown_to_html(self.markdown)


class ReportFormat(ABC):
    name: ClassVar[str]
    filename: ClassVar[str]

    @abstractmethod
    def render(self, report: Report) -> bytes: ...
