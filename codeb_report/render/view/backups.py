"""Section 2's backup rows: each watched backup folder, its size and newest file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from codeb_report import units
from codeb_report.analysis.reasons import Reason, probe_reason
from codeb_report.render.view.since import since
from codeb_report.snapshot import BackupDir


@dataclass(frozen=True)
class BackupRow:
    path: str
    exists: bool
    files: int
    total_size: str
    newest_file: str | None
    newest_age: str | None
    error: Reason | None


def backup_row(b: BackupDir, at: datetime) -> BackupRow:
    return BackupRow(
        path=b.path,
        exists=b.exists,
        files=b.files,
        total_size=units.size(b.total_size),
        newest_file=b.newest_file,
        newest_age=since(b.newest_mtime, at),
        error=probe_reason(b.error),
    )
