"""ssh_config as OpenSSH reads it: the user's file, then the system's, Include followed.

paramiko's SSHConfig knows neither ``Include`` nor the system file, so hosts kept in
``~/.ssh/config.d/*`` would lose their HostName, User, Port, IdentityFile and ProxyJump.
The files are therefore joined into one text first, which paramiko then parses:

- ``Include`` takes globs (matches in sorted order, like glob(3)); a relative path is
  under ``~/.ssh`` in the user's file and under ``/etc/ssh`` in the system's, as
  ssh_config(5) says; a file that is missing or unreadable is skipped, as ssh does.
- An ``Include`` inside a ``Host``/``Match`` block applies only where that block does:
  ``Host`` lines of the included file become ``Match`` lines that also require the
  enclosing block's hosts, and the enclosing block is reopened after the inclusion.
- The system file comes after the user's, so the user's values win (first value wins).
"""

from __future__ import annotations

import glob
import os
import re
import shlex
from pathlib import Path

from codeb_report.inputs import InputProblem, read_bounded

SYSTEM_SSH_CONFIG = Path("/etc/ssh/ssh_config")
MAX_DEPTH = 16  # OpenSSH's READCONF_MAX_DEPTH
MAX_SSH_CONFIG = 16 * 2**20  # a configuration file larger than this is not one
_LINE = re.compile(r"(\w+)(?:\s*=\s*|\s+)(.+)")  # paramiko's SETTINGS_REGEX


class SSHConfigError(Exception):
    """The message names the file; the caller adds the Korean category."""


def user_text(path: Path) -> str | None:
    """The user's file with Includes expanded (relative to ~/.ssh); None if there is none."""
    if not path.is_file():
        return None
    return "\n".join(_expand(path, Path("~/.ssh").expanduser(), None, 0))


def system_text(path: Path | None = SYSTEM_SSH_CONFIG) -> str | None:
    """The system file with Includes expanded (relative to /etc/ssh); None if unreadable,
    as ssh, too, goes on without it."""
    if path is None or not path.is_file() or not os.access(path, os.R_OK):
        return None
    return "\n".join(_expand(path, Path("/etc/ssh"), None, 0))


def joined(user: str | None, system: str | None) -> str | None:
    """Both, the user's first; the system file starts in the implicit ``Host *`` block."""
    parts = [text for text in (user, system) if text is not None]
    return "\nHost *\n".join(parts) if parts else None


def _read(path: Path) -> list[str] | None:
    """A configuration file's lines; None when it is missing, unreadable, not a regular
    file (an Include matching a FIFO would hang the run) or larger than any real one."""
    try:
        data = read_bounded(path, MAX_SSH_CONFIG)
    except (OSError, InputProblem):
        return None
    return data.decode("utf-8", errors="replace").splitlines()


def _expand(path: Path, base: Path, outer: str | None, depth: int) -> list[str]:
    """The lines of ``path`` with Includes inlined.

    ``outer``: the Match criteria of the block the Include sat in (None: top level).
    """
    lines = _read(path)
    if lines is None:
        if depth == 0:
            raise SSHConfigError(f"{path}: cannot be read")
        return []
    out: list[str] = []
    header = None if outer is None else f"Match {outer}"  # the block now open
    criteria = outer
    for number, raw in enumerate(lines, 1):
        found = _LINE.match(raw.strip())
        key = found.group(1).lower() if found else ""
        if key == "include":
            if depth + 1 > MAX_DEPTH:
                raise SSHConfigError(f"{path}:{number}: too many nested Include directives")
            for included in _matches(found.group(2), base, path, number):
                out += _expand(included, base, criteria, depth + 1)
                out.append(header or "Host *")  # back into the block the Include sat in
            continue
        if key in ("host", "match"):
            criteria = _criteria(key, found.group(2), path, number)
            if outer is not None:
                criteria = _join(outer, criteria)
                raw = f"Match {criteria}"
            header = raw.strip()
        out.append(raw)
    return out


def _matches(value: str, base: Path, path: Path, number: int) -> list[Path]:
    try:
        patterns = shlex.split(value)
    except ValueError:
        raise SSHConfigError(f"{path}:{number}: Include: unbalanced quotes") from None
    found: list[Path] = []
    for pattern in patterns:
        full = Path(pattern).expanduser()
        if not full.is_absolute():
            full = base / full
        found += [Path(p) for p in sorted(glob.glob(str(full)))]
    return found


def _criteria(key: str, value: str, path: Path, number: int) -> str:
    """A Host or Match line as Match criteria: ``Host a b`` -> ``originalhost a,b``."""
    if key == "match":
        return value.strip()
    try:
        patterns = shlex.split(value)
    except ValueError:
        raise SSHConfigError(f"{path}:{number}: Host: unbalanced quotes") from None
    return "originalhost " + ",".join(patterns)


def _join(outer: str, inner: str) -> str:
    """Both blocks must match; ``all`` adds nothing (and may not be combined)."""
    if inner.strip().lower() == "all":
        return outer
    if outer.strip().lower() == "all":
        return inner
    return f"{outer} {inner}"
