"""Backup folders: number of files, total size, the newest file and when it was written."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

from codeb_report.probes.base import Probe
from codeb_report.probes.numbers import finite
from codeb_report.probes.stack.settings import BackupFolder
from codeb_report.probes.stack.shell import SECTION, split_sections
from codeb_report.snapshot import BackupDir, Server

# GNU find prints mtime, size and path itself; elsewhere (busybox) stat does.
LIST_FILES = (
    "if find / -maxdepth 0 -printf '' >/dev/null 2>&1; "
    "then find \"$d\" -type f -printf '%T@ %s %p\\n' 2>/dev/null; "
    "else find \"$d\" -type f -exec stat -c '%Y %s %n' {} + 2>/dev/null; fi"
)
SUMMARY = (
    "awk '{ n++; s += $2; if (n == 1 || $1 > m) { m = $1; p = $0 } } "
    'END { printf "files %d\\nbytes %.0f\\nnewest %s\\n", n, s, p }\''
)


class BackupsProbe(Probe):
    """Each configured folder, searched recursively; missing and empty folders are facts.

    Emptiness and age become findings in the analysis (백업 미설정 / 백업 지연), which
    compares ``newest_mtime`` with ``max_age_hours``.

    Sample output::

        == /opt/codeb/backups
        files 3
        bytes 73400320
        newest 1766198400.5 24117248 /opt/codeb/backups/db-2025-12-20.sql.gz
        == /srv/missing
        missing
        == /root/private
        unreadable
    """

    name = "backups"

    def __init__(self, folders: list[BackupFolder]) -> None:
        self.folders = folders

    def command(self) -> str:
        paths = " ".join(shlex.quote(f.path) for f in self.folders)
        return (
            f"for d in {paths}; do printf '{SECTION}%s\\n' \"$d\"; "
            f'if [ ! -d "$d" ]; then echo missing; '
            f'elif [ ! -r "$d" ] || [ ! -x "$d" ]; then echo unreadable; '
            f"else {{ {LIST_FILES}; }} | {SUMMARY}; fi; done"
        )

    def parse(self, output: str) -> list[BackupDir]:
        parts = split_sections(output)
        return [self._folder(folder, parts.get(folder.path)) for folder in self.folders]

    def _folder(self, folder: BackupFolder, text: str | None) -> BackupDir:
        base = {"path": folder.path, "max_age_hours": folder.max_age_hours}
        if text is None or text == "missing":
            return BackupDir(exists=False, **base)
        if text == "unreadable":
            return BackupDir(exists=True, error="permission denied", **base)
        facts = dict(line.split(" ", 1) for line in text.splitlines() if " " in line)
        files = int(facts.get("files", "0"))
        if files == 0:
            return BackupDir(exists=True, **base)
        mtime, _size, newest = facts["newest"].split(" ", 2)
        return BackupDir(
            exists=True,
            files=files,
            total_size=int(finite(facts.get("bytes", "0"))),
            newest_file=newest,
            newest_mtime=datetime.fromtimestamp(finite(mtime), tz=UTC),
            **base,
        )

    def store(self, server: Server, value: list[BackupDir]) -> None:
        server.backups = value
