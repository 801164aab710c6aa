"""Series over the latest snapshots, and when each filesystem will be full at its pace.

The forecast is a least-squares line through a filesystem's used bytes against time;
its slope is the daily growth, and the free space of the latest snapshot divided by it
is the days left. Only the run of snapshots since the filesystem last changed size
counts, so a disk that was grown is not forecast from its old size.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from codeb_report.analysis.model import Finding, Priority, code, text
from codeb_report.history.settings import TrendSettings
from codeb_report.history.summary import size
from codeb_report.snapshot import Snapshot

FORECAST_RULE = "disk-full-forecast"
DAY = 86400.0


@dataclass(slots=True)  # 280,000 of them for 1,000 servers over 30 days: 64 bytes, not 160
class FilesystemPoint:
    at: datetime
    size: int
    used: int
    available: int

    @property
    def pct(self) -> float:
        whole = self.used + self.available
        return self.used * 100.0 / whole if whole else 0.0


@dataclass
class ServerSeries:
    """One server's figures, aligned with ``Trends.times``; ``None`` where it was not seen."""

    name: str
    memory_pct: list[float | None] = field(default_factory=list)
    load1: list[float | None] = field(default_factory=list)
    load5: list[float | None] = field(default_factory=list)  # what the load rule judges
    disks: dict[str, list[FilesystemPoint | None]] = field(default_factory=dict)

    def disk_pct(self, mount: str) -> list[float | None]:
        return [p.pct if p else None for p in self.disks[mount]]


@dataclass
class Forecast:
    server: str
    mount: str
    points: int  # snapshots the fit used
    growth_per_day: float  # bytes
    size: int
    available: int  # in the latest snapshot
    days_left: float | None  # None when the filesystem is not growing
    days: float = 0.0  # from the first to the last point of the fit
    source: Source = "snapshots"


Source = Literal["snapshots", "prometheus"]


@dataclass
class Trends:
    times: list[datetime]
    servers: list[ServerSeries]
    forecasts: list[Forecast]
    source: Source = "snapshots"  # prometheus: range queries, plus the snapshots' own points
    step: float | None = None  # seconds between Prometheus' points
    min_days: float = 0.0  # a forecast's points must span this many days


class TrendSource(Protocol):
    """Where the series come from: the stored snapshots, or Prometheus' range queries."""

    def trends(self, snapshots: list[Snapshot], settings: TrendSettings) -> Trends:
        """Series over ``snapshots`` (oldest first, tonight's last) and the forecasts."""
        ...


class SnapshotTrends:
    """One point per stored snapshot: the history without Prometheus."""

    def trends(self, snapshots: list[Snapshot], settings: TrendSettings) -> Trends:
        return build_trends(snapshots, settings)


def build_trends(snapshots: list[Snapshot], settings: TrendSettings | None = None) -> Trends:
    """Series of every server over ``snapshots`` (oldest first) and the disk forecasts."""
    settings = settings or TrendSettings()
    snapshots = sorted(snapshots, key=lambda s: s.collected_at)[-settings.snapshots :]
    times = [s.collected_at for s in snapshots]
    series: dict[str, ServerSeries] = {}
    for index, snapshot in enumerate(snapshots):
        add_snapshot(series, index, snapshot, len(times))
    ordered = [series[name] for name in sorted(series)]
    return Trends(times=times, servers=ordered, forecasts=forecasts_of(ordered, settings))


def add_snapshot(
    series: dict[str, ServerSeries], index: int, snapshot: Snapshot, length: int
) -> None:
    """``snapshot``'s figures as point ``index`` of series ``length`` long."""
    for server in snapshot.servers:
        one = series.setdefault(server.name, _empty(server.name, length))
        if not server.reachable:
            continue
        if server.memory and server.memory.total:
            one.memory_pct[index] = server.memory.used * 100.0 / server.memory.total
        if server.system and server.system.load:
            one.load1[index] = server.system.load[0]
            one.load5[index] = server.system.load[1]
        for fs in server.filesystems:
            points = one.disks.setdefault(fs.mount, [None] * length)
            points[index] = FilesystemPoint(snapshot.collected_at, fs.size, fs.used, fs.available)


def _empty(name: str, length: int) -> ServerSeries:
    return ServerSeries(
        name=name, memory_pct=[None] * length, load1=[None] * length, load5=[None] * length
    )


def forecasts_of(
    servers: list[ServerSeries],
    settings: TrendSettings,
    source: Source = "snapshots",
    min_days: float = 0.0,
) -> list[Forecast]:
    """Forecasts for the filesystems seen in the latest snapshot."""
    result = []
    for one in servers:
        for mount, points in sorted(one.disks.items()):
            if points[-1] is None:
                continue
            forecast = fit(one.name, mount, _current_run(points), settings.min_points)
            if forecast is not None and forecast.days >= min_days:
                forecast.source = source
                result.append(forecast)
    return result


def _current_run(points: list[FilesystemPoint | None]) -> list[FilesystemPoint]:
    """The latest points back to the last change of the filesystem's size."""
    seen = [p for p in points if p is not None]
    run: list[FilesystemPoint] = []
    for point in reversed(seen):
        if point.size != seen[-1].size:
            break
        run.append(point)
    return run[::-1]


def fit(server: str, mount: str, points: list[FilesystemPoint], min_points: int) -> Forecast | None:
    """Least-squares growth of used bytes per day; days left at that pace."""
    if len(points) < min_points:
        return None
    start = points[0].at
    xs = [(p.at - start).total_seconds() / DAY for p in points]
    ys = [float(p.used) for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    last = points[-1]
    days_left = last.available / slope if slope > 0 else None
    return Forecast(
        server=server,
        mount=mount,
        points=len(points),
        growth_per_day=slope,
        size=last.size,
        available=last.available,
        days_left=days_left,
        days=xs[-1],
    )


def forecast_findings(trends: Trends, settings: TrendSettings | None = None) -> list[Finding]:
    """ "디스크 용량 소진 예상" findings: one per server, for its soonest-full filesystem.

    One per server because findings are keyed by (rule, server) across reports; the other
    filesystems due within the horizon are named in its description.
    """
    settings = settings or TrendSettings()
    due: dict[str, list[Forecast]] = {}
    for f in trends.forecasts:
        if f.days_left is not None and f.days_left < settings.horizon_days:
            due.setdefault(f.server, []).append(f)
    findings = []
    for server, forecasts in sorted(due.items()):
        forecasts.sort(key=lambda f: f.days_left or 0.0)
        findings.append(_finding(server, forecasts, settings))
    return findings


def forecasts_at(
    trends: Trends,
    at: datetime,
    settings: TrendSettings | None = None,
    servers: Collection[str] | None = None,
) -> list[Finding]:
    """The forecast findings of an earlier night, the one whose snapshot was collected
    ``at``: from the series of ``trends`` up to that moment, for ``servers`` only
    (None: all). The series' times need not be the snapshots' (Prometheus steps)."""
    count = bisect_right(trends.times, at)
    if count == 0:
        return []
    series = [
        ServerSeries(one.name, disks={mount: points[:count] for mount, points in one.disks.items()})
        for one in trends.servers
        if servers is None or one.name in servers
    ]
    found = forecasts_of(series, settings or TrendSettings(), trends.source, trends.min_days)
    earlier = Trends(trends.times[:count], series, found, trends.source, trends.step)
    return forecast_findings(earlier, settings)


def whole_days(days: float) -> int:
    """Days left rounded down, the one figure title, description and priority use."""
    return max(int(days + 1e-6), 0)  # 9.9999998 from float noise is 10


def days_text(days: float) -> str:
    return f"{whole_days(days)}일 후"


def _finding(server: str, forecasts: list[Forecast], settings: TrendSettings) -> Finding:
    first = forecasts[0]
    assert first.days_left is not None
    description = text(
        code(first.mount),
        f" 사용량이 하루 평균 {size(int(first.growth_per_day))}씩 늘고 있어 ",
        f"남은 {size(first.available)}가 {days_text(first.days_left)} 소진될 것으로 ",
        f"보입니다(계산값 {first.days_left:.1f}일을 일 단위로 내림, {_basis(first)} 기준).",
    )
    for other in forecasts[1:]:
        assert other.days_left is not None
        description += text(" ", code(other.mount), f"도 {days_text(other.days_left)} 소진 예상.")
    high = whole_days(first.days_left) <= settings.high_days
    return Finding(
        rule=FORECAST_RULE,
        priority=Priority.HIGH if high else Priority.MEDIUM,
        server=server,
        title=f"디스크 용량 소진 예상: {days_text(first.days_left)}",
        description=description,
        action="불필요한 파일·로그 정리 또는 디스크 증설",
        icon="❌" if high else "⚠️",
    )


def _basis(forecast: Forecast) -> str:
    if forecast.source == "prometheus":
        return f"Prometheus 기록 {round(forecast.days)}일, {forecast.points}개 지점"
    return f"최근 {forecast.points}회 스냅샷"
