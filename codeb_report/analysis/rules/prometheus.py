"""Rules about Prometheus as a source: Prometheus itself could not answer.

A server Prometheus has no current figures for is that server's finding
(``server.unreachable`` when it is collected from Prometheus alone, ``probe.failed`` on
its ``prometheus`` probe when SSH filled in); Prometheus down is one finding for the fleet.
"""

from __future__ import annotations

from collections.abc import Iterator

from codeb_report.analysis.model import Level, Priority, text
from codeb_report.analysis.reasons import prometheus_reason
from codeb_report.analysis.rules.base import FLEET, Hit, rule
from codeb_report.snapshot import Snapshot
from codeb_report.thresholds import Thresholds


@rule("prometheus.unavailable")
def unavailable(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """Prometheus was configured but did not answer: its servers' figures are missing or
    came from SSH instead, and the trends fall back to the stored snapshots."""
    source = snapshot.prometheus
    if source is None or source.error is None:
        return
    reason = prometheus_reason(source.error)
    yield Hit(
        priority=Priority.HIGH,
        server=FLEET,
        title="Prometheus 수집 실패",
        description=text(f"{source.url}: ") + reason.spans(),
        action="Prometheus 상태·주소·인증 확인",
        level=Level.CRIT,
        step="Prometheus 상태·주소·인증 확인",
        summary=reason.short,
    )
