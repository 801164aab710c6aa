"""Font files read whole only when the PDF embeds them whole (render/font_files.py).

The PDF must not change: pages are compared as pictures and the fonts as pdffonts lists
them, against a PDF printed in another process by WeasyPrint as released.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from codeb_report.render.font_files import DEFERRED_FONT_VERSIONS, defer_font_files
from codeb_report.render.weasy import html_to_pdf, import_weasyprint

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet-snapshot.json"

PAGE = (
    '<html><head><link rel="stylesheet" href="report.css"></head><body>'
    "<h2>서버 상태</h2><p>✅ 정상 ⚠️ 주의 ❌ 실패 <strong>굵은 글씨</strong></p>"
    "<pre><code>┌──┐ df -h /var/lib/postgresql</code></pre>"
    "<table><tr><th>서버</th><td><code>192.0.2.10</code> 메모리 42%</td></tr></table>"
    "</body></html>"
)

AS_RELEASED = """
import sys
from codeb_report.render import font_files
from codeb_report.render.weasy import html_to_pdf
font_files.DEFERRED_FONT_VERSIONS = frozenset()
sys.stdout.buffer.write(html_to_pdf(sys.stdin.read()))
"""


def deferring() -> None:
    weasyprint = import_weasyprint()
    if weasyprint.__version__ not in DEFERRED_FONT_VERSIONS:
        pytest.skip(f"WeasyPrint {weasyprint.__version__}: font files read as it does")
    assert defer_font_files(weasyprint) is True


def pictures(pdf: Path, out: Path) -> list[Image.Image]:
    out.mkdir()
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(out / "p")], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(out.glob("p*.png"))]


def fonts_of(pdf: Path) -> list[list[str]]:
    listed = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    # name (its subset tag is a hash of the font's description), type, encoding, emb, sub,
    # uni; the object numbers at the end are left out
    return [line.split()[:-2] for line in listed.stdout.splitlines()[2:]]


def test_the_pdf_is_the_one_weasyprint_prints_as_released(tmp_path: Path) -> None:
    deferring()
    ours = tmp_path / "ours.pdf"
    ours.write_bytes(html_to_pdf(PAGE))
    released = tmp_path / "released.pdf"
    printed = subprocess.run(
        [sys.executable, "-c", AS_RELEASED], input=PAGE.encode(), capture_output=True, check=True
    )
    released.write_bytes(printed.stdout)

    assert fonts_of(ours) == fonts_of(released)
    assert {row[0].split("+")[1] for row in fonts_of(ours)} >= {
        "NanumGothic",
        "NanumGothic-Bold",
        "Noto-Color-Emoji",
    }
    for mine, theirs in zip(
        pictures(ours, tmp_path / "ours"), pictures(released, tmp_path / "released"), strict=True
    ):
        assert ImageChops.difference(mine, theirs).getbbox() is None


def test_a_subset_font_is_never_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    deferring()
    from weasyprint.pdf import fonts

    deferred = fonts.Font.__dict__["file_content"]
    read: list[int] = []
    whole = deferred.read_face

    def counting(hb_face: object) -> bytes:
        content = whole(hb_face)
        read.append(len(content))
        return content

    monkeypatch.setattr(deferred, "read_face", counting)
    assert html_to_pdf(PAGE).startswith(b"%PDF")
    assert read == []


def test_a_font_embedded_whole_is_read_when_needed(tmp_path: Path) -> None:
    deferring()
    weasyprint = import_weasyprint()
    pdf = tmp_path / "full.pdf"
    page = '<p style="font-family: NanumGothic">정상 상태</p>'
    pdf.write_bytes(weasyprint.HTML(string=page).write_pdf(full_fonts=True))
    whole = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf").stat().st_size
    # the embedded stream's uncompressed length: the whole file, read from its face
    assert re.search(rb"/Length1 %d\b" % whole, pdf.read_bytes())
    assert [row[0].split("+")[1] for row in fonts_of(pdf)] == ["NanumGothic"]


def test_other_weasyprint_versions_read_font_files_as_they_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    weasyprint = import_weasyprint()
    monkeypatch.setattr(weasyprint, "__version__", "0.0")
    assert defer_font_files(weasyprint) is False
