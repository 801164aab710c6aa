"""Files codeb-report reads: bounded before they are read, one clear reason when they fail.

A path that is a FIFO would hang the reader and ``/dev/zero`` would never end, so every
input is opened without waiting, must be a regular file and may hold at most a limit the
caller names; parsed data may nest only so deep. Failures raise ``InputProblem`` whose
text is the reason alone: the caller names the file and picks the error (and its exit
code) its command documents.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any

from codeb_report.logs import get_logger

log = get_logger("inputs")
MAX_DEPTH = 32  # nesting of JSON and TOML data: ours is at most 6 deep


class InputProblem(ValueError):
    """Why an input cannot be used; the message is the reason, without the path."""


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    ``FileNotFoundError`` passes through (callers word it their way); every other
    failure is an ``InputProblem``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InputProblem(f"cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputProblem(f"not a regular file ({_kind(st.st_mode)})")
        chunks, size = [], st.st_size if st.st_size > limit else 0  # too big: not read
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputProblem(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise InputProblem(f"larger than {_size(limit)}, the most it may be")
    return b"".join(chunks)


def read_text(path: Path, limit: int) -> str:
    """``read_bounded`` decoded as UTF-8."""
    data = read_bounded(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputProblem(f"not UTF-8 text (byte {exc.start})") from None


def check_tree(data: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse parsed data nested deeper than ``max_depth`` or holding a non-finite float;
    the message names where (``ssh.connect_timeout``)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, where = stack.pop()
        if len(where) > max_depth:
            raise InputProblem(f"{_where(where)}: nested more than {max_depth} deep")
        if isinstance(value, dict):
            stack.extend((v, (*where, str(k))) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*where, f"[{i}]")) for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise InputProblem(f"{_where(where)}: {value} is not a finite number")


def warn_if_shared(path: Path, what: str = "secret") -> bool:
    """Warn, as ssh does for keys, when group or others may read ``path``; True if so."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return False
    log.warning(
        "%s: %s file can be read by group or others (mode %03o): chmod 600 it",
        path,
        what,
        stat.S_IMODE(mode),
    )
    return True


def first_line_secret(path: Path, limit: int = 64 * 1024) -> str:
    """The first line of a password or token file (the rest may be comments), warned
    about when others can read it. ``InputProblem`` when missing, unreadable or empty."""
    try:
        text = read_text(path, limit)
    except FileNotFoundError:
        raise InputProblem("No such file or directory") from None
    warn_if_shared(path)
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise InputProblem("empty")
    return lines[0]


def _where(parts: tuple[str, ...]) -> str:
    return ".".join(parts).replace(".[", "[") or "(top level)"


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
        stat.S_ISDIR: "a folder",
    }
    return next((word for test, word in kinds.items() if test(mode)), "not a plain file")


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 else f"{n // 1024} KiB"
