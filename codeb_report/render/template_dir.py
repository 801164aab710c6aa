"""Where the templates live, found without importing Jinja or the report's models.

An installed codeb-report carries them as ``codeb_report/templates`` (see pyproject's
force-include); a source checkout has them at the top level ``templates/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def templates_dir() -> Path:
    for candidate in (_PACKAGE / "templates", _PACKAGE.parent / "templates"):
        if (candidate / "report.md.j2").is_file():
            return candidate
    raise FileNotFoundError(f"codeb-report templates not found under {_PACKAGE}")
