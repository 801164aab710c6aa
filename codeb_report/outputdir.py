"""The output folder: one complete folder per day, ``latest`` and retention.

    output/
      .lock                  held by the running run (see lock.py)
      2025-12-19/            snapshot.json report.md report.html report.pdf run.log
      2025-12-20/
      latest -> 2025-12-20

A run writes into a hidden staging folder beside the day's folder (``.2025-12-20.new-…``)
and only when everything is written swaps it in with one ``renameat2(RENAME_EXCHANGE)``:
readers see the old set or the new one, never a mix and never a half-written file, and
the old set stays until the new one is complete. A run killed before the swap leaves
only its hidden staging folder, which the next run removes.

Everything here assumes the caller holds the run lock.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from codeb_report.atomic import make_private_folders
from codeb_report.errors import OutputError

LATEST = "latest"
DEFAULT_TIMEZONE = "Asia/Seoul"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STAGING = re.compile(r"^\.\d{4}-\d{2}-\d{2}\.(new|old|del)-[A-Za-z0-9_]+$")
_FAILED = re.compile(r"^\.(\d{4}-\d{2}-\d{2})\.failed$")


class OutputSettings(BaseModel):
    """The ``[output]`` section; ``--output-root`` and ``--keep`` override it."""

    model_config = ConfigDict(extra="forbid")

    # Use an absolute path when cron or systemd runs codeb-report.
    root: str = "output"
    # Remove dated folders older than this many days (never the newest); unset keeps all.
    keep_days: int | None = Field(None, ge=1, le=36500, strict=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def output_root_of(given: Path | None, settings: OutputSettings | None = None) -> Path:
    """Where the dated folders are: ``--output-root`` when given, else the configuration's
    ``[output] root``, else ``output``. Every command that reads or writes them asks here."""
    if given is not None:
        return given
    return Path((settings or OutputSettings()).root).expanduser()


def local_time(at: datetime, zone: tzinfo | None = None) -> datetime:
    """``at`` as the report's reader reads it: in the report's time zone (the
    configuration's ``[report] timezone``, Asia/Seoul without one), whatever zone the
    snapshot was collected in."""
    return at.astimezone(zone or ZoneInfo(DEFAULT_TIMEZONE))


def today(timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> date:
    """The report's date: the calendar day in the configured zone, not the machine's."""
    zone = ZoneInfo(timezone)
    return (now or datetime.now(zone)).astimezone(zone).date()


def parse_day(name: str) -> date | None:
    if not _DAY.match(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the kernel or filesystem cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Make the staged files durable before they become the day's set."""
    for path in folder.iterdir():
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


class OutputRoot:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def lock_path(self) -> Path:
        return self.root / ".lock"

    @property
    def latest(self) -> Path:
        return self.root / LATEST

    def day_dir(self, day: date) -> Path:
        return self.root / day.isoformat()

    def days(self) -> list[tuple[date, Path]]:
        """The dated folders, oldest first (symlinks and other names are not ours)."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in self.root.iterdir():
            day = parse_day(entry.name)
            if day is not None and entry.is_dir() and not entry.is_symlink():
                found.append((day, entry))
        return sorted(found)

    def stage(self, day: date) -> Path:
        """A new, empty, hidden folder beside the day's folder to write the run into."""
        try:
            make_private_folders(self.root)
            return Path(tempfile.mkdtemp(prefix=f".{day.isoformat()}.new-", dir=self.root))
        except OSError as exc:
            raise OutputError(f"{self.root}: cannot create a folder: {exc.strerror}") from None

    def publish(self, staging: Path, day: date) -> Path:
        """Make ``staging`` the day's folder in one step; it stays 0700, as staged.

        ``latest`` is the caller's next step (``point_latest``), so that a ``latest`` in
        the way is said without undoing a published day.
        """
        target = self.day_dir(day)
        _fsync_tree(staging)
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise OutputError(f"{target}: exists and is not a folder; move it away")
        if not target.exists():
            os.rename(staging, target)
        elif _exchange(staging, target):
            shutil.rmtree(staging)  # after the swap it holds the old set
        else:
            # Without RENAME_EXCHANGE the day's name is missing for a moment, but what
            # it names is always complete.
            old = Path(tempfile.mkdtemp(prefix=f".{day.isoformat()}.old-", dir=self.root))
            os.rename(target, old / "set")
            os.rename(staging, target)
            shutil.rmtree(old)
        _fsync_dir(self.root)
        return target

    def keep_failed(self, staging: Path, day: date) -> Path:
        """Keep a failed run's partial output and log, hidden, for the operator to read."""
        failed = self.root / f".{day.isoformat()}.failed"
        if not staging.exists():
            return failed
        if failed.exists():
            shutil.rmtree(failed, ignore_errors=True)
        os.rename(staging, failed)
        return failed

    def point_latest(self, folder: Path) -> None:
        """Point ``latest`` at ``folder``, the run just published: not at the newest name,
        which a stray future-dated folder could be."""
        link = self.latest
        if link.is_symlink() and os.readlink(link) == folder.name:
            return
        if link.exists() and not link.is_symlink():
            raise OutputError(f"{link}: exists and is not a symlink; move it away")
        tmp = self.root / f".{LATEST}.{os.getpid()}"
        try:
            tmp.unlink(missing_ok=True)
            os.symlink(folder.name, tmp)
            os.replace(tmp, link)
        except OSError as exc:
            raise OutputError(f"{link}: cannot point it at {folder.name}: {exc.strerror}") from None

    def clean_stale(self) -> list[Path]:
        """Remove staging folders left by runs that were killed before they finished."""
        removed = []
        if not self.root.is_dir():
            return removed
        for entry in self.root.iterdir():
            if _STAGING.match(entry.name) and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        return removed

    def prune(self, keep_days: int, day: date) -> list[Path]:
        """Remove dated folders older than ``keep_days`` days before ``day``; never the newest
        nor the one ``latest`` points at.

        A folder is renamed to a hidden name before it is deleted, so no dated folder is
        ever seen half deleted.
        """
        cutoff = day - timedelta(days=keep_days)
        days = self.days()
        latest = os.readlink(self.latest) if self.latest.is_symlink() else None
        removed = []
        for folder_day, folder in days[:-1]:
            if folder_day < cutoff and folder.name != latest:
                doomed = self.root / f".{folder.name}.del-{os.getpid()}"
                os.rename(folder, doomed)
                shutil.rmtree(doomed, ignore_errors=True)
                removed.append(folder)
        for entry in self.root.iterdir() if self.root.is_dir() else []:
            match = _FAILED.match(entry.name)
            if match and date.fromisoformat(match.group(1)) < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        return removed
