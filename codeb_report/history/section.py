"""What the nightly report says about the past: "전일 대비 변경 사항" and "리소스 추세".

``build_history`` reads the stored history, diffs against the most recent earlier snapshot
and forecasts full disks; the ``HistoryReport`` it returns is the view the renderer lays
out (as ``Analysis`` is), so history never calls the renderer.

    history = build_history(snapshot, analysis, output_root, analyse)
    history.summary  # Korean lines for the mail body, most important first
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from functools import cached_property
from pathlib import Path

from codeb_report.analysis.model import Analysis, Finding, Priority
from codeb_report.errors import SnapshotError
from codeb_report.history.compare import Analyse, Judge, diff_with_findings
from codeb_report.history.diff import SnapshotDiff, diff_snapshots
from codeb_report.history.settings import DiffSettings, TrendSettings
from codeb_report.history.store import Stored, as_date, previous_snapshot, recent_snapshots
from codeb_report.history.summary import size, summary_lines
from codeb_report.history.trends import (
    Forecast,
    SnapshotTrends,
    Trends,
    TrendSource,
    days_text,
    forecast_findings,
    forecasts_at,
)
from codeb_report.history.view import DiffView, diff_view, no_previous_view
from codeb_report.logs import get_logger
from codeb_report.outputdir import local_time
from codeb_report.snapshot import Snapshot
from codeb_report.units import duration

log = get_logger("history")
FORECAST_TABLE_DAYS = 365
# A large fleet gets per-server charts for this many servers at most (two charts a row,
# about four rows a page).
CHARTED_AT_MOST = 20
_RANK = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


# A large fleet's forecast table: at most this many rows (as a grouped finding names at
# most 30 servers).
FORECAST_ROWS_AT_SCALE = 30


@dataclass
class ForecastTable:
    """디스크 용량 소진 예상 as the template lays it out: the rows, and the counts of the
    growing filesystems left out of them."""

    rows: list[list[str]]
    later: int  # growing, not full within a year
    horizon_days: float | None = None  # a large fleet's table: only those due within it
    rest: list[list[str]] = field(default_factory=list)  # due within it, past the rows
    due_servers: int = 0  # servers with a filesystem due within the horizon
    within_year: int = 0  # full within a year but after the horizon: counted only
    within_year_servers: int = 0


@dataclass
class HistoryReport:
    """The two history sections of one report, ready for the templates."""

    day: date
    previous: date | None
    diff: SnapshotDiff | None
    trends: Trends
    forecasts: list[Finding]  # 디스크 용량 소진 예상, already merged into the findings
    settings: TrendSettings = field(default_factory=TrendSettings)
    zone: tzinfo | None = None  # the report's time zone: every time shown is in it
    skipped: list[date] = field(default_factory=list)  # stored days that did not load

    @cached_property
    def diff_view(self) -> DiffView:
        if self.diff is None:
            return no_previous_view(self.day)
        return diff_view(self.diff, self.zone)

    @property
    def summary(self) -> list[str]:
        """For the mail body: the changes, most important first (Korean)."""
        if self.diff is None:
            return [self.diff_view.note or ""]
        return summary_lines(self.diff, self.zone)

    @property
    def basis(self) -> str:
        """What the series are: ``스냅샷 30회`` or ``Prometheus 6시간 간격, 스냅샷 3회``."""
        trends = self.trends
        if trends.source == "prometheus" and trends.step:
            step = duration(trends.step)
            return f"Prometheus {step} 간격 {len(trends.times)}개 지점"
        return f"스냅샷 {len(trends.times)}회"

    @property
    def span(self) -> str:
        times = [local_time(at, self.zone).date() for at in self.trends.times]
        if not times:
            return "-"
        return f"{times[0].isoformat()} → {times[-1].isoformat()}"

    def _growing(self) -> list[Forecast]:
        growing = [f for f in self.trends.forecasts if f.days_left is not None]
        return sorted(growing, key=lambda f: (f.days_left or 0.0, f.server, f.mount))

    def _within(self, days: float) -> list[Forecast]:
        return [f for f in self._growing() if (f.days_left or 0.0) < days]

    def _row(self, f: Forecast) -> list[str]:
        assert f.days_left is not None
        due = days_text(f.days_left)
        if f.days_left < self.settings.horizon_days:
            due = f"⚠️ {due}"
        return [f.server, f.mount, size(f.available), size(int(f.growth_per_day)), due]

    @property
    def forecast_rows(self) -> list[list[str]]:
        """서버 | 파일시스템 | 남은 용량 | 하루 증가량 | 소진 예상: full within a year, soonest
        first (a fleet of quiet disks would otherwise fill the table)."""
        return [self._row(f) for f in self._within(FORECAST_TABLE_DAYS)]

    @property
    def forecast_later(self) -> int:
        """Filesystems growing, but not full within a year."""
        return len(self._growing()) - len(self._within(FORECAST_TABLE_DAYS))

    def forecast_table(self, large: bool) -> ForecastTable:
        """The table of section 8. A large fleet's (above ``[report] detail_threshold``)
        lists what is acted on: the filesystems due full within the horizon (the
        findings), soonest first, at most ``FORECAST_ROWS_AT_SCALE`` rows and the others
        of them on a line (every one is acted on, though section 5 names only 30); those
        due later are counted, as sections 1 and 2 summarise a large fleet."""
        if not large:
            return ForecastTable(self.forecast_rows, later=self.forecast_later)
        due = self._within(self.settings.horizon_days)
        year = self._within(FORECAST_TABLE_DAYS)
        shown = due[:FORECAST_ROWS_AT_SCALE]
        return ForecastTable(
            rows=[self._row(f) for f in shown],
            later=self.forecast_later,
            horizon_days=self.settings.horizon_days,
            rest=[self._row(f) for f in due[len(shown) :]],
            due_servers=len({f.server for f in due}),
            within_year=len(year) - len(due),
            within_year_servers=len({f.server for f in year[len(due) :]}),
        )

    @cached_property
    def charts_html(self) -> str:
        from codeb_report.history.charts_html import charts_html

        return charts_html(self.trends, self.zone)

    def charts_of(self, attention: list[str], at_most: int = CHARTED_AT_MOST) -> str:
        """A large fleet's charts: the fleet's figures, then at most ``at_most`` servers,
        those whose disk is due soonest first, then ``attention`` (section 2's detailed
        servers) in their order."""
        from codeb_report.history.charts_html import charts_html

        due = [f.server for f in self._growing() if (f.days_left or 0) < FORECAST_TABLE_DAYS]
        names = list(dict.fromkeys([*due, *attention]))[:at_most]
        return charts_html(self.trends, self.zone, only=names)


Loaded = tuple[list[tuple[date, Snapshot]], list[date]]


@dataclass
class PastNights:
    """The nights stored before ``day`` that the trends read (the latest N - 1), loaded
    once: a run's right-sizing (the provider view) and its history sections read the
    same nights, a thousand servers each on a large fleet."""

    output_root: Path
    day: date
    settings: TrendSettings = field(default_factory=TrendSettings)
    _loaded: Loaded | None = field(default=None, init=False, repr=False)

    def load(self) -> Loaded:
        """Each night that loads as (day, snapshot), oldest first, and the days that did not."""
        if self._loaded is None:
            until = self.day - timedelta(days=1)
            stored = recent_snapshots(self.output_root, self.settings.snapshots - 1, until)
            self._loaded = _loadable(stored)
        return self._loaded


def build_history(
    snapshot: Snapshot,
    analysis: Analysis,
    output_root: Path,
    analyse: Analyse,
    day: date | None = None,
    diff_settings: DiffSettings | None = None,
    trend_settings: TrendSettings | None = None,
    zone: tzinfo | None = None,
    source: TrendSource | None = None,
    judge: Judge | None = None,
    nights: PastNights | None = None,
) -> HistoryReport:
    """History of ``snapshot`` (the report of ``day``) from the snapshots stored before it;
    times and ages as the reader in ``zone`` (the report's time zone) counts them.
    ``judge``: ``analyse``'s findings alone, for the nights a finding is dated back over.
    ``nights``: those same stored nights, when the caller has loaded them already."""
    trend_settings = trend_settings or TrendSettings()
    day = day or local_time(snapshot.collected_at, zone).date()
    nights = nights or PastNights(output_root, day, trend_settings)
    loaded, skipped = nights.load()
    past = [one for _, one in loaded]
    trends = (source or SnapshotTrends()).trends([*past, snapshot], trend_settings)
    forecasts = forecast_findings(trends, trend_settings)
    diff = None
    if past:
        # Earlier nights are judged as their reports were, disk forecasts included, so a
        # forecast open for weeks is dated back to its first night like any finding.
        old_forecasts = forecasts_at(trends, past[-1].collected_at, trend_settings)
        traced = {f.server for f in [*forecasts, *old_forecasts]}

        def analyse_night(one: Snapshot) -> Analysis:
            found = forecasts_at(trends, one.collected_at, trend_settings, traced)
            return with_findings(analyse(one), found)

        def judge_night(one: Snapshot) -> list[Finding]:
            found = forecasts_at(trends, one.collected_at, trend_settings, traced)
            return [*(judge(one) if judge else analyse(one).findings), *found]

        diff = diff_with_findings(
            past[-1],
            snapshot,
            analyse_night,
            diff_settings,
            earlier=[lambda _names, s=s: s for s in reversed(past[:-1])],  # loaded whole
            new_findings=[*analysis.findings, *forecasts],
            zone=zone,
            judge_earlier=judge_night,
        )
    return HistoryReport(
        day=day,
        previous=loaded[-1][0] if loaded else None,
        diff=diff,
        trends=trends,
        forecasts=forecasts,
        settings=trend_settings,
        zone=zone,
        skipped=skipped,
    )


def past_snapshots(
    output_root: Path, day: date, settings: TrendSettings | None = None
) -> list[Snapshot]:
    """The snapshots the trends read before ``day`` (oldest first), loadable ones only."""
    nights = PastNights(output_root, day, settings or TrendSettings())
    return [one for _, one in nights.load()[0]]


def _loadable(stored: list[Stored]) -> Loaded:
    """The stored snapshots that load, and the days whose snapshot did not: a broken one
    (unreadable, or refused by the model, e.g. an infinite load) is logged and left out,
    and the report says so; it never costs the history sections."""
    snapshots, skipped = [], []
    for one in stored:
        try:
            snapshots.append((one.day, one.load()))
        except SnapshotError as exc:
            log.warning("history: %s left out: %s", one.day, exc.format_message())
            skipped.append(one.day)
    return snapshots, skipped


def with_findings(analysis: Analysis, extra: list[Finding]) -> Analysis:
    """``analysis`` with ``extra`` findings merged in, High to Low (stable otherwise)."""
    if not extra:
        return analysis
    findings = sorted([*analysis.findings, *extra], key=lambda f: _RANK[f.priority])
    return analysis.model_copy(update={"findings": findings})


MAIL_CHANGES = 10


def mail_changes(
    folder: Path, snapshot: Snapshot, zone: tzinfo | None = None, limit: int = MAIL_CHANGES
) -> list[str]:
    """The mail body's "전일 대비 변경 사항": ``summary_lines`` against the snapshot stored
    before ``folder`` (a dated report folder), at most ``limit`` lines, times in ``zone``.

    Findings are left out here: the mail lists the High ones itself, judged with the
    run's thresholds.
    """
    day = as_date(folder.resolve().name)
    previous = previous_snapshot(folder.resolve().parent, day) if day else None
    if day is None or previous is None:
        return [no_previous_view(day or local_time(snapshot.collected_at, zone).date()).note or ""]
    lines = summary_lines(diff_snapshots(previous.load(), snapshot), zone)
    if len(lines) > limit:
        lines = [*lines[: limit - 1], f"외 {len(lines) - limit + 1}건 (첨부한 PDF의 5장 참조)"]
    return lines
