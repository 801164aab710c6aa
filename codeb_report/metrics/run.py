"""The nightly run's own metrics, and the file ``run`` writes for node_exporter.

A run that did not succeed keeps the previous file's last success time, so "not
succeeded for 26 hours" stays true across failed nights; its per-server figures are
those of its own snapshot, or none when it has no snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codeb_report.analysis.model import Analysis
from codeb_report.errors import Exit
from codeb_report.history.trends import Trends
from codeb_report.metrics.exposition import Family, render
from codeb_report.metrics.fleet import about_snapshot, build_family, gauge, snapshot_families
from codeb_report.metrics.textfile import previous_last_success, write_textfile
from codeb_report.snapshot import Snapshot

# A written report with at least one server collected. Mail trouble (6) is not success:
# the report did not reach its readers.
SUCCESS = (Exit.OK, Exit.PARTIAL)


@dataclass
class RunResult:
    code: Exit
    started: float  # Unix time
    finished: float
    duration: float  # seconds, from a monotonic clock
    snapshot: Snapshot | None = None  # None when the run failed before it had one
    analysis: Analysis | None = None
    trends: Trends | None = None


def run_families(result: RunResult, last_success: float | None) -> list[Family]:
    finished = gauge("run_timestamp_seconds", "When the last run finished (Unix time).")
    finished.add(result.finished)
    duration = gauge("run_duration_seconds", "How long the last run took.")
    duration.add(result.duration)
    code = gauge("run_exit_code", "Exit code of the last run (README: 0 ok, 4 partial, ...).")
    code.add(int(result.code))
    success = gauge(
        "run_last_success_timestamp_seconds",
        "When a run last wrote its report with at least one server (exit code 0 or 4).",
    )
    success.add(result.finished if result.code in SUCCESS else last_success)
    return [finished, duration, code, success]


def run_metrics_text(result: RunResult, last_success: float | None) -> str:
    families = run_families(result, last_success)
    if result.snapshot is not None and result.analysis is not None:
        families += snapshot_families(result.snapshot, result.analysis, result.trends)
    elif result.snapshot is not None:
        families += about_snapshot(result.snapshot)
    else:
        families.append(build_family())
    return render(families)


def write_run_metrics(path: Path, result: RunResult) -> None:
    """Replace ``path`` with this run's metrics; raises ``TextfileError`` (an OSError)."""
    write_textfile(path, run_metrics_text(result, previous_last_success(path)))
