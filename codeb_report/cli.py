"""The command line: parses options and calls plain functions; nothing else lives here.

Heavy modules (weasyprint, paramiko) are imported inside the commands that use them so
that ``codeb-report --help`` stays quick.
"""

from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path

import click

from codeb_report import __version__
from codeb_report.controls import escape_controls
from codeb_report.errors import Exit, UserError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FORMATS = ("md", "html", "pdf")


def parse_formats(_ctx: click.Context, _param: click.Parameter, value: str) -> list[str]:
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}"
        )
    return formats


class ExampleLastCommand(click.Command):
    """Prints the docstring's ``Example:`` block after the options, so help ends with it."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text, example = split_example(self.help or "")
        self.help = text
        try:
            super().format_help(ctx, formatter)
        finally:
            self.help = text + example
        if example:
            formatter.write_paragraph()
            formatter.write_text(inspect.cleandoc(example))


class ExampleLastGroup(ExampleLastCommand, click.Group):
    command_class = ExampleLastCommand


def split_example(help_text: str) -> tuple[str, str]:
    head, marker, example = help_text.partition("\b\n")
    if not marker or not example.lstrip().startswith("Example"):
        return help_text, ""
    return head.rstrip(), marker + example


@click.group(cls=ExampleLastGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="codeb-report")
def cli() -> None:
    """Collect the CodeB servers and write the Korean infrastructure report.

    \b
    Example:
      codeb-report run            # report of this machine under output/YYYY-MM-DD/
    """


def fleet_options(func):
    """--config, --accept-new, -q and -v: shared by collect and run."""
    func = click.option(
        "-v", "--verbose", count=True, help="Print every step of every server with its time."
    )(func)
    func = click.option(
        "-q",
        "--quiet",
        count=True,
        help="Less on stderr: failures only (servers not collected), no progress.",
    )(func)
    func = click.option(
        "--accept-new",
        is_flag=True,
        help="Record unknown host keys in known_hosts (changed keys are "
        "still refused), like ssh's StrictHostKeyChecking=accept-new.",
    )(func)
    func = click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Fleet configuration (TOML): collect its servers over SSH.",
    )(func)
    return func


def load_fleet(config_path: Path | None):
    from codeb_report.config import load_config

    return None if config_path is None else load_config(config_path)


@cli.command(context_settings=CONTEXT)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the snapshot here instead of stdout.",
)
@fleet_options
def collect(
    output: Path | None, config_path: Path | None, accept_new: bool, quiet: int, verbose: int
) -> None:
    """Collect the local machine, or with --config every server over SSH, into a snapshot.

    Exit code 4: some servers or probes failed; 5: no server could be collected (the
    snapshot, with the reasons, is written all the same).

    \b
    Example:
      codeb-report collect -o snapshot.json
      codeb-report collect --config fleet.toml -o fleet.json
    """
    from codeb_report.atomic import STDOUT
    from codeb_report.collect.log import log_collection
    from codeb_report.logs import setup_stderr, stderr_level
    from codeb_report.pipeline import collect_snapshot, collection_output
    from codeb_report.snapshot import save

    config = load_fleet(config_path)
    verbosity = verbose - quiet
    zone = config.report.zone() if config is not None else None
    setup_stderr(stderr_level(verbosity), zone)
    # What a failure is on stderr, as `run` says it (pipeline.collection_output).
    progress, log_lines = collection_output(config, verbosity)
    snapshot = collect_snapshot(config, accept_new=accept_new, verbosity=progress)
    if log_lines:
        log_collection(snapshot)
    save(snapshot, output or Path(STDOUT))
    from codeb_report.collect.fleet import collection_exit

    sys.exit(int(collection_exit(snapshot)))


@cli.command(context_settings=CONTEXT)
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-f",
    "--format",
    "formats",
    default="md,html,pdf",
    show_default=True,
    callback=parse_formats,
    help="Comma-separated output formats: md, html, pdf.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write report.* into.",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fleet configuration (TOML): its title, time zone, thresholds and the "
    "descriptions of ports and units.",
)
def render(snapshot: Path, formats: list[str], out_dir: Path, config_path: Path | None) -> None:
    """Render a snapshot into report.md, report.html and report.pdf.

    \b
    Example:
      codeb-report render examples/fleet-snapshot.json --format md,pdf --out /tmp/report
    """
    from codeb_report.render.printer import printing_ahead

    # First: WeasyPrint's slow import then runs while the snapshot is read and analysed.
    with printing_ahead("pdf" in formats):
        from codeb_report.pipeline import render_snapshot
        from codeb_report.snapshot import load

        config = load_fleet(config_path) if config_path is not None else None
        for path in render_snapshot(load(snapshot), formats, out_dir, config=config):
            click.echo(str(path))


@cli.command(context_settings=CONTEXT)
@click.option(
    "--output-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Reports land in OUTPUT_ROOT/YYYY-MM-DD/ (default: [output] root, else ./output).",
)
@click.option(
    "--keep",
    "keep_days",
    type=click.IntRange(min=1, max=36500),
    metavar="N",
    help="Remove dated folders older than N days; the newest always stays.",
)
@click.option(
    "--email",
    is_flag=True,
    help="Mail the PDF to the [mail] recipients of --config once it is written.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="With --email: write report.eml beside the report instead of sending.",
)
@click.option(
    "--metrics",
    "metrics_textfile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Replace this *.prom file with the run's metrics for node_exporter "
    "(default: [metrics] textfile).",
)
@fleet_options
def run(
    output_root: Path | None,
    keep_days: int | None,
    email: bool,
    dry_run: bool,
    metrics_textfile: Path | None,
    config_path: Path | None,
    accept_new: bool,
    quiet: int,
    verbose: int,
) -> None:
    """Collect, analyse and write today's OUTPUT_ROOT/YYYY-MM-DD/ as one complete set.

    The folder (snapshot.json, report.md/html/pdf, run.log) is replaced as a whole;
    OUTPUT_ROOT/latest points at the newest. Without --config this machine is reported;
    with it, every server of the file. Exit codes: 4 some servers or probes failed,
    5 no server could be collected, 6 mail not delivered, 7 another run is going on.

    \b
    Example:
      codeb-report run --config /etc/codeb-report/fleet.toml --keep 90 --email
    """
    from codeb_report.nightly.command import RunRequest, execute_run

    if email and config_path is None:
        raise click.UsageError("--email needs --config: the recipients are in its [mail] section")
    if dry_run and not email:
        raise click.UsageError("--dry-run goes with --email")
    request = RunRequest(
        output_root,
        config_path,
        keep_days,
        email,
        dry_run,
        accept_new,
        verbose - quiet,
        metrics_textfile,
    )
    sys.exit(int(execute_run(request)))


@cli.command(context_settings=CONTEXT)
@click.argument("folder", required=False)
@click.option(
    "-c",
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration with the [mail] section.",
)
@click.option(
    "--output-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where FOLDER given as a date is looked up (default: [output] root, else ./output).",
)
@click.option("--dry-run", is_flag=True, help="Write report.eml into FOLDER instead of sending.")
@click.option("-q", "--quiet", count=True, help="Errors only on stderr.")
@click.option("-v", "--verbose", count=True, help="Every step on stderr.")
def send(
    folder: str | None,
    config_path: Path,
    output_root: Path | None,
    dry_run: bool,
    quiet: int,
    verbose: int,
) -> None:
    """Mail the PDF of a written report to the [mail] recipients.

    FOLDER is a report folder or a date (YYYY-MM-DD); by default OUTPUT_ROOT/latest.
    Exit code 6: not delivered (the report stays on disk; run.log says why).

    \b
    Example:
      codeb-report send --config /etc/codeb-report/fleet.toml 2025-12-20
    """
    from codeb_report.nightly.command import execute_send

    code, eml = execute_send(folder, config_path, output_root, dry_run, verbose - quiet)
    if eml is not None:
        click.echo(str(eml))
    sys.exit(int(code))


@cli.command(context_settings=CONTEXT)
@click.argument(
    "path", type=click.Path(dir_okay=False, path_type=Path), default=Path("codeb-report.toml")
)
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: Path, force: bool) -> None:
    """Write a commented example configuration to PATH (default codeb-report.toml).

    \b
    Example:
      codeb-report init /etc/codeb-report.toml && codeb-report check-config /etc/codeb-report.toml
    """
    from codeb_report.atomic import write_output
    from codeb_report.config import example_config

    if (path.exists() or path.is_symlink()) and not force:
        raise UserError(f"{path}: already exists (use --force to overwrite)")
    write_output(path, example_config())
    click.echo(f"{path}: written; edit the servers, then: codeb-report check-config {path}")


@cli.command("check-config", context_settings=CONTEXT)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def check_config(path: Path) -> None:
    """Validate a configuration file; errors name the file and the field (exit code 3).

    Nothing is connected to: this reads the file and the password sources it names.

    \b
    Example:
      codeb-report check-config fleet.toml
    """
    from codeb_report.config import (
        identity_problems,
        known_hosts_problems,
        load_config,
        secret_problems,
    )
    from codeb_report.logs import setup_stderr

    setup_stderr(logging.WARNING)  # a password or key file others can read is a warning
    config = load_config(path)
    problems = identity_problems(config) + known_hosts_problems(config) + secret_problems(config)
    if problems:
        extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UserError(f"{path}: {problems[0]}{extra}")
    count = len(config.servers)
    names = ", ".join(s.name for s in config.servers)
    found = config.prometheus.servers if config.prometheus else None
    listed = f"{count} server{'' if count == 1 else 's'} ({names})" if count else ""
    more = f"servers Prometheus finds by {found}" if found else ""
    click.echo(f"{path}: ok, {' and '.join(p for p in (listed, more) if p)}")


@cli.command(context_settings=CONTEXT)
@click.argument("old")
@click.argument("new")
@click.option(
    "--output-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where OLD/NEW given as dates (YYYY-MM-DD) are looked up.  "
    "[default: the configuration's [output] root, else output]",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "pdf", "json"]),
    default="md",
    show_default=True,
    help="Report format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of stdout (required for pdf).",
)
@click.option(
    "--disk-step",
    type=click.FloatRange(min=0, max=100, min_open=True),
    help="Report disk use that moved by at least this many %p.  [default: 5]",
)
@click.option(
    "--memory-step",
    type=click.FloatRange(min=0, max=100, min_open=True),
    help="Report memory use that moved by at least this many %p.  [default: 10]",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fleet configuration: its thresholds judge the findings, its [diff] the steps.",
)
def diff(
    old: str,
    new: str,
    output_root: Path | None,
    fmt: str,
    output: Path | None,
    disk_step: float | None,
    memory_step: float | None,
    config_path: Path | None,
) -> None:
    """Report what changed between two snapshots, in Korean.

    OLD and NEW are snapshot files, dated report folders, or dates looked up under
    --output-root. Exit status as diff(1): 0 nothing changed, 1 changes, 2 trouble.

    \b
    Example:
      codeb-report diff 2025-12-19 2025-12-20 --output-root /var/lib/codeb-report/output
    """
    from codeb_report.diff_command import run_diff

    steps = {"disk_step": disk_step, "memory_step": memory_step}
    given = {k: v for k, v in steps.items() if v is not None}
    sys.exit(int(run_diff(old, new, output_root, fmt, output, given, config_path)))


@cli.command(context_settings=CONTEXT)
@click.argument("snapshot")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    help="File to replace (atomically, mode 0644), or - for stdout.",
)
@click.option(
    "--output-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where SNAPSHOT given as a date (YYYY-MM-DD) is looked up.  "
    "[default: the configuration's [output] root, else output]",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fleet configuration: its thresholds judge the findings, its [trends] the forecasts.",
)
def metrics(snapshot: str, output: str, output_root: Path | None, config_path: Path | None) -> None:
    """Write a snapshot's figures and findings as Prometheus metrics (text format).

    SNAPSHOT is a snapshot file, a report folder or a date under --output-root. In a dated
    report folder the days before it give the disk forecasts, as in the report. `run`
    writes the same metrics itself with [metrics] textfile; docs/monitoring.md lists them.

    \b
    Example:
      codeb-report metrics output/latest -o /var/lib/prometheus/node-exporter/codeb_report.prom
    """
    from codeb_report.metrics.command import metrics_text, write_output

    write_output(metrics_text(snapshot, output_root, config_path), output)


def main() -> None:
    from codeb_report.quick_exit import exit_code, leave

    try:
        _main()
    except SystemExit as exc:
        leave(exit_code(exc.code))
    leave(0)


def _main() -> None:
    try:
        code = cli.main(prog_name="codeb-report", standalone_mode=False)
    except click.ClickException as exc:
        # click's own errors quote what was typed (a path, a value): on one line, and no
        # escape sequence in it reaches the terminal. UserError escapes its own message;
        # the help printed for a bare `codeb-report` is ours, lines and all.
        if not isinstance(exc, click.exceptions.NoArgsIsHelpError):
            exc.message = escape_controls(exc.message)
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("codeb-report: interrupted", err=True)
        sys.exit(int(Exit.FAILED))
    sys.exit(code if isinstance(code, int) else 0)
