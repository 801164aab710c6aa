"""The ``codeb-report`` command: starts the PDF printer before the CLI is even imported.

``codeb-report render`` prints a PDF unless told otherwise, and the printer's process
needs a quarter of a second to import WeasyPrint: started here, it gains the time the
command spends importing click and its own modules (render/printer.py). Anything other
than ``render`` goes straight to the CLI.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["render"]:
        from codeb_report.render.printer import start_early

        start_early()
    from codeb_report.cli import main as cli_main

    cli_main()
