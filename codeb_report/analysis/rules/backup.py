"""Rules on backup directories: none made, or none made lately."""

from __future__ import annotations

from collections.abc import Iterator

from codeb_report import units
from codeb_report.analysis.model import Priority, code, text
from codeb_report.analysis.reasons import probe_reason
from codeb_report.analysis.rules.base import Hit, reachable, rule
from codeb_report.snapshot import BackupDir, Snapshot
from codeb_report.thresholds import Thresholds


def _unreadable(backup: BackupDir) -> str | None:
    # ``error`` is recorded by newer collectors for folders they could not read.
    return getattr(backup, "error", None)


@rule("backup.missing")
def backup_missing(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """A backup directory that is absent or empty: nothing could be restored."""
    for server in reachable(snapshot):
        for backup in server.backups:
            if (backup.exists and backup.files > 0) or _unreadable(backup):
                continue
            state = "비어있음" if backup.exists else "없음"
            yield Hit(
                priority=Priority.HIGH,
                server=server.name,
                title="백업 미설정",
                description=text(code(backup.path), f" {state}"),
                action="백업 자동화 설정",
                step="백업 자동화 설정",
                summary=f"백업 디렉토리 {state}",
                notes=[
                    text("⚠️ ", code(backup.path), f" 디렉토리 {state}"),
                    text("백업 자동화 설정 필요"),
                ],
            )


@rule("backup.unreadable")
def backup_unreadable(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """A backup directory codeb-report may not read: whether backups exist is unknown."""
    for server in reachable(snapshot):
        for backup in server.backups:
            if (reason := probe_reason(_unreadable(backup))) is None:
                continue
            yield Hit(
                priority=Priority.HIGH,
                server=server.name,
                title="백업 확인 불가",
                description=text(code(backup.path), ": ") + reason.spans(detail=False),
                action="백업 디렉토리 읽기 권한 부여",
                step="백업 디렉토리 읽기 권한 부여",
                summary="백업 디렉토리 확인 불가",
                notes=[text("⚠️ ", code(backup.path), " 디렉토리 확인 불가")],
            )


@rule("backup.stale")
def backup_stale(snapshot: Snapshot, t: Thresholds) -> Iterator[Hit]:
    """The newest backup is older than the directory's (or the default) maximum age."""
    for server in reachable(snapshot):
        for backup in server.backups:
            if not backup.exists or backup.files == 0 or backup.newest_mtime is None:
                continue
            age_hours = (snapshot.collected_at - backup.newest_mtime).total_seconds() / 3600
            limit = backup.max_age_hours or t.backup_max_age_hours
            if age_hours <= limit:
                continue
            age = units.duration(age_hours * 3600)
            yield Hit(
                priority=Priority.HIGH,
                server=server.name,
                title="백업 지연",
                description=text(code(backup.path), f" 최근 백업 {age} 전"),
                action="백업 작업 점검",
                step="백업 작업 점검",
                summary=f"최근 백업 {age} 전",
                notes=[text("⚠️ ", code(backup.path), f" 최근 백업 {age} 전")],
            )
