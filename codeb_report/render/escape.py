"""Collected text into Markdown that reads as itself, never as markup.

Every value a template prints goes through :func:`md`, unless a filter here already made
it Markdown (:class:`Md`). The escapes are the common ground of CommonMark/GFM viewers and
python-markdown (which turns the Markdown into the HTML and PDF), so a server named
``a|b``, ``**x**`` or ``<script>`` prints as those characters everywhere.
"""

from __future__ import annotations

import re

from codeb_report.analysis.model import Span
from codeb_report.controls import one_line as _one_line

# Backslash escapes known to both CommonMark and python-markdown (with its tables extension).
# An underscore inside a word (pg_stat) is never emphasis, so it is left readable.
_INLINE = re.compile(r"([\\`*\[\]|]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
# python-markdown has no backslash escape for these, CommonMark decodes the entities.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "~": "&#126;"}
_ENTITY_CHARS = re.compile("[&<>~]")
# What would open a block (heading, list, quote) when a value starts a line.
_BLOCK_START = re.compile(r"^(#{1,6}|\+|-+|\d{1,9}(?=[.)]))(?=[.)]?(\s|$))")


class Md(str):
    """Text that already is Markdown: the template prints it as is."""


def one_line(value: object) -> str:
    """Newlines would end a table row or a list item: they become spaces. Other control
    characters and bidi overrides have no glyph or reorder the text: they print escaped."""
    return _one_line(str(value))


def md(value: object) -> Md:
    """Escape a value for Markdown prose or a table cell."""
    if isinstance(value, Md):
        return value
    text = _INLINE.sub(r"\\\1", one_line(value))
    text = _ENTITY_CHARS.sub(lambda m: _ENTITIES[m.group()], text)
    text = _BLOCK_START.sub(_escape_block_start, text)
    return Md(text)


def _escape_block_start(match: re.Match[str]) -> str:
    mark = match.group(1)
    if mark.isdigit():  # "1." or "1)" would start an ordered list: escape the dot instead
        return mark + "\\"
    return "\\" + mark


def code(value: object) -> Md:
    """A code span (paths, settings), fenced longer than any backtick run inside it.

    A ``|`` cannot be escaped inside a code span the same way for GFM and python-markdown,
    so such a value falls back to escaped prose: correct text beats monospace.
    """
    text = one_line(value).strip()
    if not text:
        return Md("")
    if "|" in text:
        return md(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or text.startswith(" ") or text.endswith(" ") else ""
    return Md(f"{fence}{pad}{text}{pad}{fence}")


# Control characters a code block cannot show; tabs and newlines are its layout.
_BLOCK_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]+")


def fenced(text: object, info: str = "") -> Md:
    """A fenced code block (commands, scripts, diagrams), fenced longer than any backtick
    run inside, so collected text cannot close it. Its content is shown as is."""
    body = _BLOCK_CONTROL.sub(" ", str(text)).replace("\t", "    ").strip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return Md(f"{fence}{info}\n{body}\n{fence}")


def spans(parts: list[Span]) -> Md:
    """Report text from the analysis: prose escaped, collected values as code spans."""
    return Md("".join(code(p.text) if p.code else md(p.text) for p in parts))


def ticked(value: object) -> Md:
    """Prose the views write with `code` parts between backticks: each part escaped as
    prose or made a code span, so values inside stay what they are."""
    parts = str(value).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: all of it is prose
        return md(value)
    return Md("".join(code(p) if i % 2 else md(p) for i, p in enumerate(parts)))


def or_dash(value: object) -> Md:
    """A table cell's value, or ``-`` when there is none."""
    return md(value) if value not in (None, "") else Md("-")


def finalize(value: object) -> object:
    """Jinja's last step for every ``{{ }}``: escape whatever is not Markdown yet."""
    if value is None:
        return ""
    return value if isinstance(value, Md) else md(value)
