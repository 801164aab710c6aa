"""Small hand-built servers and snapshots for the analysis tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from codeb_report.analysis import Thresholds
from codeb_report.analysis.model import Finding, Text
from codeb_report.analysis.rules import RULES
from codeb_report.snapshot import Filesystem, Memory, Server, Snapshot, Swap, SystemInfo

KST = timezone(timedelta(hours=9))
AT = datetime(2025, 12, 20, 10, 0, tzinfo=KST)
GiB, MiB = 2**30, 2**20


def server(
    name: str = "n1",
    *,
    role: str = "App Server",
    mem_total: int = 16 * GiB,
    mem_used: int = 1 * GiB,
    cpus: int = 4,
    load: tuple[float, float, float] = (0.1, 0.1, 0.1),
    uptime: int = 80 * 86400,
    disk_used: float = 0.10,
    swap: Swap | None = None,
    **fields: Any,
) -> Server:
    """A healthy reachable server; ``disk_used`` is the share df would print."""
    size = 300 * GiB
    used = int(size * disk_used)
    values: dict[str, Any] = dict(
        name=name,
        host=f"{name}.example",
        address="192.0.2.10",
        role=role,
        reachable=True,
        system=SystemInfo(
            hostname=f"{name}-host", uptime_seconds=uptime, cpu_count=cpus, load=load
        ),
        memory=Memory(total=mem_total, used=mem_used, available=mem_total - mem_used),
        swap=swap,
        filesystems=[
            Filesystem(mount="/", device="/dev/vda1", size=size, used=used, available=size - used)
        ],
    )
    values.update(fields)
    return Server(**values)


def fleet(*servers: Server) -> Snapshot:
    return Snapshot(collected_at=AT, collector_version="0.1.0", servers=list(servers))


def run(rule_id: str, snapshot: Snapshot, thresholds: Thresholds | None = None) -> list[Finding]:
    """The findings of one rule alone."""
    rule = next(r for r in RULES if r.id == rule_id)
    return [h.finding(rule.id) for h in rule.check(snapshot, thresholds or Thresholds())]


def plain(text: Text) -> str:
    """Report text as Markdown would show it: code spans in backticks."""
    return "".join(f"`{s.text}`" if s.code else s.text for s in text)
