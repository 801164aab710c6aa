"""Each server's highest use over the history: the one set of figures right-sizing
(``analysis/provider.py``) and the scaling advice of sections 4 and 6 weigh.

The figures come from the trends' series (the nightly history, from the stored snapshots
or Prometheus, tonight's snapshot included; without a history, tonight's snapshot alone):
memory in percent of the server's memory, the 5-minute load per CPU, the fullest
filesystem in percent, and the disk forecasts. Korean only in what the reader sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from codeb_report.snapshot import Server, Snapshot
from codeb_report.thresholds import Thresholds

if TYPE_CHECKING:
    from codeb_report.history.trends import ServerSeries, Trends


class Peak(BaseModel):
    """The highest use of one server (or, ``combined``, of a group of servers)."""

    samples: int = 0  # points with a figure (1 without a history)
    memory_percent: float | None = None
    memory_bytes: int | None = None  # the peak share of tonight's memory
    load5: float | None = None
    load_per_vcpu: float | None = None  # of the CPUs the server reports
    disk_percent: float | None = None  # the fullest filesystem
    root_disk_bytes: int | None = None
    root_days_left: float | None = None  # the root filesystem's forecast, if it grows
    days_to_full: float | None = None  # the soonest forecast of any filesystem

    def measured(self) -> bool:
        """Whether any figure was collected to weigh."""
        figures = (self.memory_percent, self.disk_percent, self.load_per_vcpu)
        return any(v is not None for v in figures)

    def words(self) -> str:
        """``메모리 10%, 디스크 14%, 부하 0.01/vCPU``: the figures that are known."""
        parts = []
        if self.memory_percent is not None:
            parts.append(f"메모리 {self.memory_percent:.0f}%")
        if self.disk_percent is not None:
            parts.append(f"디스크 {self.disk_percent:.0f}%")
        if self.load_per_vcpu is not None:
            parts.append(f"부하 {self.load_per_vcpu:.2f}/vCPU")
        return ", ".join(parts) or "수집된 수치 없음"

    def pressure(self, thresholds: Thresholds) -> list[str]:
        """The figures at or past their warning threshold, in the same words."""
        said = []
        if self.memory_percent is not None and self.memory_percent >= thresholds.memory.warn_at:
            said.append(f"메모리 {self.memory_percent:.0f}%")
        if self.disk_percent is not None and self.disk_percent >= thresholds.disk.warn_at:
            said.append(f"디스크 {self.disk_percent:.0f}%")
        if self.load_per_vcpu is not None and self.load_per_vcpu >= thresholds.load.warn_at:
            said.append(f"부하 {self.load_per_vcpu:.2f}/vCPU")
        return said


def peaks_over(snapshot: Snapshot, history: Sequence[Snapshot] = ()) -> dict[str, Peak]:
    """Every server's highest use over the ``history`` snapshots and tonight's."""
    from codeb_report.history.trends import build_trends

    return peaks(snapshot, build_trends([*history, snapshot]))


def peaks(snapshot: Snapshot, trends: Trends) -> dict[str, Peak]:
    """Every server of ``snapshot``: its highest use over ``trends`` (tonight included)."""
    series = {s.name: s for s in trends.servers}
    due: dict[str, dict[str, float | None]] = {}  # by server, once: not every forecast each
    for f in trends.forecasts:
        due.setdefault(f.server, {})[f.mount] = f.days_left
    return {s.name: _peak(s, series.get(s.name), due.get(s.name, {})) for s in snapshot.servers}


def combined(group: Iterable[Peak]) -> Peak:
    """The highest of each figure among ``group`` (the app servers of section 4)."""
    group = list(group)
    return Peak(
        samples=max((p.samples for p in group), default=0),
        memory_percent=_highest(p.memory_percent for p in group),
        disk_percent=_highest(p.disk_percent for p in group),
        load_per_vcpu=_highest(p.load_per_vcpu for p in group),
        days_to_full=_lowest(p.days_to_full for p in group),
    )


def _peak(server: Server, series: ServerSeries | None, days: dict[str, float | None]) -> Peak:
    """``days``: days left of the server's filesystems, by mount."""
    if series is None:
        return Peak()
    memory = _highest(series.memory_pct)
    load5 = _highest(series.load5)
    cpus = server.system.cpu_count if server.system else None
    total = server.memory.total if server.memory else None
    root = [p for p in series.disks.get("/", []) if p is not None]
    disks = [v for mount in series.disks for v in series.disk_pct(mount) if v is not None]
    return Peak(
        samples=_samples([series.memory_pct, series.load5, *series.disks.values()]),
        memory_percent=memory,
        memory_bytes=round(memory * total / 100) if memory is not None and total else None,
        load5=load5,
        load_per_vcpu=load5 / cpus if load5 is not None and cpus else None,
        disk_percent=max(disks, default=None),
        root_disk_bytes=max((p.used for p in root), default=None),
        root_days_left=days.get("/"),
        days_to_full=_lowest(days.values()),
    )


def _samples(columns: list[Sequence[object | None]]) -> int:
    """How many points in time have any figure (the columns need not be as long)."""
    length = max((len(c) for c in columns), default=0)
    return sum(any(i < len(c) and c[i] is not None for c in columns) for i in range(length))


def _highest(values: Iterable[float | None]) -> float | None:
    return max((v for v in values if v is not None), default=None)


def _lowest(values: Iterable[float | None]) -> float | None:
    return min((v for v in values if v is not None), default=None)
