"""From a snapshot to what the report says about it: judged figures, findings, conclusion.

analysis = analyse(snapshot)             # default thresholds
analysis = analyse(snapshot, Thresholds(disk=UsageBands(warn_at=70)))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from codeb_report import units
from codeb_report.analysis.conclusion import assessment, next_steps
from codeb_report.analysis.model import Analysis, Finding, Priority, ServerAnalysis, Text
from codeb_report.analysis.notes import fact_notes
from codeb_report.analysis.provider import ProviderView, provider_view
from codeb_report.analysis.rules import FLEET, RULES, Hit
from codeb_report.analysis.status import container_status, resources, server_state, service_status
from codeb_report.analysis.usage import Peak, peaks, peaks_over
from codeb_report.snapshot import ProbeStatus, Server, Snapshot
from codeb_report.thresholds import Thresholds

if TYPE_CHECKING:
    from codeb_report.history.trends import Trends

__all__ = ["Analysis", "ProviderView", "Thresholds", "analyse", "findings", "with_trends"]

# Analysis names ProviderView only for type checkers (the modules import each other).
Analysis.model_rebuild(_types_namespace={"ProviderView": ProviderView, "Peak": Peak})

_RANK = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


def _natural(name: str) -> tuple[int, list[int | str]]:
    """n2 before n10; the fleet-wide 전체 before any server."""
    parts = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]
    return (0 if name == FLEET else 1, parts)


def run_rules(
    snapshot: Snapshot, thresholds: Thresholds, view: ProviderView | None = None
) -> list[tuple[Finding, Hit]]:
    """Every rule's findings, High to Low, then by rule order, then by server."""
    raised = [
        (index, hit.finding(r.id), hit)
        for index, r in enumerate(RULES)
        for hit in r.run(snapshot, thresholds, view)
    ]
    raised.sort(key=lambda x: (_RANK[x[1].priority], x[0], _natural(x[1].server)))
    return [(finding, hit) for _, finding, hit in raised]


def judge_server(server: Server, thresholds: Thresholds, rule_notes: list[Text]) -> ServerAnalysis:
    """The server's own tables; ``rule_notes`` are its 주의사항 bullets from the rules."""
    uptime = None
    if server.reachable and server.system and server.system.uptime_seconds is not None:
        uptime = units.duration(server.system.uptime_seconds)
    return ServerAnalysis(
        name=server.name,
        state=server_state(server),
        uptime=uptime,
        resources=resources(server, thresholds) if server.reachable else [],
        container_states={c.name: container_status(c) for c in server.containers},
        service_states={u.unit: service_status(u) for u in server.services},
        notes=rule_notes + fact_notes(server),
        skipped=[
            f"{o.probe}: {o.reason}" if o.reason else o.probe
            for o in server.probes
            if o.status != ProbeStatus.OK
        ],
    )


def analyse(
    snapshot: Snapshot,
    thresholds: Thresholds | None = None,
    *,
    history: Sequence[Snapshot] = (),
    headroom: float | None = None,
    trends: Trends | None = None,
) -> Analysis:
    """``headroom`` (percent) serves the provider view's right-sizing; every server's
    highest use (``Analysis.peaks``, which right-sizing and the scaling advice weigh) is
    read over ``trends`` when given, else over the ``history`` snapshots and tonight's."""
    thresholds = thresholds or Thresholds()
    highest = peaks(snapshot, trends) if trends is not None else peaks_over(snapshot, history)
    view, raised = _raised(snapshot, thresholds, highest, headroom)
    found = [f for f, _ in raised]
    notes: dict[str, list[Text]] = {}  # by server, once: not every hit for every server
    for _, hit in raised:
        notes.setdefault(hit.server, []).extend(hit.notes)
    judged = [judge_server(s, thresholds, notes.get(s.name, [])) for s in snapshot.servers]
    return Analysis(
        servers=judged,
        findings=found,
        assessment=assessment(snapshot, judged, found),
        next_steps=next_steps(found),
        provider=view,
        peaks=highest,
    )


def with_trends(analysis: Analysis, snapshot: Snapshot, trends: Trends) -> Analysis:
    """``analysis`` with every server's peaks read over ``trends`` (the nightly history's
    series, from the stored snapshots or Prometheus), for the scaling advice."""
    return analysis.model_copy(update={"peaks": peaks(snapshot, trends)})


def findings(
    snapshot: Snapshot,
    thresholds: Thresholds | None = None,
    *,
    history: Sequence[Snapshot] = (),
    headroom: float | None = None,
) -> list[Finding]:
    """``analyse(...).findings`` alone, without the servers' tables and the conclusion:
    dating a finding back reads only these, night after night (most of the cost)."""
    # Only right-sizing reads the peaks: without an account, none are read.
    highest = peaks_over(snapshot, history) if snapshot.provider is not None else {}
    _, raised = _raised(snapshot, thresholds or Thresholds(), highest, headroom)
    return [f for f, _ in raised]


def _raised(
    snapshot: Snapshot, thresholds: Thresholds, highest: dict[str, Peak], headroom: float | None
) -> tuple[ProviderView | None, list[tuple[Finding, Hit]]]:
    view = provider_view(snapshot, thresholds, headroom=headroom, peaks=highest)
    return view, run_rules(snapshot, thresholds, view)
