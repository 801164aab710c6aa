"""Section 4's "현재 아키텍처": the reverse proxy, its upstreams and the other servers as boxes.

Drawn with box-drawing characters for a code block. The PDF prints code blocks in DejaVu
Sans Mono, whose box characters are as wide as its letters (NanumGothicCoding draws them
twice as wide); Hangul has no such width there, so the boxes hold ASCII only: a label
with other characters is replaced by the server's name.
"""

from __future__ import annotations

from dataclasses import dataclass

# Boxes in one row at most, so a row stays within the PDF's code width (about 80 columns).
MAX_ROW = 4
GAP = 4
MAX_LABEL = 20


@dataclass(frozen=True)
class Box:
    title: str
    detail: str


def ascii_label(text: str, fallback: str) -> str:
    """``text`` when it is printable ASCII (cut to fit a box), else ``fallback``."""
    clean = text.strip()
    if not clean or not clean.isascii() or not clean.isprintable():
        clean = fallback if fallback.isascii() and fallback.isprintable() else "?"
    return clean[:MAX_LABEL]


def _box(box: Box, width: int) -> list[str]:
    inner = width - 2
    return [
        "┌" + "─" * inner + "┐",
        "│" + box.title.center(inner) + "│",
        "│" + box.detail.center(inner) + "│",
        "└" + "─" * inner + "┘",
    ]


def _width(boxes: list[Box]) -> int:
    return max(len(t) for b in boxes for t in (b.title, b.detail)) + 4


def _row(boxes: list[Box], width: int, indent: int = 0) -> list[str]:
    drawn = [_box(b, width) for b in boxes]
    pad = " " * indent
    return [pad + (" " * GAP).join(parts).rstrip() for parts in zip(*drawn, strict=True)]


def _set(line: list[str], at: int, char: str) -> None:
    while len(line) <= at:
        line.append(" ")
    line[at] = char


def proxy_tree(proxy: Box, upstreams: list[Box]) -> list[str]:
    """The proxy's box over its upstreams', joined by a branching line with arrows."""
    shown = upstreams[:MAX_ROW]
    if len(upstreams) > MAX_ROW:
        shown[-1] = Box(f"+{len(upstreams) - MAX_ROW + 1} more", "upstreams")
    width = _width(shown)
    centers = [i * (width + GAP) + width // 2 for i in range(len(shown))]
    middle = (centers[0] + centers[-1]) // 2
    top_width = max(_width([proxy]), 17)
    top = _box(proxy, top_width)
    left = max(0, middle - top_width // 2)
    shift = max(0, top_width // 2 - middle)  # a narrow row under a wide proxy box
    centers = [c + shift for c in centers]
    middle += shift
    lines = [" " * left + t for t in top]
    bottom = list(lines[-1])
    _set(bottom, middle, "┬")
    lines[-1] = "".join(bottom)
    lines.append(" " * middle + "│")
    if len(shown) > 1:
        branch = [" "] * (centers[-1] + 1)
        for at in range(centers[0], centers[-1] + 1):
            branch[at] = "─"
        branch[centers[0]], branch[centers[-1]] = "┌", "┐"
        for at in centers[1:-1]:
            branch[at] = "┬"
        branch[middle] = "┼" if middle in centers else "┴"
        lines.append("".join(branch))
    arrows: list[str] = []
    for at in centers:
        _set(arrows, at, "▼")
    lines.append("".join(arrows))
    lines += _row(shown, width, shift)
    return [line.rstrip() for line in lines]


def server_rows(boxes: list[Box]) -> list[str]:
    """Servers outside the proxy's tree, side by side, a row of at most MAX_ROW boxes."""
    if not boxes:
        return []
    width = _width(boxes)
    lines: list[str] = []
    for start in range(0, len(boxes), MAX_ROW):
        lines += _row(boxes[start : start + MAX_ROW], width)
    return lines
