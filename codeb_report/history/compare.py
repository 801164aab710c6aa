"""Diffing stored snapshots with their findings: what ``codeb-report diff`` and the nightly
"전일 대비 변경 사항" section share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from codeb_report.analysis.model import Analysis, Finding
from codeb_report.history.diff import SnapshotDiff, diff_snapshots, first_seen_dates
from codeb_report.history.settings import DiffSettings
from codeb_report.history.store import SNAPSHOT_FILE, Stored, as_date, recent_snapshots
from codeb_report.snapshot import Snapshot, load

Analyse = Callable[[Snapshot], Analysis]


def findings_since(
    earlier: Sequence[Snapshot], analyse: Analyse
) -> dict[tuple[str, str], datetime]:
    """When each finding of the last of ``earlier`` (oldest first) began its current run."""
    return first_seen_dates((s.collected_at, analyse(s).findings) for s in earlier)


def diff_with_findings(
    old: Snapshot,
    new: Snapshot,
    analyse: Analyse,
    settings: DiffSettings | None = None,
    *,
    earlier: Sequence[Snapshot] = (),
    new_findings: list[Finding] | None = None,
    extra_old: Sequence[Finding] = (),
) -> SnapshotDiff:
    """Diff two snapshots, findings included.

    ``earlier`` are snapshots before ``old`` (oldest first) that date findings open since
    before it; ``new_findings`` saves analysing ``new`` again when the caller has them;
    ``extra_old`` adds findings analysis does not raise itself (disk forecasts).
    """
    old_findings = [*analyse(old).findings, *extra_old]
    if new_findings is None:
        new_findings = analyse(new).findings
    first_seen = findings_since([*earlier, old], analyse) if earlier else None
    return diff_snapshots(
        old,
        new,
        settings,
        old_findings=old_findings,
        new_findings=new_findings,
        first_seen=first_seen,
    )


def earlier_stored(path: Path, limit: int) -> list[Stored]:
    """Stored snapshots before the one at ``path``, when it lies in a dated report folder."""
    folder = path.resolve().parent
    day = as_date(folder.name)
    if path.name != SNAPSHOT_FILE or day is None:
        return []
    return recent_snapshots(folder.parent, limit, until=day - timedelta(days=1))


def diff_paths(
    old_path: Path,
    new_path: Path,
    analyse: Analyse,
    settings: DiffSettings | None = None,
    history_limit: int = 30,
) -> SnapshotDiff:
    """``codeb-report diff``: findings still open are dated back through the dated folders
    next to OLD, up to ``history_limit`` of them."""
    old, new = load(old_path), load(new_path)
    earlier = [s.load() for s in earlier_stored(old_path, history_limit)]
    return diff_with_findings(old, new, analyse, settings, earlier=earlier)
