"""``codeb-report send``: mail a report folder that is already on disk."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from codeb_report.errors import SnapshotError
from codeb_report.logs import run_log
from codeb_report.mail.settings import MailSettings
from codeb_report.nightly.run import RUN_LOG, SNAPSHOT_FILE, Analyse
from codeb_report.outputdir import DEFAULT_TIMEZONE, parse_day
from codeb_report.snapshot import load


def send_folder(
    folder: Path,
    settings: MailSettings,
    judge: Callable[[Path, date], Analyse],
    timezone: str = DEFAULT_TIMEZONE,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Path | None:
    """Mail ``folder``'s PDF (``output/latest`` resolves to the day it names).

    ``judge(output_root, day)`` analyses the day's snapshot as the run did (for ``run``'s
    stages: ``night_of``), with the history beside the folder, so the mail says what the
    run's mail said. Events are appended to the folder's run.log, beside the run.
    """
    from codeb_report.mail.deliver import mail_report

    real = folder.resolve()
    if not (real / SNAPSHOT_FILE).is_file():
        raise SnapshotError(f"{folder}: no {SNAPSHOT_FILE} here; give a report folder")
    snapshot = load(real / SNAPSHOT_FILE)
    zone = ZoneInfo(timezone)
    day = parse_day(real.name) or snapshot.collected_at.astimezone(zone).date()
    analysis = judge(real.parent, day)(snapshot)
    with run_log(real / RUN_LOG, zone):
        return mail_report(settings, real, snapshot, analysis, day, dry_run, sleep, zone)
