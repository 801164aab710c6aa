"""``codeb-report run``: lock, collect, analyse, render into staging, publish, prune, mail.

The stages are handed in as functions so the CLI decides how to collect (this machine or
the configured fleet) and with which thresholds to analyse, and tests can slow a stage
down to kill the run in the middle of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from codeb_report.analysis.model import Analysis
from codeb_report.collect.log import log_collection
from codeb_report.errors import Exit, OutputError, UserError
from codeb_report.lock import run_lock
from codeb_report.logs import get_logger, run_log
from codeb_report.mail.settings import MailError, MailSettings
from codeb_report.metrics.run import RunResult
from codeb_report.outputdir import DEFAULT_TIMEZONE, OutputRoot, today
from codeb_report.render.fonts import MissingFonts
from codeb_report.snapshot import ProbeStatus, Snapshot, save

SNAPSHOT_FILE = "snapshot.json"
RUN_LOG = "run.log"
FORMATS = ["md", "html", "pdf"]

Collect = Callable[[], Snapshot]
Analyse = Callable[[Snapshot], Analysis]
Render = Callable[[Snapshot, Analysis, list[str], Path], list[Path]]
WriteMetrics = Callable[[RunResult], None]

log = get_logger("run")


@dataclass
class NightlyOptions:
    output_root: Path
    timezone: str = DEFAULT_TIMEZONE
    keep_days: int | None = None
    mail: MailSettings | None = None  # set: mail the PDF once the day's folder is in place
    dry_run: bool = False  # with mail: write report.eml instead of sending
    # The collector already told stderr about each server (fleet progress): run.log only.
    collection_echoed: bool = False
    # Set: called last with the run's result, e.g. to write node_exporter's textfile.
    metrics: WriteMetrics | None = None


def outcome(snapshot: Snapshot) -> Exit:
    """OK, PARTIAL (some server, probe or the provider failed) or FAILED (no server collected)."""
    reachable = [s for s in snapshot.servers if s.reachable]
    if not reachable:
        return Exit.FAILED
    failed_probe = any(p.status == ProbeStatus.FAILED for s in reachable for p in s.probes)
    prometheus_failed = snapshot.prometheus is not None and snapshot.prometheus.error is not None
    if len(reachable) < len(snapshot.servers) or failed_probe or prometheus_failed:
        return Exit.PARTIAL
    if snapshot.provider is not None and snapshot.provider.incomplete:
        return Exit.PARTIAL  # the Vultr account could not be read (or only in part)
    return Exit.OK


def _produce(
    staging: Path, collect: Collect, analyse: Analyse, render: Render, echo: bool, final: Path
) -> tuple[Snapshot, Analysis, bool]:
    """Collect, save, analyse and render; the flag is False when the PDF could not be
    printed readable (no Hangul or emoji font): the rest is published, nothing mailed."""
    snapshot = collect()
    log_collection(snapshot, echo)
    save(snapshot, staging / SNAPSHOT_FILE)
    analysis = analyse(snapshot)
    try:
        written = render(snapshot, analysis, FORMATS, staging)
    except MissingFonts as exc:
        # Named where the operator will look: the day's folder, not the staging one.
        log.error("%s", exc.format_message().replace(str(staging), str(final)))
        return snapshot, analysis, False
    log.info("rendered %s", ", ".join(p.name for p in written))
    return snapshot, analysis, True


def run_nightly(
    options: NightlyOptions,
    collect: Collect,
    analyse: Analyse,
    render: Render,
    sleep: Callable[[float], None] = time.sleep,
) -> Exit:
    """One run; returns its exit code. Raises ``Locked`` if another run is going on."""
    root = OutputRoot(options.output_root)
    zone = ZoneInfo(options.timezone)
    clock = _Clock()
    with run_lock(root.lock_path, zone):
        day = today(options.timezone)
        stale = root.clean_stale()
        staging = root.stage(day)
        with run_log(staging / RUN_LOG, zone) as log_file:
            log.info("run started for %s", root.day_dir(day))
            for path in stale:
                log.info("removed %s, left by an interrupted run", path.name)
            try:
                snapshot, analysis, readable = _produce(
                    staging,
                    collect,
                    analyse,
                    render,
                    not options.collection_echoed,
                    root.day_dir(day),
                )
            except BaseException as exc:
                kept = _keep_failed(root, staging, day)
                # The staging folder is gone now: the error names the folder that holds
                # its files, the one the operator can open.
                reason = (getattr(exc, "message", None) or repr(exc)).replace(
                    str(staging), str(kept)
                )
                log.error(
                    "run failed, %s left as it was; partial output and log in %s: %s",
                    root.day_dir(day),
                    kept,
                    reason,
                )
                if isinstance(exc, OSError):
                    _metrics(options, clock.result(Exit.OUTPUT))
                    raise OutputError(f"{kept}: {exc.strerror or exc}") from None
                if isinstance(exc, UserError):
                    exc.message = reason
                    _metrics(options, clock.result(Exit(exc.exit_code)))
                raise
            try:
                folder = root.publish(staging, day)
            except OSError as exc:
                log.error("cannot put %s in place: %s", root.day_dir(day), exc)
                _metrics(options, clock.result(Exit.OUTPUT, snapshot, analysis))
                raise OutputError(f"{root.day_dir(day)}: {exc.strerror or exc}") from None
            log.info("published %s", folder)
            code = _after_publish(root, folder, day, options.keep_days, outcome(snapshot))
            if not readable:
                code = code if code == Exit.FAILED else Exit.OUTPUT
                if options.mail is not None:
                    log.error("mail: not sent: there is no readable PDF to attach")
            elif options.mail is not None:
                code = _mail(options, folder, snapshot, analysis, day, code, sleep)
            if not _metrics(options, clock.result(code, snapshot, analysis)) and code == Exit.OK:
                code = Exit.PARTIAL  # the report stands; the monitoring missed tonight's
            log.info("run finished, exit code %d", code)
    if log_file.failure is not None:
        # The report is out, but its log is not whole (a full disk): said once, exit 8.
        reason = log_file.failure.strerror or log_file.failure
        raise OutputError(f"{folder / RUN_LOG}: cannot write the log: {reason}")
    return code


def _keep_failed(root: OutputRoot, staging: Path, day: date) -> Path:
    try:
        return root.keep_failed(staging, day)
    except OSError:
        return staging  # could not be renamed: the files are still where they were


def _after_publish(
    root: OutputRoot, folder: Path, day: date, keep_days: int | None, code: Exit
) -> Exit:
    """Point ``latest`` and prune: the day is published already, so a failure here is
    logged, the rest (retention, mail) still happens, and the run exits 8 (OUTPUT) unless
    no server was collected (5 says more)."""
    failed = False
    try:
        root.point_latest(folder)
    except OutputError as exc:
        log.error("%s is published, but: %s", folder, exc.format_message())
        failed = True
    if keep_days is not None:
        try:
            for removed in root.prune(keep_days, day):
                log.info("removed %s (older than %d days)", removed.name, keep_days)
        except OSError as exc:
            log.error("retention: %s: %s", exc.filename or root.root, exc.strerror or exc)
            failed = True
    return Exit.OUTPUT if failed and code != Exit.FAILED else code


class _Clock:
    """When the run started, for its duration and timestamps in the metrics."""

    def __init__(self) -> None:
        self.started = time.time()
        self.start = time.monotonic()

    def result(
        self, code: Exit, snapshot: Snapshot | None = None, analysis: Analysis | None = None
    ) -> RunResult:
        duration = time.monotonic() - self.start
        return RunResult(code, self.started, self.started + duration, duration, snapshot, analysis)


def _metrics(options: NightlyOptions, result: RunResult) -> bool:
    """Hand the result to ``options.metrics``; False (logged) when that failed."""
    if options.metrics is None:
        return True
    try:
        options.metrics(result)
    except (OSError, UserError) as exc:
        message = exc.format_message() if isinstance(exc, UserError) else str(exc)
        log.error("metrics not written: %s", message)
        return False
    log.info("metrics written")
    return True


def _mail(
    options: NightlyOptions,
    folder: Path,
    snapshot: Snapshot,
    analysis: Analysis,
    day: date,
    code: Exit,
    sleep: Callable[[float], None],
) -> Exit:
    from codeb_report.mail.deliver import mail_report

    assert options.mail is not None
    try:
        zone = ZoneInfo(options.timezone)
        mail_report(options.mail, folder, snapshot, analysis, day, options.dry_run, sleep, zone)
    except MailError:
        # A fleet nobody could collect says more than a lost mail; both leave the report.
        return code if code == Exit.FAILED else Exit.MAIL
    return code
