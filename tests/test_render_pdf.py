"""The PDF as a reader gets it: Korean glyphs, colour icons, page furniture, whole rows.

Text is read back with poppler's pdftotext, fonts with pdffonts, colours from pdftoppm
pictures of the pages; missing glyphs are caught from WeasyPrint's own warnings.
"""

from __future__ import annotations

import gc
import http.server
import logging
import re
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image
from test_render_sample import analysis_of, app_server, fleet

from codeb_report.render import render_report
from codeb_report.render.base import Report
from codeb_report.render.html import page
from codeb_report.render.pdf import keep_hangul_words
from codeb_report.render.templates import templates_dir
from codeb_report.render.weasy import (
    ARRAY_TYPE_VERSIONS,
    EMOJI_IMAGE_VERSIONS,
    NO_FULL_COLLECTION,
    html_to_pdf,
    import_weasyprint,
    local_fetcher,
    reuse_array_types,
    reuse_emoji_images,
)
from codeb_report.snapshot import Service, Snapshot

LONG_DESCRIPTION = (
    "주기적으로 서버의 상태를 점검하고 이상이 발견되면 "
    "운영자에게 알림을 보내는 헬스 모니터링 서비스"
)


class WeasyWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def weasy_warnings() -> Iterator[list[str]]:
    handler = WeasyWarnings()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def pages_text(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return out.stdout.split("\f")[:-1]


def write_pdf(tmp_path: Path, snapshot: Snapshot) -> Path:
    return render_report(snapshot, analysis_of(snapshot), ["pdf"], tmp_path)[0]


def many_services(count: int) -> Snapshot:
    services = [
        Service(unit=f"svc-{i:03d}.service", active="active", sub="running",
                description=f"{LONG_DESCRIPTION * (1 + i % 3)} 끝{i:03d}")
        for i in range(count)
    ]  # fmt: skip
    snapshot = fleet()
    return snapshot.model_copy(update={"servers": [app_server("n1", services=services)]})


def test_pdf_has_every_glyph_and_embeds_nanum_gothic(tmp_path: Path, weasy_warnings) -> None:
    pdf = write_pdf(tmp_path, fleet())
    assert weasy_warnings == []
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    embedded = [line for line in fonts.stdout.splitlines() if "NanumGothic" in line]
    assert embedded and all(" yes " in line for line in embedded)


def test_missing_glyphs_would_be_caught(weasy_warnings) -> None:
    html_to_pdf("<p>\ue000</p>")
    assert any(".notdef" in m for m in weasy_warnings)


def test_every_page_carries_date_and_page_of_pages(tmp_path: Path) -> None:
    texts = pages_text(write_pdf(tmp_path, fleet()))
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert re.search(rf"^{number}\s*/\s*{len(texts)}$", text, re.M)  # "1 / 4" in the footer
        assert "2025-12-20" in text
        assert "CodeB 서버 인프라 현황 리포트" in text
    assert "n4 백업 자동화 설정" in texts[-1]


def test_status_icons_print_in_colour(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path, fleet())
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "p")], check=True)
    pixels = [
        px
        for png in sorted(tmp_path.glob("p-*.png"))
        for px in Image.open(png).convert("RGB").get_flattened_data()
    ]
    green = sum(1 for r, g, b in pixels if g > 150 and r < 140 and b < 140)  # ✅
    red = sum(1 for r, g, b in pixels if r > 180 and g < 90 and b < 90)  # ❌
    yellow = sum(1 for r, g, b in pixels if r > 200 and g > 150 and b < 80)  # ⚠️
    assert green > 50 and red > 10 and yellow > 10, (green, red, yellow)


def test_long_table_repeats_its_header_and_keeps_rows_whole(tmp_path: Path) -> None:
    texts = pages_text(write_pdf(tmp_path, many_services(60)))
    spanned = [t for t in texts if "svc-" in t]
    assert len(spanned) >= 3
    for text in spanned:
        assert re.search(r"서비스\s+상태\s+설명", text), text[:300]
    for i in range(60):
        holder = [t for t in spanned if f"svc-{i:03d}" in t]
        assert len(holder) == 1 and f"끝{i:03d}" in holder[0], i


def hangul_tokens(text: str) -> set[str]:
    return {w for w in re.findall(r"[\uac00-\ud7a3]+", text)}


def test_korean_lines_break_between_words_only(tmp_path: Path) -> None:
    snapshot = many_services(3)
    report = Report(snapshot, analysis_of(snapshot))
    source = hangul_tokens(report.markdown)
    kept = tmp_path / "kept.pdf"
    kept.write_bytes(html_to_pdf(page(report, keep_hangul_words(report.html_body))))
    assert hangul_tokens("".join(pages_text(kept))) <= source
    # Without the word joiners WeasyPrint does split words: the check above can fail.
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(html_to_pdf(page(report, report.html_body)))
    assert not hangul_tokens("".join(pages_text(broken))) <= source


def test_keep_hangul_words_joins_syllables_in_text_not_tags() -> None:
    html = '<td class="가나">메모리 사용 (10%)</td><code>a 백업</code><td>✅ Active ⚠️ 주의</td>'
    assert keep_hangul_words(html) == (
        '<td class="가나">메\u2060모\u2060리 사\u2060용 (10%)</td><code>a 백\u2060업</code>'
        "<td>✅\u00a0Active ⚠️\u00a0주\u2060의</td>"
    )


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_weasyprint_fetches_nothing_outside_the_templates(tmp_path: Path) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    secret = tmp_path / "secret.css"
    secret.write_text("p { color: red }")
    try:
        html_to_pdf(
            f'<link rel="stylesheet" href="{url}/a.css"><link rel="stylesheet" '
            f'href="{secret.as_uri()}"><img src="{url}/b.png"><p>x</p>'
        )
    finally:
        server.shutdown()
        server.server_close()
    assert Recorder.requests == []
    fetcher = local_fetcher(templates_dir())
    with pytest.raises(ValueError, match="outside its templates"):
        fetcher.fetch("file:///etc/hostname")
    with pytest.raises(ValueError, match="outside its templates"):
        fetcher.fetch((templates_dir() / ".." / ".." / "etc").resolve().as_uri())
    response = fetcher.fetch((templates_dir() / "report.css").as_uri())
    assert b"@page" in response.read()
    response.close()


def words_right_edges(pdf: Path) -> tuple[float, list[tuple[float, str]]]:
    """(page width, [(right edge, word)]) of every word pdftotext finds, in points."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    width = float(re.search(r'<page width="([\d.]+)"', out).group(1))
    words = re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" [^>]*>([^<]*)<', out)
    return width, [(float(x), w) for x, w in words]


def test_a_long_reason_stays_inside_the_right_margin(tmp_path: Path) -> None:
    from codeb_report.analysis import analyse
    from codeb_report.snapshot import ProbeOutcome, ProbeStatus, Server

    # No space or hyphen to break at: a hash in a path, as overlay mounts and digests come.
    token = "IncompatiblePeer:/var/lib/containers/storage/overlay/" + "0123456789abcdef" * 8
    key = (
        "호스트 키 미확인: [192.0.2.77]:2222 is not in known_hosts (ssh-ed25519 "
        "SHA256:q1w2E3r4T5y6U7i8O9p0AbCdEfGhIjKlMnOpQrStUvWx); if that is the server's key, "
        "rerun with --accept-new to record it in /root/.ssh/known_hosts, or add it with: "
        "ssh-keyscan -p 2222 192.0.2.77 >> /root/.ssh/known_hosts"
    )
    app = app_server(
        "n1", probes=[ProbeOutcome(probe="docker", status=ProbeStatus.FAILED, reason=token)]
    )
    servers = [
        app,
        Server(name="n2", host="192.0.2.77", role="Streaming", reachable=False, error=key),
        Server(name="n3", host="192.0.2.78", role="Backup", reachable=False, error=f"x: {token}"),
    ]
    snapshot = fleet().model_copy(update={"servers": servers})
    [pdf] = render_report(snapshot, analyse(snapshot), ["pdf"], tmp_path)
    width, words = words_right_edges(pdf)
    assert any("IncompatiblePeer" in w for _, w in words)  # the long token is printed
    right_margin = width - 16 / 25.4 * 72  # report.css: 16mm
    outside = [(round(x), w) for x, w in words if x > right_margin + 1]
    assert not outside, outside


def test_each_colour_icon_is_pictured_once_however_often_it_is_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weasyprint = import_weasyprint()
    if weasyprint.__version__ not in EMOJI_IMAGE_VERSIONS:
        pytest.skip(f"WeasyPrint {weasyprint.__version__}: emoji pictures made as it does")
    from weasyprint import images

    made: list[str] = []
    original = images.RasterImage.__init__

    def counting(self: object, pillow_image: object, image_id: str, *args, **kw) -> None:
        made.append(image_id)
        original(self, pillow_image, image_id, *args, **kw)

    monkeypatch.setattr(images.RasterImage, "__init__", counting)
    icons = "".join(f"<p>✅ 정상 {i} ❌ 실패 ⚠️ 주의</p>" for i in range(40))
    pdf = tmp_path / "icons.pdf"
    pdf.write_bytes(html_to_pdf(icons))
    assert sorted(Counter(made).values()) == [1, 1, 1], Counter(made)  # three glyphs
    listed = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    drawn = [line for line in listed.splitlines() if re.match(r"\s*\d+\s+\d+\s+image\b", line)]
    assert len(drawn) == 120  # every icon is still drawn where it stands


def test_other_weasyprint_versions_draw_emoji_as_they_do(monkeypatch: pytest.MonkeyPatch) -> None:
    weasyprint = import_weasyprint()
    from weasyprint.draw import text

    before = text.RasterImage
    monkeypatch.setattr(weasyprint, "__version__", "0.0")
    assert reuse_emoji_images(weasyprint) is False
    assert text.RasterImage is before


def test_full_collections_wait_while_weasyprint_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    weasyprint = import_weasyprint()
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    write_pdf = weasyprint.HTML.write_pdf

    def recording(self: object, *args, **kwargs) -> bytes:
        seen.append(gc.get_threshold())
        return write_pdf(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", recording)
    assert html_to_pdf("<p>✅ 정상</p>").startswith(b"%PDF")
    assert seen == [(before[0], before[1], NO_FULL_COLLECTION)]
    assert gc.get_threshold() == before

    def failing(self: object, *args, **kwargs) -> bytes:
        raise RuntimeError("layout failed")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", failing)
    with pytest.raises(RuntimeError, match="layout failed"):
        html_to_pdf("<p>x</p>")
    assert gc.get_threshold() == before


def test_arrays_of_any_length_are_parsed_as_one_type() -> None:
    weasyprint = import_weasyprint()
    if weasyprint.__version__ not in ARRAY_TYPE_VERSIONS:
        pytest.skip(f"WeasyPrint {weasyprint.__version__}: arrays typed as it does")
    assert reuse_array_types(weasyprint) is True
    from weasyprint.text.ffi import ffi

    filled = ffi.new("hb_codepoint_t[4]", [7, 1, 9, 3])
    assert list(filled) == [7, 1, 9, 3] and ffi.sizeof(filled) == 16
    assert "hb_codepoint_t[4]" not in ffi._parsed_types  # parsed as hb_codepoint_t[]
    # an array larger than what fills it keeps its length (the rest is zero)
    roomy = ffi.new("hb_codepoint_t[6]", [5])
    assert list(roomy) == [5, 0, 0, 0, 0, 0]
    assert html_to_pdf("<p>✅ 정상</p>").startswith(b"%PDF")  # fonts subset through it


def test_other_weasyprint_versions_type_arrays_as_they_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    weasyprint = import_weasyprint()
    monkeypatch.setattr(weasyprint, "__version__", "0.0")
    assert reuse_array_types(weasyprint) is False
