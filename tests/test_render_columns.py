"""The PDF's table columns, sized from their text: estimates that match the fonts, widths
shared out as automatic layout would, and tables that still fit the page."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from test_render_pdf import pages_text, words_right_edges
from test_render_sample import analysis_of, fleet

from codeb_report.render import render_report
from codeb_report.render.columns import (
    TABLE_FONT_PT,
    Extent,
    cell_extent,
    column_widths,
    size_tables,
    text_em,
)
from codeb_report.render.weasy import html_to_pdf

SAMPLES = [
    "videopick-phase2-streaming",
    "서버별 상세 분석과 즉시 개선 필요 사항",
    "Memory 15GB (Total) 1.5GB 사용 (10%)",
    "GitHub Actions Self-hosted Runner",
    "0.0.0.0, :: 192.168.100.254",
    "✅\u00a0Active ❌\u00a0위험 ⚠️\u00a0주의",
]


def test_estimated_widths_match_what_weasyprint_prints(tmp_path: Path) -> None:
    # One line per sample in the tables' font, measured back from the PDF.
    body = "".join(
        f'<p style="font-size: {TABLE_FONT_PT}pt; white-space: nowrap">[{s}]</p>' for s in SAMPLES
    )
    pdf = tmp_path / "widths.pdf"
    pdf.write_bytes(html_to_pdf(f'<html><head><link rel="stylesheet" href="report.css"></head>'
                                f"<body>{body}</body></html>"))  # fmt: skip
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" [^>]*>([^<]*)<', out)
    starts = [float(x0) for x0, _, text in words if text.startswith("[")]
    ends = [float(x1) for _, x1, text in words if text.endswith("]")]
    printed = [end - start for start, end in zip(starts, ends, strict=True)]
    assert len(printed) == len(SAMPLES), out[:500]
    for sample, width_pt in zip(SAMPLES, printed, strict=True):
        estimate_pt = text_em(f"[{sample}]") * TABLE_FONT_PT
        assert abs(estimate_pt - width_pt) <= 0.05 * width_pt, (sample, estimate_pt, width_pt)


def test_a_cell_breaks_at_spaces_and_its_code_anywhere() -> None:
    plain = cell_extent("서버 상태 <strong>videopick-phase2-app</strong>")
    assert plain.narrowest == pytest.approx(text_em("videopick-phase2-app"))
    assert plain.widest == pytest.approx(text_em("서버 상태 videopick-phase2-app"))
    coded = cell_extent("경로 <code>/opt/codeb/backups/very/long/path</code> 비어있음")
    assert coded.narrowest == pytest.approx(text_em("비어있음"))
    assert coded.widest > text_em("경로  비어있음") + 20 * 0.45
    assert cell_extent("a &amp; b").widest == pytest.approx(text_em("a & b"))


def test_columns_are_shared_out_as_automatic_layout_does() -> None:
    # Everything fits on one line: shares follow the widest contents.
    short = [[Extent(2, 4), Extent(2, 12)]]
    assert column_widths(short, padding_em=0, width_em=32) == pytest.approx([0.25, 0.75])
    # Not everything fits: each column gets its narrowest, the rest goes by what it wants.
    long = [[Extent(4, 6), Extent(5, 45)]]
    shares = column_widths(long, padding_em=0, width_em=21)
    assert sum(shares) == pytest.approx(1)
    assert shares[0] * 21 >= 4 and shares[1] * 21 >= 5
    # Words that cannot stand side by side: left to WeasyPrint.
    assert column_widths([[Extent(30, 30), Extent(30, 30)]], padding_em=0, width_em=50) == []


def test_header_cells_carry_the_widths_and_alignment_is_kept() -> None:
    table = (
        '<table class="keep">\n<thead>\n<tr>\n<th>서버</th>\n<th style="text-align: right;">'
        "메모리</th>\n<th>설명</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>n1</td>\n"
        "<td>15GB</td>\n<td>설명 문장</td>\n</tr>\n</tbody>\n</table>"
    )
    sized = size_tables(table)
    assert sized.startswith('<table class="keep sized">')
    widths = re.findall(r'<th style="(?:text-align: right; )?width: ([\d.]+)%">', sized)
    assert len(widths) == 2 and "<th>설명</th>" in sized  # the last column takes the rest
    assert "<td>15GB</td>" in sized and sized.count("<tr>") == 2
    unfit = table.replace("설명 문장", "x" * 300)
    assert size_tables(unfit) == unfit


def test_the_example_report_prints_every_table_sized_within_the_margin(tmp_path: Path) -> None:
    snapshot = fleet()
    [pdf] = render_report(snapshot, analysis_of(snapshot), ["pdf"], tmp_path)
    width, words = words_right_edges(pdf)
    right_margin = width - 16 / 25.4 * 72
    assert words and not [(x, w) for x, w in words if x > right_margin + 1]
    assert any("서비스" in t and "상태" in t for t in pages_text(pdf))


def test_a_cell_marked_to_break_anywhere_needs_only_its_widest_character() -> None:
    word = "registry.example.com/" + "0123456789abcdef" * 12
    assert cell_extent(word).narrowest == pytest.approx(text_em(word))
    assert cell_extent(word, anywhere=True).narrowest == pytest.approx(text_em("m"))
    table = (
        "<table>\n<thead>\n<tr>\n<th>컨테이너</th>\n<th>이미지</th>\n</tr>\n</thead>\n"
        f'<tbody>\n<tr>\n<td>app</td>\n<td class="long">{word}</td>\n</tr>\n</tbody>\n</table>'
    )
    assert size_tables(table).startswith('<table class="sized">')
