"""Rules over the whole fleet: spare capacity, and a server smaller than the rest."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator

from codeb_report import units
from codeb_report.analysis.model import Priority, text
from codeb_report.analysis.rules.base import FLEET, Hit, rule
from codeb_report.analysis.status import load_per_cpu, share
from codeb_report.snapshot import Snapshot
from codeb_report.thresholds import Thresholds


@rule("resources.low_usage")
def low_usage(snapshot: Snapshot, t: Thresholds) -> Iterator[Hit]:
    """Every server uses less than ``low_usage_below`` percent of its memory and CPUs.

    Only when every server was reached and measured: "모든 서버" must mean all of them.
    """
    if not snapshot.servers:
        return
    for server in snapshot.servers:
        mem = server.memory
        if not server.reachable or mem is None or share(mem.used, mem.total) >= t.low_usage_below:
            return
        per_cpu = load_per_cpu(server)
        if per_cpu is not None and per_cpu * 100 >= t.low_usage_below:
            return
    yield Hit(
        priority=Priority.LOW,
        server=FLEET,
        title="리소스 여유",
        description=text(f"모든 서버 리소스 {t.low_usage_below:g}% 미만 사용"),
        action="현재 스케일 적정",
        summary=f"전체적으로 {t.low_usage_below:g}% 미만 사용",
    )


def _is_backup(role: str) -> bool:
    return "backup" in role.lower() or "백업" in role


@rule("server.smaller_spec")
def smaller_spec(snapshot: Snapshot, t: Thresholds) -> Iterator[Hit]:
    """A server with clearly less memory than the fleet's median; fine if it only keeps backups."""
    memory = {s.name: s.memory.total for s in snapshot.servers if s.reachable and s.memory}
    if len(memory) < 2:
        return
    median = statistics.median(memory.values())
    counted = Counter(memory.values())  # once: a large fleet has hundreds of these
    for server in snapshot.servers:
        total = memory.get(server.name)
        if total is None or total >= t.smaller_spec_ratio * median:
            continue
        others = sorted((m for m, n in counted.items() if n > (m == total)), reverse=True)
        sizes = "/".join(dict.fromkeys(units.size(n) for n in others))
        fits = _is_backup(server.role)
        yield Hit(
            priority=Priority.LOW,
            server=server.name,
            title=f"{server.name} 스펙",
            description=text(f"{units.size(total)} RAM (다른 서버 {sizes})"),
            action="백업 서버로 적절" if fits else "역할 대비 사양 확인",
            step=None if fits else "메모리 사양 확인",
        )
