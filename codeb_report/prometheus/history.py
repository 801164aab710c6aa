"""리소스 추세 and the disk-full forecasts from Prometheus' range queries.

Three range queries for the whole fleet over ``history_days``, at a step
that gives about
``history_points`` points: memory use in percent, the 1- and 5-minute load, and the
filesystems' size, free and available bytes. The grid is aligned to the step; the stored
snapshots (tonight's last) are points of their own, so the charts end where the report's
figures are. A fleet whose Prometheus keeps 90 days gets 90-day trends on its
first night.

Servers Prometheus has no series for keep empty series; if Prometheus cannot answer,
the stored snapshots are used as without it (the run log says why).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from codeb_report.history.settings import TrendSettings
from codeb_report.history.trends import (
    DAY,
    FilesystemPoint,
    ServerSeries,
    SnapshotTrends,
    Trends,
    TrendSource,
    add_snapshot,
    forecasts_of,
)
from codeb_report.logs import get_logger
from codeb_report.probes.filesystems import PSEUDO_TYPES
from codeb_report.prometheus.client import PrometheusClient, PrometheusError, RangeSeries
from codeb_report.prometheus.collect import FS_AVAIL, FS_FREE, FS_SIZE, MEMORY, Target
from codeb_report.prometheus.matchers import Index, Matcher, fleet_filter, selector
from codeb_report.prometheus.settings import PrometheusSettings
from codeb_report.snapshot import Snapshot

log = get_logger("history")
MIN_STEP = 60.0

Targets = Callable[[Snapshot], list[Target]]


def step_for(settings: PrometheusSettings) -> float:
    """Seconds between points: the window over ``history_points``, in whole minutes."""
    raw = settings.history_days * DAY / settings.history_points
    return max(MIN_STEP, math.ceil(raw / 60.0) * 60.0)


@dataclass
class _Disk:
    size: dict[float, float] = field(default_factory=dict)
    free: dict[float, float] = field(default_factory=dict)
    avail: dict[float, float] = field(default_factory=dict)


@dataclass
class RangeData:
    """What the range queries said, by server name and grid time."""

    grid: list[float]
    memory: dict[str, dict[float, float]] = field(default_factory=dict)
    load1: dict[str, dict[float, float]] = field(default_factory=dict)
    load5: dict[str, dict[float, float]] = field(default_factory=dict)
    disks: dict[str, dict[str, _Disk]] = field(default_factory=dict)


def fetch(
    client: PrometheusClient, settings: PrometheusSettings, targets: list[Target], end: float
) -> RangeData:
    step = step_for(settings)
    last = end - end % step
    start = last - math.ceil(settings.history_days * DAY / step) * step
    narrow = fleet_filter(t.matchers for t in targets)
    index = Index({t.name: t.matchers for t in targets}, narrow[0].label if narrow else None)
    total, available = (selector(m, narrow) for m in MEMORY)
    loads = selector("", (Matcher("__name__", "=~", "node_load1|node_load5"), *narrow))
    pseudo = Matcher("fstype", "!~", "|".join(sorted(PSEUDO_TYPES)))
    names = Matcher("__name__", "=~", "|".join((FS_SIZE, FS_FREE, FS_AVAIL)))
    queries = [
        f"100 * (1 - {available} / {total})",
        loads,
        selector("", (names, *narrow, pseudo)),
    ]
    with ThreadPoolExecutor(max_workers=len(queries), thread_name_prefix="prometheus") as pool:
        memory, load, disks = pool.map(lambda q: client.query_range(q, start, last, step), queries)
    count = round((last - start) / step)
    data = RangeData(grid=[start + i * step for i in range(count + 1)])
    for series, name in _owned(memory, index):
        data.memory.setdefault(name, dict(series.points))
    for series, name in _owned(load, index):
        which = data.load1 if series.labels.get("__name__") == "node_load1" else data.load5
        which.setdefault(name, dict(series.points))
    for series, name in _owned(disks, index):
        mount = series.labels.get("mountpoint", "")
        disk = data.disks.setdefault(name, {}).setdefault(mount, _Disk())
        part = {FS_SIZE: disk.size, FS_FREE: disk.free, FS_AVAIL: disk.avail}
        part.get(series.labels.get("__name__", ""), {}).update(series.points)
    return data


def _owned(result: list[RangeSeries], index: Index) -> list[tuple[RangeSeries, str]]:
    return [(series, name) for series in result for name in index.owners(series.labels)]


@dataclass
class PrometheusTrends:
    """A ``TrendSource`` reading Prometheus: its points over the window, and each stored
    snapshot's (tonight's last) at its own time, so the charts end at the report's figures
    and the diff finds every earlier night's forecasts as it would from the snapshots."""

    settings: PrometheusSettings
    targets: Targets
    fallback: TrendSource = field(default_factory=SnapshotTrends)
    failed: str | None = None

    def trends(self, snapshots: list[Snapshot], settings: TrendSettings) -> Trends:
        if not snapshots:
            return self.fallback.trends(snapshots, settings)
        latest = max(snapshots, key=lambda s: s.collected_at)
        try:
            with PrometheusClient(self.settings) as client:
                end = latest.collected_at.timestamp()
                data = fetch(client, self.settings, self.targets(latest), end)
        except PrometheusError as exc:
            self.failed = str(exc)
            log.warning("trends from the stored snapshots: Prometheus: %s", exc)
            return self.fallback.trends(snapshots, settings)
        return self.build(data, snapshots, settings)

    def build(self, data: RangeData, snapshots: list[Snapshot], settings: TrendSettings) -> Trends:
        ordered_snapshots = sorted(snapshots, key=lambda s: s.collected_at)
        latest = ordered_snapshots[-1]
        end = latest.collected_at.timestamp()
        start = end - self.settings.history_days * DAY
        zone = latest.collected_at.tzinfo
        kept = [s for s in ordered_snapshots if s.collected_at.timestamp() >= start]
        points: list[tuple[float, Snapshot | None]] = [
            (t, None) for t in data.grid if start <= t < end
        ]
        points += [(s.collected_at.timestamp(), s) for s in kept]
        points.sort(key=lambda p: (p[0], p[1] is not None))
        times = [s.collected_at if s else datetime.fromtimestamp(t, zone) for t, s in points]
        length = len(times)
        series: dict[str, ServerSeries] = {}
        for index, (_, snapshot) in enumerate(points):
            if snapshot is not None:
                add_snapshot(series, index, snapshot, length)
        names = set(series) | set(data.memory) | set(data.disks)
        for name in sorted(names):
            one = series.setdefault(
                name,
                ServerSeries(name, [None] * length, [None] * length, [None] * length),
            )
            _fill(one, data, points, zone, _mounts(latest, name))
        ordered = [series[name] for name in sorted(series)]
        min_days = settings.min_points - 1  # as long as the snapshots the other source needs
        forecasts = forecasts_of(ordered, settings, "prometheus", min_days)
        return Trends(
            times=times,
            servers=ordered,
            forecasts=forecasts,
            source="prometheus",
            step=step_for(self.settings),
            min_days=min_days,
        )


def _mounts(latest: Snapshot, name: str) -> set[str]:
    server = latest.server(name)
    return {f.mount for f in server.filesystems} if server else set()


def _fill(
    one: ServerSeries,
    data: RangeData,
    points: list[tuple[float, Snapshot | None]],
    zone: tzinfo | None,
    mounts: set[str],
) -> None:
    """Prometheus' values at the grid points (the snapshots' points are theirs)."""
    memory, load1, load5 = (d.get(one.name, {}) for d in (data.memory, data.load1, data.load5))
    disks = {
        mount: disk
        for mount, disk in data.disks.get(one.name, {}).items()
        if not mounts or mount in mounts  # a bind mount the snapshot left out stays out
    }
    for mount in disks:
        one.disks.setdefault(mount, [None] * len(points))
    for index, (t, snapshot) in enumerate(points):
        if snapshot is not None:
            continue
        one.memory_pct[index] = memory.get(t)
        one.load1[index] = load1.get(t)
        one.load5[index] = load5.get(t)
        for mount, disk in disks.items():
            one.disks[mount][index] = _point(disk, t, zone)


def _point(disk: _Disk, t: float, zone: tzinfo | None) -> FilesystemPoint | None:
    size, free, avail = disk.size.get(t), disk.free.get(t), disk.avail.get(t)
    if size is None or free is None or avail is None or size <= 0:
        return None
    at = datetime.fromtimestamp(t, zone)
    return FilesystemPoint(at, int(size), max(int(size - free), 0), max(int(avail), 0))
