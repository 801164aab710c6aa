"""Long words without spaces (a 200-character hostname, image, unit or path, within the
snapshot's bounds) wrap inside their cells: no text of the PDF is drawn past the page's
right margin, in table 1, the container, service and port tables or the compact table
of a large fleet. Text positions are read back with poppler's ``pdftotext -bbox``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from codeb_report.analysis import analyse
from codeb_report.render import RenderOptions, render_report
from codeb_report.render.html import markdown_to_html
from codeb_report.snapshot import Snapshot, load

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet-snapshot.json"
RIGHT_MARGIN_PT = 16 / 25.4 * 72  # templates/report.css: @page margin, right
WORD = re.compile(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="(?P<x>[\d.]+)"[^>]*>(?P<w>[^<]*)<')
PAGE = re.compile(r'<page width="(?P<w>[\d.]+)"')


def long_names() -> Snapshot:
    """The example fleet with 200-character names without spaces wherever a server's
    text reaches a table."""
    snapshot = load(EXAMPLE)
    for s in snapshot.servers:
        s.address = "host-" + "a" * 180 + f"-{s.name}.example.internal"
        s.role = "role-" + "r" * 120
        assert s.system is not None
        s.system.hostname = "node-" + "h" * 190 + f"-{s.name}"
        for c in s.containers:
            c.name = "ctr-" + "n" * 190 + c.name
            c.image = "registry.example.com/" + "i" * 180 + ":latest"
        for u in s.services:
            u.unit = "svc-" + "u" * 180 + ".service"
            u.description = "d" * 200
        for p in s.ports:
            p.process = "proc" + "p" * 196
        for f in s.filesystems:
            f.mount = "/" + "m" * 199
    return snapshot


def rightmost(pdf: Path) -> tuple[float, float, str]:
    """(page width, the largest right edge of any word, that word)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    width = float(PAGE.search(out)["w"])
    x, word = max((float(m["x"]), m["w"]) for m in WORD.finditer(out))
    return width, x, word


@pytest.mark.parametrize(
    ("threshold", "tables"),
    [
        (None, ["호스트명", "컨테이너", "서비스", "프로세스"]),  # table 1, section 2's tables
        (2, ["정상 서버", "역할"]),  # the compact table and the role summary
    ],
)
def test_long_words_stay_within_the_right_margin(
    tmp_path: Path, threshold: int | None, tables: list[str]
) -> None:
    snapshot = long_names()
    options = RenderOptions() if threshold is None else RenderOptions(detail_threshold=threshold)
    pdf = render_report(snapshot, analyse(snapshot), ["pdf"], tmp_path, options)[0]
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert all(head in text for head in tables)
    assert "nnnnnnnnnn" in text and "aaaaaaaaaa" in text  # the long words are printed
    width, x, word = rightmost(pdf)
    assert x <= width - RIGHT_MARGIN_PT + 0.5, f"{word!r} ends at {x:.1f} pt of {width:.1f}"


def test_only_cells_with_a_long_word_may_break_anywhere() -> None:
    html = markdown_to_html(
        "| 서버 | 호스트명 | 상태 |\n|---|---|---|\n"
        f"| n1 | {'h' * 40} | 정상 가동 중 |\n| n2 | short-name | 정상 |\n"
    )
    assert html.count('<td class="long">') == 1
    assert f'<td class="long">{"h" * 40}</td>' in html
    assert '<table class="keep">' not in html  # rows of wrapped words may split the table
