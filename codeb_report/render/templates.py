"""The Jinja environments that read the templates (render/template_dir.py finds them)."""

from __future__ import annotations

from functools import cache

import jinja2

from codeb_report.render import escape
from codeb_report.render.template_cache import template_cache
from codeb_report.render.template_dir import templates_dir


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
