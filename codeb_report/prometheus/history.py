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
from datetime import datetime

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
from codeb_report.snapshot import Server, Snapshot

log = get_logger("history")
MIN_STEP = 60.0
CHUNK = 250  # servers per range query

Targets = Callable[[Snapshot], list[Target]]


def step_for(settings: PrometheusSettings) -> float:
    """Seconds between points: the window over ``history_points``, in whole minutes."""
    raw = settings.history_days * DAY / settings.history_points
    return max(MIN_STEP, math.ceil(raw / 60.0) * 60.0)


Values = list[float | None]  # aligned to RangeData.grid


@dataclass
class _Disk:
    size: Values
    free: Values
    avail: Values


@dataclass
class RangeData:
    """What the range queries said, by server name, aligned to ``grid`` (unix times)."""

    grid: list[float]
    memory: dict[str, Values] = field(default_factory=dict)
    load1: dict[str, Values] = field(default_factory=dict)
    load5: dict[str, Values] = field(default_factory=dict)
    disks: dict[str, dict[str, _Disk]] = field(default_factory=dict)


def fetch(
    client: PrometheusClient, settings: PrometheusSettings, targets: list[Target], end: float
) -> RangeData:
    """The three range queries, for ``CHUNK`` servers at a time: one answer for a
    thousand servers' filesystems over months would be hundreds of MB of JSON."""
    step = step_for(settings)
    last = end - end % step
    start = last - math.ceil(settings.history_days * DAY / step) * step
    data = RangeData(grid=[start + i * step for i in range(round((last - start) / step) + 1)])
    chunks = [targets[i : i + CHUNK] for i in range(0, len(targets), CHUNK)]
    jobs = [(chunk, kind) for chunk in chunks for kind in ("memory", "load", "disks")]

    def run(job: tuple[list[Target], str]) -> None:
        chunk, kind = job
        narrow = fleet_filter(t.matchers for t in chunk)
        index = Index({t.name: t.matchers for t in chunk}, narrow[0].label if narrow else None)
        answer = client.query_range(_query(kind, narrow), start, last, step)
        _keep(data, kind, answer, index)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="prometheus") as pool:
        list(pool.map(run, jobs))
    return data


def _query(kind: str, narrow: tuple[Matcher, ...]) -> str:
    if kind == "memory":
        total, available = (selector(m, narrow) for m in MEMORY)
        return f"100 * (1 - {available} / {total})"
    if kind == "load":
        return selector("", (Matcher("__name__", "=~", "node_load1|node_load5"), *narrow))
    pseudo = Matcher("fstype", "!~", "|".join(sorted(PSEUDO_TYPES)))
    names = Matcher("__name__", "=~", "|".join((FS_SIZE, FS_FREE, FS_AVAIL)))
    return selector("", (names, *narrow, pseudo))


def _keep(data: RangeData, kind: str, answer: list[RangeSeries], index: Index) -> None:
    """Each series into ``data`` under the server it belongs to (dict writes are atomic
    under the GIL; two chunks never share a server)."""
    for series in answer:
        for name in index.owners(series.labels):
            metric = series.labels.get("__name__", "")
            if kind == "memory":
                data.memory.setdefault(name, series.values)
            elif kind == "load":
                which = data.load1 if metric == "node_load1" else data.load5
                which.setdefault(name, series.values)
            else:
                mount = series.labels.get("mountpoint", "")
                empty: Values = [None] * len(data.grid)
                disk = data.disks.setdefault(name, {}).setdefault(
                    mount, _Disk(list(empty), list(empty), list(empty))
                )
                part = {FS_SIZE: "size", FS_FREE: "free", FS_AVAIL: "avail"}.get(metric)
                if part is not None:
                    setattr(disk, part, series.values)


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
        stamps = {t: datetime.fromtimestamp(t, zone) for t in data.grid}  # once, not per point
        times = [s.collected_at if s else stamps[t] for t, s in points]
        length = len(times)
        series: dict[str, ServerSeries] = {}
        for index, (_, snapshot) in enumerate(points):
            if snapshot is not None:
                add_snapshot(series, index, snapshot, length)
        names = set(series) | set(data.memory) | set(data.disks)
        tonight = {server.name: server for server in latest.servers}
        at = {t: i for i, t in enumerate(data.grid)}
        # (index in the series, index in Prometheus' grid, time): the same for every server.
        grid = [(index, at[t], stamps[t]) for index, (t, s) in enumerate(points) if s is None]
        for name in sorted(names):
            one = series.setdefault(
                name,
                ServerSeries(name, [None] * length, [None] * length, [None] * length),
            )
            _fill(one, data, grid, length, _mounts(tonight.get(name)))
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


def _mounts(server: Server | None) -> set[str]:
    return {f.mount for f in server.filesystems} if server else set()


def _fill(
    one: ServerSeries,
    data: RangeData,
    grid: list[tuple[int, int, datetime]],
    length: int,
    mounts: set[str],
) -> None:
    """Prometheus' values at the grid points (the snapshots' points are theirs)."""
    none: Values = [None] * len(data.grid)
    memory, load1, load5 = (d.get(one.name, none) for d in (data.memory, data.load1, data.load5))
    for index, i, _ in grid:
        one.memory_pct[index] = memory[i]
        one.load1[index] = load1[i]
        one.load5[index] = load5[i]
    for mount, disk in data.disks.get(one.name, {}).items():
        if not mounts or mount in mounts:  # a bind mount the snapshot left out stays out
            _disk_points(disk, grid, one.disks.setdefault(mount, [None] * length))


def _disk_points(
    disk: _Disk, grid: list[tuple[int, int, datetime]], points: list[FilesystemPoint | None]
) -> None:
    """A filesystem's points from its size, free and available bytes: 280,000 of them for
    a thousand servers over 30 days, hence one loop and no call per point."""
    sizes, free, avail = disk.size, disk.free, disk.avail
    for index, i, at in grid:
        size, left, usable = sizes[i], free[i], avail[i]
        if size is None or left is None or usable is None or size <= 0:
            points[index] = None
        else:
            used = max(int(size - left), 0)
            points[index] = FilesystemPoint(at, int(size), used, max(int(usable), 0))
