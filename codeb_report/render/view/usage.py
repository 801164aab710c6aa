"""The app servers' measured use, as the scaling advice of sections 4 and 6 weighs it.

The highest figure counts: the latest snapshot's, or over the nightly history when the
report has one (memory and disk in percent, the 5-minute load per vCPU), plus the disk
forecasts of the trends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from codeb_report.analysis.thresholds import Thresholds
from codeb_report.snapshot import Server

if TYPE_CHECKING:
    from codeb_report.history.trends import Trends


@dataclass(frozen=True)
class Usage:
    """The highest use of a group of servers, and where it was."""

    memory_pct: float | None
    disk_pct: float | None
    load_per_cpu: float | None
    days_to_full: float | None  # the soonest disk forecast among them, if any grows
    history_points: int  # snapshots the figures come from (1 without history)

    def pressure(self, thresholds: Thresholds) -> list[str]:
        """The figures at or past their warning threshold, in the reader's words."""
        said = []
        if self.memory_pct is not None and self.memory_pct >= thresholds.memory.warn_at:
            said.append(f"메모리 {self.memory_pct:.0f}%")
        if self.disk_pct is not None and self.disk_pct >= thresholds.disk.warn_at:
            said.append(f"디스크 {self.disk_pct:.0f}%")
        if self.load_per_cpu is not None and self.load_per_cpu >= thresholds.load.warn_at:
            said.append(f"부하 {self.load_per_cpu:.2f}/vCPU")
        return said

    def measured(self) -> bool:
        """Whether any figure was collected to weigh."""
        return any(v is not None for v in (self.memory_pct, self.disk_pct, self.load_per_cpu))

    def words(self) -> str:
        """``메모리 10%, 디스크 14%, 부하 0.01/vCPU``; the parts that are known."""
        parts = []
        if self.memory_pct is not None:
            parts.append(f"메모리 {self.memory_pct:.0f}%")
        if self.disk_pct is not None:
            parts.append(f"디스크 {self.disk_pct:.0f}%")
        if self.load_per_cpu is not None:
            parts.append(f"부하 {self.load_per_cpu:.2f}/vCPU")
        return ", ".join(parts) or "수집된 수치 없음"


def _max(values: list[float]) -> float | None:
    return max(values) if values else None


def _now(server: Server) -> tuple[float | None, float | None, float | None]:
    memory = disk = load = None
    if server.memory and server.memory.total:
        memory = server.memory.used * 100.0 / server.memory.total
    disks = [
        f.used * 100.0 / (f.used + f.available)
        for f in server.filesystems
        if f.used + f.available > 0
    ]
    disk = _max(disks)
    system = server.system
    if system and system.load and system.cpu_count:
        load = system.load[1] / system.cpu_count
    return memory, disk, load


def measure(servers: list[Server], trends: Trends | None = None) -> Usage:
    names = {s.name for s in servers}
    memory: list[float] = []
    disk: list[float] = []
    load: list[float] = []
    for server in servers:
        m, d, lo = _now(server)
        memory += [m] if m is not None else []
        disk += [d] if d is not None else []
        load += [lo] if lo is not None else []
    cpus = {s.name: s.system.cpu_count for s in servers if s.system and s.system.cpu_count}
    points = 1
    days: list[float] = []
    if trends is not None:
        points = max(points, len(trends.times))
        for series in trends.servers:
            if series.name not in names:
                continue
            memory += [v for v in series.memory_pct if v is not None]
            if series.name in cpus:
                load += [v / cpus[series.name] for v in series.load5 if v is not None]
            for mount in series.disks:
                disk += [v for v in series.disk_pct(mount) if v is not None]
        days = [
            f.days_left for f in trends.forecasts if f.server in names and f.days_left is not None
        ]
    return Usage(_max(memory), _max(disk), _max(load), min(days) if days else None, points)
