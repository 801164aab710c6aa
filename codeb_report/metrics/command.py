"""``codeb-report metrics``: a stored snapshot's metrics, on stdout or into a file."""

from __future__ import annotations

from pathlib import Path

import click

from codeb_report.errors import OutputError
from codeb_report.metrics.exposition import render
from codeb_report.metrics.fleet import snapshot_families


def metrics_text(arg: str, output_root: Path | None, config_path: Path | None) -> str:
    """The metrics of the snapshot ``arg`` names (file, report folder or date).

    A snapshot in a dated report folder is analysed as ``run`` analysed it: the folders
    before it give the trends, whose disk forecasts are findings and metrics too.
    """
    from codeb_report.analysis import analyse
    from codeb_report.config import load_config
    from codeb_report.history.store import as_date, resolve
    from codeb_report.nightly.stages import night_of
    from codeb_report.outputdir import output_root_of
    from codeb_report.snapshot import load

    config = load_config(config_path) if config_path is not None else None
    path = resolve(arg, output_root_of(output_root, config.output if config else None))
    snapshot = load(path)
    thresholds = config.report.thresholds if config else None
    folder = path.resolve().parent
    day = as_date(folder.name)
    if day is None:
        return render(snapshot_families(snapshot, analyse(snapshot, thresholds)))
    history = night_of(config, folder.parent, day)
    analysis = history.analyse(snapshot)
    trends = history.history.trends if history.history is not None else None
    return render(snapshot_families(snapshot, analysis, trends))


def write_output(text: str, output: str) -> None:
    if output == "-":
        click.echo(text, nl=False)
        return
    from codeb_report.metrics.textfile import write_textfile

    try:
        write_textfile(Path(output), text)
    except OSError as exc:
        raise OutputError(str(exc)) from None
