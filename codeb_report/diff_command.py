"""``codeb-report diff``: resolve the two snapshots, diff them, write the report.

Exit status as diff(1): 0 nothing changed, 1 something changed, 2 trouble. Unlike the
other commands, a bad input file is 2 here, not 3, so scripts can test ``diff`` alone.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from codeb_report.errors import Exit, UserError
from codeb_report.history.settings import DiffSettings

TROUBLE = Exit.USAGE  # 2, as diff(1)


def run_diff(
    old: str,
    new: str,
    output_root: Path | None,
    fmt: str,
    output: Path | None,
    steps: dict[str, float],
    config_path: Path | None = None,
) -> Exit:
    """Write the diff report to ``output`` (stdout without it); return the exit status.

    ``steps`` given on the command line win over the configuration's ``[diff]``.
    """
    try:
        return _run(old, new, output_root, fmt, output, steps, config_path)
    except UserError as exc:
        raise UserError(exc.format_message(), TROUBLE) from None


def _run(
    old: str,
    new: str,
    output_root: Path | None,
    fmt: str,
    output: Path | None,
    steps: dict[str, float],
    config_path: Path | None,
) -> Exit:
    from codeb_report.analysis import analyse, findings
    from codeb_report.atomic import STDOUT, write_output
    from codeb_report.history.compare import diff_paths
    from codeb_report.history.store import resolve
    from codeb_report.outputdir import output_root_of
    from codeb_report.render.diff_report import render_diff

    if fmt == "pdf" and (output is None or str(output) == "-"):
        raise UserError("--format pdf needs --output FILE")
    config = None
    if config_path is not None:
        from codeb_report.config import load_config

        config = load_config(config_path)
    thresholds = config.report.thresholds if config else None
    settings = (config.diff if config else DiffSettings()).model_copy(update=steps)
    zone = config.report.zone() if config else None
    root = output_root_of(output_root, config.output if config else None)
    old_path, new_path = resolve(old, root), resolve(new, root)
    diff = diff_paths(
        old_path,
        new_path,
        lambda s: analyse(s, thresholds),
        settings,
        zone=zone,
        judge_earlier=lambda s: findings(s, thresholds),
    )
    if diff.new_at < diff.old_at:
        _warn_order(old, new, diff.old_at, diff.new_at)
    data = render_diff(diff, fmt, zone)
    write_output(output or STDOUT, data)
    return Exit.CHANGED if diff.changed else Exit.OK


def _warn_order(old: str, new: str, old_at: datetime, new_at: datetime) -> None:
    """One line on stderr: the report still says what differs, but "new" and "resolved"
    read backwards, and no finding gets an age."""
    from codeb_report.controls import escape_controls

    click.echo(
        escape_controls(
            f"warning: NEW {new} (collected {new_at.isoformat(timespec='minutes')}) is older "
            f"than OLD {old} ({old_at.isoformat(timespec='minutes')}); give the older "
            "snapshot first"
        ),
        err=True,
    )
