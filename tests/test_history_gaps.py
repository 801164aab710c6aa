"""Findings keep their age across a day their server was not reached, across a few minutes
of difference in collection time, and for the disk forecast as for every other finding."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import history_gen as gen
import pytest

from codeb_report.analysis import analyse
from codeb_report.history.diff import FindingState, SnapshotDiff
from codeb_report.history.section import build_history
from codeb_report.history.trends import FORECAST_RULE
from codeb_report.snapshot import Snapshot, save

FAILED_SERVICE = ("service.failed", "n2")  # n2's codeb-watchdog fails from day 30 on


def utc(snapshot: Snapshot, shift: timedelta = timedelta()) -> Snapshot:
    """As the collector stores it: collected_at in UTC."""
    return snapshot.model_copy(
        update={"collected_at": (snapshot.collected_at + shift).astimezone(UTC)}
    )


def lay_out(root: Path, days: int, edit=lambda i, s: s) -> None:
    for i in range(days):
        folder = root / gen.day_of(i).isoformat()
        folder.mkdir(parents=True, exist_ok=True)  # save makes no folders
        save(edit(i, utc(gen.snapshot_for(i))), folder / "snapshot.json")


def history_of(root: Path, tonight: Snapshot, index: int):
    return build_history(tonight, analyse(tonight), root, analyse, day=gen.day_of(index))


def change(diff: SnapshotDiff | None, key: tuple[str, str]):
    assert diff is not None
    [found] = [c for c in diff.findings if c.key == key]
    return found


def without_n2(index: int, snapshot: Snapshot) -> Snapshot:
    """Day 32: n2 could not be reached."""
    if index != 32:
        return snapshot
    servers = [gen._unreachable("n2") if s.name == "n2" else s for s in snapshot.servers]
    return snapshot.model_copy(update={"servers": servers})


def test_a_day_without_the_server_does_not_make_its_findings_new(tmp_path: Path) -> None:
    lay_out(tmp_path, 33, without_n2)
    history = history_of(tmp_path, utc(gen.snapshot_for(33)), 33)
    failed = change(history.diff, FAILED_SERVICE)
    assert (failed.state, failed.days_open) == (FindingState.OPEN, 3)  # since day 30
    rows = next(t for t in history.diff_view.tables if t.title == "발견 사항").rows
    assert ["⏳ 지속", "High", "n2", failed.finding.title, "3일째"] in rows
    assert not any("🆕" in line and "n2" in line for line in history.summary)


def test_a_finding_that_appears_after_the_gap_is_still_new(tmp_path: Path) -> None:
    """Day 30 is the watchdog's first failure; n2 unreachable on day 29: nothing before
    the gap had it, so it is new, not dated back."""

    def gap_on_29(index: int, snapshot: Snapshot) -> Snapshot:
        return without_n2(32, snapshot) if index == 29 else snapshot

    lay_out(tmp_path, 30, gap_on_29)
    failed = change(history_of(tmp_path, utc(gen.snapshot_for(30)), 30).diff, FAILED_SERVICE)
    assert (failed.state, failed.days_open) == (FindingState.NEW, 0)


def test_an_age_counts_nights_not_24_hour_periods(tmp_path: Path) -> None:
    """Tonight's collection ran two minutes earlier than last night's."""
    lay_out(tmp_path, 31)
    tonight = utc(gen.snapshot_for(31), timedelta(minutes=-2))
    failed = change(history_of(tmp_path, tonight, 31).diff, FAILED_SERVICE)
    assert (failed.state, failed.days_open) == (FindingState.OPEN, 1)


@pytest.mark.parametrize("tonight", [25, 34])
def test_the_disk_forecast_ages_like_any_finding(tmp_path: Path, tonight: int) -> None:
    lay_out(tmp_path, tonight)
    nights = {}  # night -> whether its own report raised the forecast
    for night in range(tonight + 1):
        snapshot = utc(gen.snapshot_for(night))
        found = history_of(tmp_path, snapshot, night).forecasts
        nights[night] = any(f.server == "n1" for f in found)
    first = min(n for n in range(tonight + 1) if all(nights[k] for k in range(n, tonight + 1)))
    assert 0 < first < tonight - 1  # the story: n1's /data fills over weeks
    history = history_of(tmp_path, utc(gen.snapshot_for(tonight)), tonight)
    forecast = change(history.diff, (FORECAST_RULE, "n1"))
    # Dated back to its first night within the trend window (30 snapshots).
    assert forecast.state == FindingState.OPEN
    assert forecast.days_open == tonight - max(first, tonight - 29)


def test_a_server_added_tonight_costs_no_analysis_of_the_nights_before(tmp_path: Path) -> None:
    """Its findings are new: the nights before it never held it, so none is analysed."""
    from codeb_report.history.compare import diff_with_findings

    nights = [utc(gen.snapshot_for(i)) for i in range(3, 9)]  # n5 joins on day 10
    tonight = utc(gen.snapshot_for(10))
    analysed: list[int] = []

    def counting(snapshot: Snapshot):
        analysed.append(len(snapshot.servers))
        return analyse(snapshot)

    some = analyse(utc(gen.snapshot_for(31))).findings[0]  # n2's failed service
    only_n5 = [some.model_copy(update={"server": "n5"})]
    earlier = [lambda _names, s=s: s for s in reversed(nights[:-1])]
    diff = diff_with_findings(nights[-1], tonight, counting, earlier=earlier, new_findings=only_n5)
    assert only_n5 and all(c.state == FindingState.NEW for c in diff.findings)
    assert analysed == [4]  # the previous night, for what it had; no earlier one


def test_an_earlier_nights_forecast_needs_no_series_point_at_its_snapshot() -> None:
    """Trends from Prometheus are sampled at its own steps, not at the snapshots' times:
    the night is the series up to its snapshot."""
    from codeb_report.history.trends import build_trends, forecasts_at

    nights = [utc(gen.snapshot_for(i)) for i in range(5, 30)]
    trends = build_trends(nights)
    at = nights[-2].collected_at
    exact = forecasts_at(trends, at)
    assert [f.server for f in exact] == ["n1"]
    assert forecasts_at(trends, at + timedelta(hours=1)) == exact  # between two points
    assert forecasts_at(trends, nights[0].collected_at - timedelta(hours=1)) == []
