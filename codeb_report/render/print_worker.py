"""The PDF printer's process: ``python -P -m codeb_report.render.print_worker ROOT PID``
(PID: the command's, whose end ends this process too), or a fork of the command running
``main(ROOT)``.

It imports WeasyPrint at once, then reads one HTML page (UTF-8) on its standard input
until end of file, and writes the page's PDF on its standard output; the page's
stylesheet lies in ROOT (the templates folder). WeasyPrint's log records go to standard
error as ``log LEVEL MESSAGE`` lines, for the command to log as its own; a failure is one
``error MESSAGE`` line and exit status 1, or 3 when there is no Hangul or emoji font.
An empty input (the command needed no PDF after all) prints nothing. Started by
render/printer.py, never by hand.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from pathlib import Path

from codeb_report.controls import escape_controls

# A page larger than this is not codeb-report's: its largest reports are a few MB.
MAX_PAGE = 256 * 1024 * 1024


class ForwardRecords(logging.Handler):
    """WeasyPrint's records, one escaped line each, for the command to log."""

    def emit(self, record: logging.LogRecord) -> None:
        _say(f"log {record.levelno} {escape_controls(record.getMessage())}")


def _read_page() -> bytes:
    """Standard input to its end, or past MAX_PAGE (read as a descriptor: sys.stdin is
    None in a fork of a command started without one)."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_PAGE and (chunk := os.read(0, 1 << 20)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _say(line: str) -> None:
    _write_all(2, (line + "\n").encode("utf-8", "replace"))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _end(status: int) -> None:
    # os._exit: freeing WeasyPrint's hundreds of thousands of boxes one by one at
    # interpreter exit would keep the command waiting for nothing (0.1 s for the example).
    os._exit(status)


def main(root: Path | None = None) -> None:
    """Print one page; ``root`` is the templates folder (else the first argument, and
    the second the command's process id, for this process to end with it)."""
    if root is None:
        from codeb_report.render.forked import die_with_parent

        if len(sys.argv) > 2 and sys.argv[2].isdigit():
            die_with_parent(int(sys.argv[2]))
        root = Path(sys.argv[1])
    from codeb_report.render.fontconfig import fonts_problem
    from codeb_report.render.printer import EXIT_MISSING_FONTS
    from codeb_report.render.weasy import import_weasyprint, print_page

    logging.getLogger("weasyprint").addHandler(ForwardRecords(logging.WARNING))
    import_weasyprint()  # while the command prepares the page
    # This process prints one page of at most AHEAD_LIMIT characters and ends: the
    # cycles its boxes leave are freed by its exit, not by collections (20 ms of the
    # example's 0.65 s; 1 MB more at its peak).
    gc.disable()
    problem = fonts_problem()
    page = _read_page()
    if not page:
        _end(0)
    if problem is not None:
        _say(f"error {escape_controls(problem)}")
        _end(EXIT_MISSING_FONTS)
    if len(page) > MAX_PAGE:
        _say(f"error the page for the PDF is larger than {MAX_PAGE // 2**20} MB")
        _end(1)
    try:
        pdf = print_page(page.decode("utf-8"), root)
    except Exception as exc:  # one line for the command; it names the PDF it wanted
        _say(f"error {escape_controls(f'{type(exc).__name__}: {exc}')}")
        _end(1)
    _write_all(1, pdf)
    _end(0)


if __name__ == "__main__":
    main()
