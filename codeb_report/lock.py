"""One run at a time per output folder: an exclusive ``flock`` on ``OUTPUT/.lock``.

The kernel drops the lock when its holder exits, however it exits (even SIGKILL), so a
crashed run never blocks the next night. The file itself stays; it only names the holder.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from codeb_report.errors import Exit, OutputError, UserError
from codeb_report.outputdir import local_time

LOCK_FILE = ".lock"


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
    operator reads in the "another run holds" message and run.log."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise OutputError(f"{path}: cannot open the run lock: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(
                f"another run holds {path}{_holder(fd)}; not starting a second one"
            ) from None
        os.ftruncate(fd, 0)
        since = local_time(datetime.now(UTC), zone).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} since {since}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the last descriptor releases the flock
