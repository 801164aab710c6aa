"""The .prom file node_exporter's textfile collector reads, replaced in one rename.

node_exporter reads every ``*.prom`` file of its folder on each scrape. The new text goes
into a hidden temporary file in the same folder whose name does not end in ``.prom``
(so it is never read half-written) and is renamed over the target; the temporary file is
created exclusively, so a planted symlink is never followed. The file is 0644: the
node_exporter user must read it, and it holds names and counts, no secrets. The folder is
never created here: a missing folder means node_exporter is not set up as configured.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from codeb_report.atomic import replace_file

MODE = 0o644
# The one value carried from the previous file: when the last successful run was.
_LAST_SUCCESS = re.compile(
    r"^codeb_report_run_last_success_timestamp_seconds ([0-9.e+]+)$", re.MULTILINE
)
MAX_READ = 4 * 1024 * 1024  # a file of ours is a few KB per server


class TextfileError(OSError):
    """The textfile cannot be written; the message names the path and why."""


def write_textfile(path: Path, text: str) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise TextfileError(f"{path}: folder {folder} does not exist")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise TextfileError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        # A rename would put a regular file in place of a device or FIFO (/dev/null).
        raise TextfileError(f"{path}: not a regular file")
    try:
        replace_file(path, text.encode("utf-8"), MODE)  # see the module's docstring
    except OSError as exc:
        raise TextfileError(f"{path}: cannot write: {exc.strerror or exc}") from None


def previous_last_success(path: Path) -> float | None:
    """The last success time the existing file holds, if it is ours and readable."""
    try:
        # Not a symlink, and no waiting on a FIFO someone put there.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        text = handle.read(MAX_READ).decode("utf-8", "replace")
    match = _LAST_SUCCESS.search(text)
    try:
        return float(match.group(1)) if match else None
    except ValueError:
        return None
