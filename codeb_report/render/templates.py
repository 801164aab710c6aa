"""Where the templates live and the Jinja environments that read them.

An installed codeb-report carries them as ``codeb_report/templates`` (see pyproject's
force-include); a source checkout has them at the top level ``templates/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from codeb_report.render import escape
from codeb_report.render.template_cache import template_cache

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def templates_dir() -> Path:
    for candidate in (_PACKAGE / "templates", _PACKAGE.parent / "templates"):
        if (candidate / "report.md.j2").is_file():
            return candidate
    raise FileNotFoundError(f"codeb-report templates not found under {_PACKAGE}")


@cache
def markdown_env() -> jinja2.Environment:
    """Markdown templates: every printed value is escaped unless a filter made it Markdown."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        bytecode_cache=template_cache(),
        autoescape=False,
        finalize=escape.finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        code=escape.code,
        spans=escape.spans,
        md=escape.md,
        or_dash=escape.or_dash,
        fenced=escape.fenced,
        ticked=escape.ticked,
    )
    return env


@cache
def html_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        bytecode_cache=template_cache(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
