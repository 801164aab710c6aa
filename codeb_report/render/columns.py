"""Column widths for the PDF's tables, worked out from their text before WeasyPrint lays out.

WeasyPrint's automatic table layout lays out the text of every cell twice more (as its
narrowest and as its widest line) before the real layout, a tenth of a 100-server PDF's
time. The report's cells are short text in known fonts, so their widths are estimated
here from NanumGothic's advance widths instead, shared out as CSS 2.1's automatic layout
does, and given to WeasyPrint as the header cells' widths with ``table-layout: fixed``
(report.css, ``table.sized``).

A table whose words cannot fit side by side (a long token without a break in several
columns) is left to WeasyPrint's own layout, which then decides what overflows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

# report.css: A4 with 16 mm left and right margins; tables are 8.8pt (compact: 7.5pt),
# cells padded 0.55em (compact: 0.5em) on each side.
CONTENT_WIDTH_PT = (210 - 2 * 16) / 25.4 * 72
TABLE_FONT_PT = 8.8
COMPACT_FONT_PT = 7.5
# Estimates run a little wide so that no cell wraps that WeasyPrint would have kept on
# one line; the space left over is shared out anyway.
SAFETY = 1.02

# NanumGothic's advances (em) for printable ASCII, from " " to "~"; the bold face has the same.
_ASCII = (
    "0.28 0.42 0.43 0.61 0.61 1.09 0.73 0.30 0.36 0.36 0.61 0.65 0.30 0.36 0.30 0.38 "
    "0.61 0.61 0.61 0.61 0.61 0.61 0.61 0.61 0.61 0.61 0.30 0.30 0.55 0.65 0.55 0.55 "
    "0.87 0.73 0.61 0.67 0.73 0.58 0.50 0.80 0.73 0.24 0.36 0.64 0.48 0.97 0.73 0.79 "
    "0.58 0.79 0.62 0.55 0.55 0.73 0.67 1.03 0.67 0.67 0.55 0.36 0.97 0.36 0.65 0.55 "
    "0.24 0.55 0.61 0.48 0.61 0.55 0.36 0.61 0.61 0.24 0.27 0.52 0.24 0.91 0.61 0.61 "
    "0.61 0.61 0.36 0.42 0.36 0.61 0.48 0.85 0.51 0.46 0.48 0.30 0.24 0.30 0.65"
)
ASCII_EM = tuple(float(w) for w in _ASCII.split())
HANGUL_EM = 0.94
EMOJI_EM = 1.25  # Noto Color Emoji's ✅ ⚠ ❌ (2550 of 2048 units)
OTHER_EM = 1.0
CODE_EM = 0.5 * 0.95  # NanumGothicCoding / DejaVu Sans Mono at 0.95em
CODE_PADDING_EM = 0.5 * 0.95
ZERO_WIDTH = frozenset("\u2060\ufe0f\u200b")
NO_BREAK_SPACE = "\u00a0"

_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t([hd])(\s[^>]*)?>(.*?)</t\1>", re.S)
# html.py marks a cell holding a very long word: report.css lets it break anywhere.
_ANYWHERE = 'class="long"'
_CODE = re.compile(r"<code>(.*?)</code>", re.S)
_TAG = re.compile(r"<[^>]+>")


def char_em(char: str) -> float:
    code = ord(char)
    if 0x20 <= code <= 0x7E:
        return ASCII_EM[code - 0x20]
    if char in ZERO_WIDTH:
        return 0.0
    if char == NO_BREAK_SPACE:  # between an icon and its word
        return ASCII_EM[0]
    if 0xAC00 <= code <= 0xD7A3 or 0x3130 <= code <= 0x318F:
        return HANGUL_EM
    if 0x2600 <= code <= 0x27BF or code >= 0x1F000:
        return EMOJI_EM
    return OTHER_EM


def text_em(text: str) -> float:
    return sum(char_em(c) for c in text)


@dataclass(frozen=True)
class Extent:
    """A cell's narrowest and widest content, in em of the table's font."""

    narrowest: float
    widest: float


def cell_extent(cell_html: str, anywhere: bool = False) -> Extent:
    """Plain text breaks only at spaces (Hangul words are joined already); code anywhere,
    and so does all of a cell marked to (``anywhere``: its widest character must fit)."""
    narrowest = widest = 0.0
    line = 0.0  # the unbreakable run being measured
    for i, part in enumerate(_CODE.split(cell_html)):
        text = html.unescape(_TAG.sub("", part))
        if i % 2:  # code: wraps anywhere, so only one character need fit
            width = len(text) * CODE_EM + CODE_PADDING_EM
            widest += width
            narrowest = max(narrowest, line + CODE_EM + CODE_PADDING_EM)
            line = 0.0
            continue
        widest += text_em(text)
        words = text.split(" ")
        for j, word in enumerate(words):
            line = (line if j == 0 else 0.0) + text_em(word)
            narrowest = max(narrowest, line)
    if anywhere:
        narrowest = min(
            narrowest, max(map(char_em, html.unescape(_TAG.sub("", cell_html))), default=0)
        )
    return Extent(narrowest, widest)


def column_widths(rows: Iterable[list[Extent]], padding_em: float, width_em: float) -> list[float]:
    """Each column's share of the table (fractions summing to 1), or [] when its
    narrowest contents do not fit side by side (WeasyPrint decides then)."""
    low: list[float] = []
    high: list[float] = []
    for row in rows:
        if len(row) > len(low):
            low += [0.0] * (len(row) - len(low))
            high += [0.0] * (len(row) - len(high))
        for i, cell in enumerate(row):
            low[i] = max(low[i], cell.narrowest * SAFETY + padding_em)
            high[i] = max(high[i], cell.widest * SAFETY + padding_em)
    if not low or sum(low) > width_em:
        return []
    if sum(high) <= width_em:  # everything on one line: the rest shared as the widths go
        widths = [h + (width_em - sum(high)) * h / sum(high) for h in high]
    else:  # as CSS 2.1: each column its narrowest, the rest by how much more it wants
        spare = width_em - sum(low)
        wants = [h - lo for lo, h in zip(low, high, strict=True)]
        widths = [lo + spare * w / sum(wants) for lo, w in zip(low, wants, strict=True)]
    return [w / width_em for w in widths]


_TABLE = re.compile(r'<table( class="([a-z ]*)")?>(.*?)</table>', re.S)
_HEAD_CELL = re.compile(r'<th(?: style="([^"]*)")?>')


def size_tables(body: str) -> str:
    """Give each table of the page its column widths and fixed layout (class ``sized``).

    The widths go on the header row's cells, which fixed layout reads: ``<col>``
    elements would do the same but cost WeasyPrint as much styling as they save.
    """

    def sized(match: re.Match[str]) -> str:
        classes = (match.group(2) or "").split()
        compact = "compact" in classes
        font_pt = COMPACT_FONT_PT if compact else TABLE_FONT_PT
        padding_em = 2 * (0.5 if compact else 0.55)
        content = match.group(3)
        rows = [
            [
                cell_extent(cell, _ANYWHERE in attributes)
                for _, attributes, cell in _CELL.findall(row)
            ]
            for row in _ROW.findall(content)
        ]
        width_em = CONTENT_WIDTH_PT / font_pt
        shares = column_widths(rows, padding_em, width_em)
        head = _ROW.search(content)
        if not shares or head is None or len(_HEAD_CELL.findall(head.group(1))) != len(shares):
            return match.group(0)
        # CSS widths are the cells' content: each share less its padding; the last column
        # takes what is left.
        widths = iter([f"{100 * (s - padding_em / width_em):.2f}%" for s in shares[:-1]])

        def with_width(cell: re.Match[str]) -> str:
            width = next(widths, None)
            if width is None:
                return cell.group(0)
            style = f"{cell.group(1)} " if cell.group(1) else ""
            return f'<th style="{style}width: {width}">'

        head_row = _HEAD_CELL.sub(with_width, head.group(0))
        content = content[: head.start()] + head_row + content[head.end() :]
        return f'<table class="{" ".join([*classes, "sized"])}">{content}</table>'

    return _TABLE.sub(sized, body)
