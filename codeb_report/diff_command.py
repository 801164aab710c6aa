"""``codeb-report diff``: resolve the two snapshots, diff them, write the report.

Exit status as diff(1): 0 nothing changed, 1 something changed, 2 trouble. Unlike the
other commands, a bad input file is 2 here, not 3, so scripts can test ``diff`` alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from codeb_report.errors import Exit, UserError
from codeb_report.history.settings import DiffSettings

TROUBLE = Exit.USAGE  # 2, as diff(1)


def run_diff(
    old: str,
    new: str,
    output_root: Path,
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
    output_root: Path,
    fmt: str,
    output: Path | None,
    steps: dict[str, float],
    config_path: Path | None,
) -> Exit:
    from codeb_report.analysis import analyse
    from codeb_report.history.compare import diff_paths
    from codeb_report.history.store import resolve
    from codeb_report.render.diff_report import render_diff

    if fmt == "pdf" and output is None:
        raise UserError("--format pdf needs --output FILE")
    thresholds, settings = None, DiffSettings()
    if config_path is not None:
        from codeb_report.config import load_config

        config = load_config(config_path)
        thresholds, settings = config.report.thresholds, config.diff
    settings = settings.model_copy(update=steps)
    old_path, new_path = resolve(old, output_root), resolve(new, output_root)
    diff = diff_paths(old_path, new_path, lambda s: analyse(s, thresholds), settings)
    data = render_diff(diff, fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write(output, data)
    return Exit.CHANGED if diff.changed else Exit.OK


def _write(output: Path, data: bytes) -> None:
    from codeb_report.atomic import write_bytes_atomic

    try:
        write_bytes_atomic(output, data)
    except OSError as exc:
        raise UserError(f"{output}: cannot write: {exc.strerror or exc}") from None
