"""Rendering: the report in Markdown, HTML and PDF, one small module per format.

All formats come from one template set: ``templates/report.md.j2`` holds the wording, the
HTML is that Markdown converted and wrapped in ``report.html.j2`` with ``report.css``, and
the PDF is WeasyPrint's print of that page.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codeb_report.analysis.model import Analysis
    from codeb_report.history.section import HistoryReport
    from codeb_report.render.base import ReportFormat
    from codeb_report.render.view import RenderOptions
    from codeb_report.snapshot import Snapshot

__all__ = ["RenderOptions", "available_formats", "render_report"]


def __getattr__(name: str) -> Any:
    # The package itself stays light: the PDF printer's own process imports
    # codeb_report.render.weasy without the snapshot and analysis models.
    if name == "RenderOptions":
        from codeb_report.render.view import RenderOptions

        return RenderOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def available_formats() -> dict[str, type[ReportFormat]]:
    from codeb_report.render.html import HtmlFormat
    from codeb_report.render.md import MarkdownFormat
    from codeb_report.render.pdf import PdfFormat

    return {f.name: f for f in (MarkdownFormat, HtmlFormat, PdfFormat)}


def render_report(
    snapshot: Snapshot,
    analysis: Analysis,
    formats: list[str],
    out_dir: Path,
    options: RenderOptions | None = None,
    history: HistoryReport | None = None,
) -> list[Path]:
    """Write ``report.<format>`` for each format into ``out_dir``; return their paths.

    ``scale-out.sh`` (section 4's Option A) is written beside them when the account's data
    fills it in.

    ``options`` carries what a configuration adds: title, time zone, descriptions;
    ``history`` the nightly run's sections on changes and trends.

    Every file is rendered in memory first and written atomically, so a failure leaves
    earlier reports in place and never a half-written file. ``out_dir`` is created (0700)
    when missing; its parent must exist.
    """
    from codeb_report.atomic import make_folder, write_output
    from codeb_report.errors import OutputError
    from codeb_report.render.base import Report
    from codeb_report.render.fonts import MissingFonts

    known = available_formats()
    unknown = [f for f in formats if f not in known]
    if unknown:
        raise OutputError(f"unknown report format: {', '.join(unknown)}")
    make_folder(out_dir)
    report = Report(snapshot, analysis, options, history)
    written = []
    unreadable: MissingFonts | None = None
    for name in dict.fromkeys(formats):
        fmt = known[name]()
        path = out_dir / fmt.filename
        try:
            data = fmt.render(report)
        except MissingFonts as exc:
            # The other formats are still worth having; the PDF is not written at all.
            unreadable = MissingFonts(f"{path}: not written: {exc.format_message()}")
            continue
        except Exception as exc:
            raise OutputError(f"{path}: cannot render {name}: {exc}") from exc
        write_output(path, data)
        written.append(path)
    script = report.view.scaling.script
    if script is not None:
        _write_script(out_dir, script)
    if unreadable is not None:
        raise unreadable
    return written


def _write_script(out_dir: Path, text: str) -> Path:
    """Section 4's Option A as ``scale-out.sh`` beside the report: the owner's alone (0700).

    Unlike a report (written through a symlink as ``>`` would), an executable script is
    never written where a planted link points: ``replace_file`` renames over the name."""
    from codeb_report.atomic import replace_file
    from codeb_report.errors import OutputError
    from codeb_report.render.scale_out import FILENAME

    path = out_dir / FILENAME
    try:
        replace_file(path, text.encode("utf-8"), 0o700)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path
