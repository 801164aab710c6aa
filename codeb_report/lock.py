"""One run at a time per output folder: an exclusive ``flock`` on ``OUTPUT/.lock``.

The kernel drops the lock when its holder exits, however it exits (even SIGKILL), so a
crashed run never blocks the next night. The file itself stays; it only names the holder.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from codeb_report.atomic import make_private_folders
from codeb_report.errors import Exit, OutputError, UserError
from codeb_report.outputdir import local_time

LOCK_FILE = ".lock"
HOLDER_WIDTH = 80  # "pid 12345 since 2025-12-20T03:00:00+09:00", padded with spaces


class Locked(UserError):
    def __init__(self, message: str) -> None:
        super().__init__(message, Exit.LOCKED)


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""


@contextmanager
def run_lock(path: Path, zone: tzinfo | None = None) -> Iterator[None]:
    """Hold ``path`` exclusively for the block, or raise ``Locked`` at once (no waiting).

    The holder's start is written in ``zone`` (the report's time zone), the one the
    operator reads in the "another run holds" message and run.log. The output folder may
    be shared, so the lock file is never followed through a symlink and never truncated:
    a link or hard link planted as ``.lock`` is refused, and the holder line is written
    over the file's first bytes only.
    """
    fd = _open(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(
                f"another run holds {path}{_holder(fd)}; not starting a second one"
            ) from None
        since = local_time(datetime.now(UTC), zone).isoformat(timespec="seconds")
        _write_holder(fd, path, f"pid {os.getpid()} since {since}")
        try:
            yield
        finally:
            # The lock is released all the same; only the holder's name would stay behind.
            with contextlib.suppress(OutputError):
                _write_holder(fd, path, "")
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _open(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        make_private_folders(path.parent)
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        reason = "a symlink; not ours, move it away" if exc.errno == errno.ELOOP else None
        raise OutputError(
            f"{path}: cannot open the run lock: {reason or exc.strerror or exc}"
        ) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_uid != os.geteuid():
        os.close(fd)
        raise OutputError(
            f"{path}: not a lock file of this user (a link or another's file); move it away"
        )
    return fd


def _write_holder(fd: int, path: Path, text: str) -> None:
    """Who holds the lock, padded to a fixed width so that no truncation is needed."""
    line = text[: HOLDER_WIDTH - 1].ljust(HOLDER_WIDTH - 1) + "\n"
    try:
        os.pwrite(fd, line.encode(), 0)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the run lock: {exc.strerror or exc}") from None
