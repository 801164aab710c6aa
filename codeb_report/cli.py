"""The command line: parses options and calls plain functions; nothing else lives here.

Heavy modules (weasyprint, paramiko) are imported inside the commands that use them so
that ``codeb-report --help`` stays quick.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from codeb_report import __version__
from codeb_report.errors import Exit, UserError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FORMATS = ("md", "html", "pdf")


def parse_formats(value: str) -> list[str]:
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}"
        )
    return formats


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="codeb-report")
def cli() -> None:
    """Collect the CodeB servers and write the Korean infrastructure report.

    \b
    Example:
      codeb-report run            # report of this machine under output/YYYY-MM-DD/
    """


@cli.command(context_settings=CONTEXT)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the snapshot here instead of stdout.")
def collect(output: Path | None) -> None:
    """Collect the local machine into a snapshot (JSON).

    \b
    Example:
      codeb-report collect -o snapshot.json
    """
    from codeb_report.pipeline import collect_snapshot
    from codeb_report.snapshot import dumps, save

    snapshot = collect_snapshot()
    if output is None:
        click.echo(dumps(snapshot), nl=False)
    else:
        save(snapshot, output)


@cli.command(context_settings=CONTEXT)
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-f", "--format", "formats", default="md,html,pdf", show_default=True,
              help="Comma-separated output formats: md, html, pdf.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Folder to write report.* into.")
def render(snapshot: Path, formats: str, out_dir: Path) -> None:
    """Render a snapshot into report.md, report.html and report.pdf.

    \b
    Example:
      codeb-report render examples/fleet-snapshot.json --format md,pdf --out /tmp/report
    """
    from codeb_report.pipeline import render_snapshot
    from codeb_report.snapshot import load

    for path in render_snapshot(load(snapshot), parse_formats(formats), out_dir):
        click.echo(str(path))


@cli.command(context_settings=CONTEXT)
@click.option("--output-root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("output"), show_default=True,
              help="Reports land in OUTPUT_ROOT/YYYY-MM-DD/.")
def run(output_root: Path) -> None:
    """Collect, analyse and write snapshot.json and report.md/html/pdf for today.

    \b
    Example:
      codeb-report run --output-root /var/lib/codeb-report/output
    """
    from codeb_report.pipeline import collect_snapshot, render_snapshot
    from codeb_report.snapshot import save

    snapshot = collect_snapshot()
    day_dir = output_root / date.today().isoformat()
    save(snapshot, day_dir / "snapshot.json")
    for path in render_snapshot(snapshot, list(FORMATS), day_dir):
        click.echo(str(path))


def main() -> None:
    try:
        cli.main(prog_name="codeb-report")
    except UserError as exc:  # raised outside click's own handling, e.g. in a callback
        click.echo(f"codeb-report: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("codeb-report: interrupted", err=True)
        sys.exit(int(Exit.FAILED))
