"""The PDF printed by a second process that starts while the report is prepared.

Importing WeasyPrint takes about as long as loading the snapshot models, analysing and
writing the HTML (a quarter of a second each); on a machine with two cores both can
happen at once. A command that will print a PDF starts the printer first
(``printing_ahead``): its process (render/print_worker.py) imports WeasyPrint, waits
for the page on its standard input and answers with the PDF on its standard output.
The command's first PDF goes to it; any other, and the first when the printer could not
start or failed, is printed in the command's own process, as are PDFs outside
``printing_ahead``.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol

from codeb_report.controls import escape_controls

# The printer's exit status when fontconfig has no Hangul or emoji font.
EXIT_MISSING_FONTS = 3
# What of the printer's standard error becomes the error line.
MAX_MESSAGE = 500
# Pages longer than this (characters) are printed in the command's own process. The printer's head
# start is worth a fixed quarter of a second, and its second interpreter costs a fixed
# 25 MB; the example's page is 28 KB (9 pages), a 100-server fleet's 210 KB (74 pages,
# 7 s of layout): there the memory counts, the time gained hardly.
AHEAD_LIMIT = 100_000

log = logging.getLogger(__name__)


class PrinterFailed(RuntimeError):
    """The printer's process ended without a PDF."""


class _Process(Protocol):
    pid: int
    returncode: int | None

    def communicate(self, data: bytes | None = None) -> tuple[bytes, bytes]: ...
    def poll(self) -> int | None: ...
    def kill(self) -> None: ...


class Printer:
    """One PDF printed by a process of its own, started ahead of the page."""

    def __init__(self, process: _Process) -> None:
        self._process = process
        self.used = False

    @classmethod
    def fork(cls, root: Path) -> Printer | None:
        """The printer as a fork of this process, which must have a single thread yet;
        None if it cannot fork."""
        from codeb_report.render.forked import ForkedProcess

        def run() -> None:
            from codeb_report.render.print_worker import main

            main(root)

        try:
            return cls(ForkedProcess(run))
        except OSError as exc:
            log.debug("PDF printer not forked, printing in this process: %s", exc)
            return None

    @classmethod
    def start(cls, root: Path) -> Printer | None:
        """Start the printer for pages whose stylesheet lies in ``root``; None if the
        process cannot start (the PDF is then printed in this process)."""
        # -P: the printer imports codeb_report from where this process did, never from
        # the working folder (someone else's folder, for a nightly run started there).
        argv = [sys.executable, "-P", "-m", "codeb_report.render.print_worker", str(root)]
        argv.append(str(os.getpid()))
        try:
            process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            log.debug("PDF printer not started, printing in this process: %s", exc)
            return None
        return cls(process)

    def print(self, html: str) -> bytes:
        """The PDF of ``html``; MissingFonts or PrinterFailed (one line) when none came."""
        self.used = True
        pdf, errors = self._process.communicate(html.encode("utf-8"))
        status = self._process.returncode
        failure = _forward_log(errors.decode("utf-8", "replace"))
        if status == 0 and pdf.startswith(b"%PDF"):
            return pdf
        if status == EXIT_MISSING_FONTS:
            from codeb_report.render.fonts import MissingFonts

            raise MissingFonts(failure)
        if status < 0:
            raise PrinterFailed(f"the PDF printer was stopped by signal {-status}")
        if failure:
            raise PrinterFailed(f"the PDF printer failed: {failure}")
        raise PrinterFailed(f"the PDF printer ended with exit status {status}")

    def close(self) -> None:
        """Stop the printer if no page came for it (the command failed or needed none)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()


def _forward_log(errors: str) -> str:
    """Log the printer's WeasyPrint records as this process would; return its failure."""
    failure = ""
    weasyprint = logging.getLogger("weasyprint")
    if not weasyprint.handlers:  # as WeasyPrint sets it up when imported in this process
        weasyprint.addHandler(logging.NullHandler())
    for line in errors.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "log":
            level, _, message = rest.partition(" ")
            weasyprint.log(int(level) if level.isdigit() else logging.WARNING, "%s", message)
        elif line.strip():
            failure = line.removeprefix("error ")  # else the last line of a traceback
    return escape_controls(failure[:MAX_MESSAGE])


_ahead: ContextVar[Printer | None] = ContextVar("codeb_report_printer", default=None)
# The printer codeb_report.entry started before the command was parsed, not yet taken.
_early: list[Printer] = []


def start_early() -> None:
    """Fork the printer before the command has imported anything or started a thread,
    and before it knows whether it will print a PDF: the next
    ``printing_ahead`` takes it, or stops it when no PDF is wanted; one never taken
    (``render --help``, a mistyped option) is stopped when this process exits."""
    from codeb_report.render.template_dir import templates_dir

    if not _early and (printer := Printer.fork(templates_dir())) is not None:
        _early.append(printer)
        atexit.register(_stop_early)


def _stop_early() -> None:
    while _early:
        _early.pop().close()


@contextmanager
def printing_ahead(wanted: bool = True) -> Iterator[None]:
    """Start the printer now when a PDF is ``wanted``; stop it on the way out if unused."""
    printer = _early.pop() if _early else None
    if not wanted:
        if printer is not None:
            printer.close()
        yield
        return
    if printer is None:
        from codeb_report.render.template_dir import templates_dir

        printer = Printer.start(templates_dir())
    token = _ahead.set(printer)
    try:
        yield
    finally:
        _ahead.reset(token)
        if printer is not None:
            printer.close()


def print_pdf(html: str) -> bytes:
    """The PDF of the report's page: by the printer started ahead, if one waits and the
    page is small enough (AHEAD_LIMIT); else in this process, the printer stopped."""
    printer = _ahead.get()
    if printer is not None and not printer.used:
        if len(html) <= AHEAD_LIMIT:
            try:
                return printer.print(html)
            except PrinterFailed as exc:
                # Its process could not print (killed, or an environment it cannot
                # import from): the PDF is not lost for that, it is printed here.
                log.warning("%s; the PDF is printed in this process instead", exc)
        printer.used = True  # its memory back before this process prints
        printer.close()
    from codeb_report.render.weasy import html_to_pdf

    return html_to_pdf(html)
