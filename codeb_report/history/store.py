"""Finding snapshots in the dated report folders: ``output/YYYY-MM-DD/snapshot.json``."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from codeb_report.errors import SnapshotError
from codeb_report.snapshot import Snapshot, load

SNAPSHOT_FILE = "snapshot.json"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Stored:
    """One dated report folder that holds a snapshot."""

    day: date
    path: Path

    def load(self, servers: Collection[str] | None = None) -> Snapshot:
        """The snapshot, or only the servers named in ``servers`` (see ``snapshot.parse``)."""
        return load(self.path, servers)


def as_date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def stored_snapshots(output_root: Path) -> list[Stored]:
    """Every dated folder under ``output_root`` with a snapshot, oldest first."""
    if not output_root.is_dir():
        return []
    found = []
    for entry in output_root.iterdir():
        day = as_date(entry.name)
        snapshot = entry / SNAPSHOT_FILE
        # A run writes snapshot.json as a plain file: a symlink there (or in place of the
        # folder) was planted in a shared output folder and is never followed.
        if day is not None and not entry.is_symlink() and _plain_file(snapshot):
            found.append(Stored(day, snapshot))
    return sorted(found, key=lambda s: s.day)


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def resolve(arg: str, output_root: Path) -> Path:
    """A snapshot named on the command line: a file, a report folder, or a date.

    A date (``2025-12-19``) is looked up as ``output_root/2025-12-19/snapshot.json``.
    """
    path = Path(arg)
    if path.exists() and not path.is_dir():
        return path  # a FIFO or device too: load says what is wrong with it
    if path.is_dir():
        inner = path / SNAPSHOT_FILE
        if inner.is_file():
            return inner
        raise SnapshotError(f"{path}: folder has no {SNAPSHOT_FILE}")
    day = as_date(arg)
    if day is not None:
        inner = output_root / day.isoformat() / SNAPSHOT_FILE
        if inner.is_file():
            return inner
        raise SnapshotError(f"{arg}: no snapshot for that date under {output_root}")
    raise SnapshotError(f"{arg}: no such file, folder or date (YYYY-MM-DD)")


def previous_snapshot(output_root: Path, before: date) -> Stored | None:
    """The most recent stored snapshot dated strictly before ``before``."""
    earlier = [s for s in stored_snapshots(output_root) if s.day < before]
    return earlier[-1] if earlier else None


def recent_snapshots(output_root: Path, count: int, until: date | None = None) -> list[Stored]:
    """The latest ``count`` stored snapshots dated on or before ``until``, oldest first."""
    stored = [s for s in stored_snapshots(output_root) if until is None or s.day <= until]
    return stored[-count:] if count > 0 else []
