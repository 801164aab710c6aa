"""The PDF refused rather than printed in boxes (render/fontconfig.py asks for fonts)."""

from __future__ import annotations

from codeb_report.errors import OutputError
from codeb_report.render.fontconfig import fonts_problem


class MissingFonts(OutputError):
    """The PDF would print boxes instead of letters or icons."""


def check_fonts() -> None:
    """Raise MissingFonts (one line, the packages named) when the PDF would show boxes."""
    if problem := fonts_problem():
        raise MissingFonts(problem)
