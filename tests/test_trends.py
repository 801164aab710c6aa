"""Trends over a generated history: aligned series, the forecast's numbers, its findings."""

from __future__ import annotations

from datetime import timedelta

import history_gen as gen
import pytest

from codeb_report.analysis.model import Priority
from codeb_report.history.settings import TrendSettings
from codeb_report.history.trends import (
    FORECAST_RULE,
    FilesystemPoint,
    Forecast,
    Trends,
    build_trends,
    fit,
    forecast_findings,
)

HISTORY = gen.history()  # 35 days
GIB = gen.GB


def test_series_cover_the_last_n_snapshots_aligned() -> None:
    trends = build_trends(HISTORY)
    assert len(trends.times) == 30  # default N
    assert trends.times[-1] == HISTORY[-1].collected_at
    first = 35 - 30
    by_name = {s.name: s for s in trends.servers}
    assert set(by_name) == {"n1", "n2", "n3", "n4", "n5"}
    # n5 exists on days 10..24 only; n3 was unreachable on day 20.
    n5 = by_name["n5"].memory_pct
    assert [i + first for i, v in enumerate(n5) if v is not None] == list(range(10, 25))
    assert by_name["n3"].load1[20 - first] is None
    assert by_name["n3"].load1[21 - first] is not None
    assert all(len(s.memory_pct) == 30 and len(s.load1) == 30 for s in trends.servers)


def test_forecast_of_a_filling_filesystem() -> None:
    # /data: 1 GiB a day more, 10 GiB free on the last day -> 10 days.
    trends = build_trends(HISTORY)
    [data] = [f for f in trends.forecasts if f.mount == "/data"]
    assert data.server == "n1"
    assert data.growth_per_day == pytest.approx(GIB, rel=1e-6)
    assert data.available == 10 * GIB
    assert data.days_left == pytest.approx(10, abs=0.01)
    assert data.points == 30


def test_forecast_becomes_a_finding_within_the_horizon() -> None:
    trends = build_trends(HISTORY)
    [finding] = forecast_findings(trends)
    assert (finding.rule, finding.server) == (FORECAST_RULE, "n1")
    assert finding.title == "디스크 용량 소진 예상: 10일 후"
    assert finding.priority == Priority.MEDIUM
    assert "/data" in [s.text for s in finding.description if s.code]
    urgent = forecast_findings(trends, TrendSettings(high_days=12))
    assert urgent[0].priority == Priority.HIGH
    assert forecast_findings(trends, TrendSettings(horizon_days=9)) == []


def _points(used: list[int], size: int = 100 * GIB, start_index: int = 0) -> list[FilesystemPoint]:
    base = HISTORY[0].collected_at
    return [
        FilesystemPoint(base + timedelta(days=start_index + i), size, u, size - u)
        for i, u in enumerate(used)
    ]


def test_fit_through_noise_stays_close() -> None:
    noise = [0, 300, -200, 150, -250, 100, -50, 200, -300, 0]
    used = [50 * GIB + i * 2 * GIB + n * 2**20 for i, n in enumerate(noise)]
    forecast = fit("s", "/", _points(used), 3)
    assert forecast is not None and forecast.days_left is not None
    # 100 GiB - (50 + 18) GiB = 32 GiB free at 2 GiB/day: 16 days.
    assert forecast.days_left == pytest.approx(16, abs=0.5)


def test_no_forecast_when_not_growing_or_too_few_points() -> None:
    shrinking = fit("s", "/", _points([50 * GIB - i * GIB for i in range(5)]), 3)
    assert shrinking is not None and shrinking.days_left is None
    flat = fit("s", "/", _points([50 * GIB] * 5), 3)
    assert flat is not None and flat.days_left is None
    assert fit("s", "/", _points([1, 2]), 3) is None


def test_a_grown_filesystem_is_forecast_from_its_new_size_only() -> None:
    snapshots = [s.model_copy(deep=True) for s in HISTORY]
    for snapshot in snapshots[-5:]:  # /data doubled five days ago, growth unchanged
        n1 = snapshot.server("n1")
        assert n1 is not None
        data = next(f for f in n1.filesystems if f.mount == "/data")
        data.size += 100 * GIB
        data.available += 100 * GIB
    [forecast] = [f for f in build_trends(snapshots).forecasts if f.mount == "/data"]
    assert forecast.points == 5
    assert forecast.days_left == pytest.approx(110, abs=0.5)
    assert forecast_findings(build_trends(snapshots)) == []


@pytest.mark.parametrize(
    ("days_left", "title_days", "priority"),
    [(7.6, 7, Priority.HIGH), (7.0, 7, Priority.HIGH), (8.4, 8, Priority.MEDIUM)],
)
def test_forecast_title_description_and_priority_agree_on_whole_days(
    days_left: float, title_days: int, priority: Priority
) -> None:
    # 7.6 days left: "7일 후" everywhere, and High under high_days=7, as the setting promises.
    forecast = Forecast("n1", "/data", 30, float(GIB), 100 * GIB, int(days_left * GIB), days_left)
    trends = Trends(times=[], servers=[], forecasts=[forecast])
    [finding] = forecast_findings(trends, TrendSettings(high_days=7))
    assert finding.title == f"디스크 용량 소진 예상: {title_days}일 후"
    words = "".join(s.text for s in finding.description)
    assert f"{title_days}일 후 소진될 것으로" in words
    assert f"계산값 {days_left:.1f}일을 일 단위로 내림" in words
    assert finding.priority == priority
