"""The report's rows: snapshot facts joined with the analysis' judgements, ready to print.

Templates only lay these out; deciding what a row holds (which ports belong to which
container, how long a container has been up) happens here, once for every format. One
module per block of the report: ``server`` joins them into section 2's view of a server.
"""

from __future__ import annotations

from dataclasses import dataclass

from codeb_report import __version__
from codeb_report.analysis.model import Analysis, Finding, Priority
from codeb_report.outputdir import local_time
from codeb_report.render.view import provider
from codeb_report.render.view.fleet import (
    FindingGroup,
    FleetShape,
    fleet_shape,
    grouped_findings,
    natural,
)
from codeb_report.render.view.options import RenderOptions
from codeb_report.render.view.ports import PortRow
from codeb_report.render.view.server import ServerView, heading, server_view, unjudged
from codeb_report.snapshot import Snapshot

__all__ = ["PortRow", "RenderOptions", "ReportView", "ServerView", "build", "heading"]


@dataclass
class ReportView:
    title: str
    date: str
    version: str
    servers: list[ServerView]
    analysis: Analysis
    priorities: list[tuple[Priority, list[Finding]]]
    scaling: provider.ScalingView  # sections 3, 4 and 6's 스케일링 권장사항
    # Above the configuration's detail_threshold: summaries by role, details where needed.
    shape: FleetShape | None = None
    grouped: dict[Priority, list[FindingGroup]] | None = None  # findings of one rule, together

    @property
    def next_steps(self) -> list[str]:
        """결론's 다음 단계: the findings' steps, then the scaling ones not said already."""
        steps = list(self.analysis.next_steps)
        for step in self.scaling.next_steps:
            topic = step.split(" (")[0]
            if not any(topic in s for s in steps):
                steps.append(step)
        return steps


DEFAULT_TITLE = "CodeB 서버 인프라 현황 리포트"


def build(
    snapshot: Snapshot, analysis: Analysis, options: RenderOptions | None = None
) -> ReportView:
    """The report's rows; the scaling advice weighs the analysis' peaks (``analysis.peaks``,
    over the nightly history when the run had one)."""
    options = options or RenderOptions()
    judged = {s.name: s for s in analysis.servers}
    servers = [
        server_view(s, judged.get(s.name) or unjudged(s), snapshot.collected_at, options)
        for s in snapshot.servers
    ]
    # Without a configuration the date is still the fleet's (Asia/Seoul), as the folder's is.
    collected = local_time(snapshot.collected_at, options.zone)
    shape = grouped = None
    if len(servers) > options.detail_threshold:
        shape = fleet_shape(servers, analysis.findings, options.detail_threshold)
        order = sorted((s.name for s in snapshot.servers), key=natural)
        grouped = {p: grouped_findings(analysis.by_priority(p), order) for p in Priority}
    return ReportView(
        title=options.title or DEFAULT_TITLE,
        date=collected.date().isoformat(),
        version=__version__,
        servers=servers,
        analysis=analysis,
        priorities=[(p, analysis.by_priority(p)) for p in Priority],
        shape=shape,
        grouped=grouped,
        scaling=provider.build(snapshot, analysis, options.thresholds),
    )
