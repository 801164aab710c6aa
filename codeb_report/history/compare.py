"""Diffing stored snapshots with their findings: what ``codeb-report diff`` and the nightly
"전일 대비 변경 사항" section share."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from codeb_report.analysis.model import Analysis, Finding
from codeb_report.analysis.rules.base import FLEET
from codeb_report.history.diff import SnapshotDiff, diff_snapshots
from codeb_report.history.evidence import observed, servers_needed
from codeb_report.history.settings import DiffSettings
from codeb_report.history.store import SNAPSHOT_FILE, Stored, as_date, recent_snapshots
from codeb_report.snapshot import Snapshot, load

Analyse = Callable[[Snapshot], Analysis]
Judge = Callable[[Snapshot], Sequence[Finding]]  # a night's findings, as its report had them
Key = tuple[str, str]
# An earlier night: at least the servers named (None: the whole snapshot).
Fetch = Callable[[Collection[str] | None], Snapshot]


def first_seen_back(
    open_keys: Iterable[Key],
    since: datetime,
    newest_first: Iterable[Fetch],
    judge: Judge,
    unseen_keys: Iterable[Key] = (),
) -> dict[Key, datetime]:
    """When each open finding (present at ``since``) began its unbroken run.

    Walks back one earlier snapshot at a time, loading and analysing it only while some
    finding is still traced, so a history of resolved findings costs nothing, and of
    each only the servers the traced findings need (``servers_needed``). A snapshot
    that could not have seen a finding (its server unreachable, its probes failed) does
    not break the run: absence of evidence is skipped, not taken as a fix.
    ``unseen_keys``: findings present now that the snapshot at ``since`` could not see;
    those found in the run before it are dated back too, the others are left out (new).
    """
    first = dict.fromkeys(open_keys, since)
    tracing = set(first) | set(unseen_keys)
    for fetch in newest_first:
        if not tracing:
            break
        snapshot = fetch(servers_needed(tracing))
        if not _concerns(snapshot, tracing):
            continue  # none of their servers in it (e.g. one added since): nothing to judge
        present = {(f.rule, f.server) for f in judge(snapshot)}
        for key in list(tracing):
            if key in present:
                first[key] = snapshot.collected_at
            elif observed(*key, snapshot):
                tracing.discard(key)
    return first


def _concerns(snapshot: Snapshot, keys: set[Key]) -> bool:
    return any(server == FLEET or snapshot.server(server) is not None for _, server in keys)


def diff_with_findings(
    old: Snapshot,
    new: Snapshot,
    analyse: Analyse,
    settings: DiffSettings | None = None,
    *,
    earlier: Sequence[Fetch] = (),
    new_findings: list[Finding] | None = None,
    zone: tzinfo | None = None,
    judge_earlier: Judge | None = None,
) -> SnapshotDiff:
    """Diff two snapshots, findings included.

    ``earlier`` fetch the snapshots before ``old``, newest first; they date findings open
    since before it, and tell a finding that ``old`` could not see (its server was down
    that day) from a new one. ``analyse`` judges ``old`` and ``earlier`` as their own
    nights did (the nightly report adds the disk forecasts); ``new_findings`` saves
    analysing ``new`` again when the caller has them. ``zone``: ages in calendar days there.
    ``judge_earlier``: the findings ``analyse`` would give an earlier night, without the
    rest of its analysis (what a long history mostly costs); by default ``analyse``'s.
    """
    old_findings = analyse(old).findings
    if new_findings is None:
        new_findings = analyse(new).findings
    new_keys = {(f.rule, f.server) for f in new_findings}
    old_keys = {(f.rule, f.server) for f in old_findings}
    unseen = {key for key in new_keys - old_keys if not observed(*key, old)}
    judge = judge_earlier or (lambda snapshot: analyse(snapshot).findings)
    first_seen = first_seen_back(new_keys & old_keys, old.collected_at, earlier, judge, unseen)
    return diff_snapshots(
        old,
        new,
        settings,
        old_findings=old_findings,
        new_findings=new_findings,
        first_seen=first_seen,
        zone=zone,
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
    zone: tzinfo | None = None,
    judge_earlier: Judge | None = None,
) -> SnapshotDiff:
    """``codeb-report diff``: findings still open are dated back through the dated folders
    next to OLD, up to ``history_limit`` of them; ages are calendar days in ``zone``."""
    old, new = load(old_path), load(new_path)
    earlier = [s.load for s in reversed(earlier_stored(old_path, history_limit))]
    return diff_with_findings(
        old, new, analyse, settings, earlier=earlier, zone=zone, judge_earlier=judge_earlier
    )
