"""The stages end to end, as plain functions the CLI (and cron) call."""

from __future__ import annotations

from pathlib import Path

from codeb_report.snapshot import Snapshot


def collect_snapshot() -> Snapshot:
    from codeb_report.collect.local import collect_local
    from codeb_report.probes import default_probes

    return collect_local(default_probes())


def render_snapshot(snapshot: Snapshot, formats: list[str], out_dir: Path) -> list[Path]:
    from codeb_report.analysis import analyse
    from codeb_report.render import render_report

    return render_report(snapshot, analyse(snapshot), formats, out_dir)
