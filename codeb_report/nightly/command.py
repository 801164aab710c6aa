"""What ``run`` and ``send`` do once click has parsed their options."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from codeb_report.errors import ConfigError, Exit
from codeb_report.logs import setup_stderr, stderr_level
from codeb_report.mail.settings import MailError, MailSettings
from codeb_report.nightly.run import NightlyOptions, run_nightly
from codeb_report.outputdir import (
    DEFAULT_TIMEZONE,
    LATEST,
    OutputSettings,
    output_root_of,
    parse_day,
    today,
)

if TYPE_CHECKING:
    from codeb_report.config import Config
    from codeb_report.metrics.run import RunResult
    from codeb_report.nightly.stages import NightlyHistory


@dataclass
class RunRequest:
    output_root: Path | None
    config_path: Path | None
    keep_days: int | None
    email: bool
    dry_run: bool
    accept_new: bool
    verbosity: int
    metrics_textfile: Path | None = None  # overrides [metrics] textfile


def _output_settings(config: Config | None) -> OutputSettings:
    return config.output if config is not None else OutputSettings()


def _mail_settings(config: Config, config_path: Path) -> MailSettings:
    if config.mail is None:
        raise ConfigError(f"{config_path}: mail: missing (required to mail the report)")
    return config.mail


def execute_run(request: RunRequest) -> Exit:
    from codeb_report.config import load_config
    from codeb_report.nightly.stages import night_of
    from codeb_report.pipeline import collect_snapshot, collection_output

    config = load_config(request.config_path) if request.config_path else None
    output = _output_settings(config)
    mail = _mail_settings(config, request.config_path) if config and request.email else None
    timezone = config.report.timezone if config else DEFAULT_TIMEZONE
    setup_stderr(stderr_level(request.verbosity), ZoneInfo(timezone))
    # Without a terminal (cron, systemd) the fleet's progress stays silent and the run's
    # own log lines, with time and level, tell stderr about failed servers instead.
    progress, log_lines = collection_output(config, request.verbosity)
    options = NightlyOptions(
        output_root=output_root_of(request.output_root, output),
        timezone=timezone,
        keep_days=request.keep_days if request.keep_days is not None else output.keep_days,
        mail=mail,
        dry_run=request.dry_run,
        collection_echoed=not log_lines,
    )
    # Adds 전일 대비 변경 사항 and 리소스 추세 from the earlier days under output_root.
    history = night_of(config, options.output_root, today(timezone))
    textfile = request.metrics_textfile or _configured_textfile(config)
    if textfile is not None:
        options.metrics = partial(_write_metrics, textfile, history)
    return run_nightly(
        options,
        collect=lambda: collect_snapshot(config, accept_new=request.accept_new, verbosity=progress),
        analyse=history.analyse,
        render=history.render,
    )


def _configured_textfile(config: Config | None) -> Path | None:
    if config is None or config.metrics.textfile is None:
        return None
    return Path(config.metrics.textfile).expanduser()


def _write_metrics(path: Path, history: NightlyHistory, result: RunResult) -> None:
    from codeb_report.metrics.run import write_run_metrics

    trends = history.history.trends if history.history is not None else None
    write_run_metrics(path, replace(result, trends=trends))


def resolve_folder(folder: str | None, output_root: Path) -> Path:
    """A report folder, a date under ``output_root``, or (by default) ``latest``."""
    if folder is None:
        return output_root / LATEST
    if parse_day(folder) is not None and not Path(folder).exists():
        return output_root / folder
    return Path(folder)


def execute_send(
    folder: str | None,
    config_path: Path,
    output_root: Path | None,
    dry_run: bool,
    verbosity: int,
) -> tuple[Exit, Path | None]:
    from codeb_report.config import load_config
    from codeb_report.nightly.send import send_folder
    from codeb_report.nightly.stages import night_of

    config = load_config(config_path)
    settings = _mail_settings(config, config_path)
    timezone = config.report.timezone
    root = output_root_of(output_root, config.output)
    setup_stderr(stderr_level(verbosity), ZoneInfo(timezone))
    try:
        eml = send_folder(
            resolve_folder(folder, root),
            settings,
            # Judged as the run judged it (history, forecasts): the mail says the same.
            lambda day_root, day: night_of(config, day_root, day).analyse,
            timezone,
            dry_run,
        )
    except MailError:
        return Exit.MAIL, None  # logged (stderr and run.log) where it happened
    return Exit.OK, eml
