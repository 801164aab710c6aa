"""Mail a day's report folder: build the message from its PDF, then send it or file it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, tzinfo
from email import policy
from pathlib import Path

from codeb_report.analysis.model import Analysis
from codeb_report.atomic import write_output
from codeb_report.errors import OutputError
from codeb_report.inputs import InputProblem, read_bounded
from codeb_report.logs import get_logger
from codeb_report.mail.message import build_message
from codeb_report.mail.settings import MailError, MailSettings
from codeb_report.snapshot import Snapshot

PDF_FILE = "report.pdf"
EML_FILE = "report.eml"
# The 1,000-server report is under 1 MB; mail servers refuse far less than this anyway.
MAX_PDF = 64 * 2**20

log = get_logger("mail")


def _changes(folder: Path, snapshot: Snapshot, zone: tzinfo | None) -> list[str] | None:
    """The changes since the previous stored day; a mail goes out without them on trouble."""
    from codeb_report.history.section import mail_changes

    try:
        return mail_changes(folder, snapshot, zone)
    except Exception as exc:
        log.warning("mail: changes since the previous report left out: %s", exc)
        return None


def mail_report(
    settings: MailSettings,
    folder: Path,
    snapshot: Snapshot,
    analysis: Analysis,
    day: date,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    zone: tzinfo | None = None,
) -> Path | None:
    """Send ``folder/report.pdf``; with ``dry_run`` write ``folder/report.eml`` instead.
    ``zone``: the report's time zone, for the times in the list of changes."""
    pdf_path = folder / PDF_FILE
    try:
        pdf = read_bounded(pdf_path, MAX_PDF)
    except (OSError, InputProblem) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        log.error("mail: %s: %s", pdf_path, reason)
        raise MailError(f"{pdf_path}: {reason}") from None
    msg = build_message(
        settings, snapshot, analysis, pdf, day, changes=_changes(folder, snapshot, zone)
    )
    if dry_run:
        eml = folder / EML_FILE
        try:
            write_output(eml, msg.as_bytes(policy=policy.SMTP))
        except OutputError as exc:
            log.error("mail: %s", exc.format_message())
            raise MailError(exc.format_message()) from None
        log.info("mail: dry run, message written to %s (not sent)", eml)
        return eml
    from codeb_report.mail.smtp import send

    try:
        send(settings, msg, sleep=sleep)
    except MailError as exc:
        log.error("%s; the report stays in %s", exc.format_message(), folder)
        raise
    return None
