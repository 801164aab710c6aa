"""Every file codeb-report writes goes through ``write_output``: one rule for every path.

- ``-`` is standard output.
- A path that does not exist yet is created atomically (written beside it under a hidden
  name, then renamed into place), mode 0600: reports and snapshots hold addresses, ports
  and findings, so only the user that runs codeb-report reads them unless told otherwise.
- An existing regular file is replaced atomically and keeps its permissions, as ``>``
  would: readers see the old content or the new, never a half of either.
- An existing symlink is written through, as ``>`` would: the file it points at is
  replaced (atomically, when that is a regular file) and the link stays.
- Anything else that exists (``/dev/null``, a FIFO, a terminal) is written through too; it
  cannot be replaced by rename, and renaming over it would turn it into a plain file.
- A missing folder is an error; folders are never created on the way (``make_folder``
  makes the one a command names, 0700).

Every failure is an ``OutputError`` whose one line names the path.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from pathlib import Path

from codeb_report.errors import OutputError

STDOUT = "-"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def write_output(path: Path | str, data: bytes | str) -> None:
    """Write ``data`` to ``path`` by the module's rule; ``OutputError`` on any failure."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if str(path) == STDOUT:
        _write_stdout(raw)
        return
    path = Path(path)
    try:
        _write_path(path, raw)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {_reason(exc, path)}") from None


def make_folder(path: Path) -> None:
    """Create ``path`` (0700) unless it is a folder already; its parent must exist."""
    try:
        path.mkdir(mode=FOLDER_MODE, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{path}: exists and is not a folder") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the folder: {_reason(exc, path)}") from None


def make_private_folders(path: Path) -> None:
    """``mkdir -p`` whose every new folder is 0700 (``Path.mkdir(parents=True)`` gives the
    missing parents the umask's mode: 0777 under umask 000). Raises ``OSError``."""
    if path.is_dir():
        return
    if path.parent != path:
        make_private_folders(path.parent)
    try:
        path.mkdir(mode=FOLDER_MODE)
    except FileExistsError:
        if not path.is_dir():  # a file where a folder should be: said as mkdir -p says it
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None


def create_private(path: Path) -> None:
    """Create ``path`` empty, 0600, unless it exists; never through a symlink (for files a
    library opens itself afterwards, such as the run's log)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, FILE_MODE)
    os.close(fd)


def _write_stdout(data: bytes) -> None:
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except OSError as exc:
        raise OutputError(f"standard output: cannot write: {exc.strerror or exc}") from None


def _write_path(path: Path, data: bytes) -> None:
    try:
        st = os.stat(path)  # follows a symlink to what ``>`` would write
    except FileNotFoundError:
        target = Path(os.path.realpath(path))  # a dangling link's target, or path itself
        replace_file(target, data, FILE_MODE)
        return
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if stat.S_ISREG(st.st_mode):
        replace_file(Path(os.path.realpath(path)), data, stat.S_IMODE(st.st_mode))
    else:
        _write_through(path, data)


def replace_file(target: Path, data: bytes, mode: int) -> None:
    """Put a new file with ``data`` and ``mode`` in place of the name ``target`` by one
    rename: whatever the name was (a symlink included) is replaced, never followed.
    ``OSError`` on failure; ``write_output`` is the rule for paths a user names."""
    if not target.parent.is_dir():
        raise FileNotFoundError(2, f"no folder {target.parent}", str(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode != FILE_MODE:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_through(path: Path, data: bytes) -> None:
    """A device, FIFO or socket: opened and written as ``>`` would (O_TRUNC is a no-op)."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _reason(exc: OSError, path: Path) -> str:
    if isinstance(exc, FileNotFoundError) and not Path(path).parent.is_dir():
        return f"no folder {Path(path).parent}"
    return exc.strerror or str(exc)
