"""The report as an A4 PDF, printed by WeasyPrint from the HTML page.

WeasyPrint is imported here only, so the CLI's other paths stay quick.
"""

from __future__ import annotations

import gc
import importlib
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from codeb_report.render.base import Report, ReportFormat
from codeb_report.render.columns import size_tables
from codeb_report.render.font_files import defer_font_files
from codeb_report.render.fonts import check_fonts
from codeb_report.render.html import page
from codeb_report.render.templates import templates_dir

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher

_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3"
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")
_HEADING = re.compile(r"(<h[1-6][^>]*>.*?</h[1-6]>)", re.S)
_BETWEEN_HANGUL = re.compile(rf"(?<=[{_HANGUL}])(?=[{_HANGUL}])")
_ICON_SPACE = re.compile(r"([✅❌]|⚠\ufe0f?) ")
WORD_JOINER = "\u2060"
NO_BREAK_SPACE = "\u00a0"


def keep_hangul_words(body: str) -> str:
    """Forbid line breaks inside Hangul words and between a status icon and its word.

    WeasyPrint ignores ``word-break: keep-all`` and would break Korean lines inside a
    word ("의미합니/다"). A word joiner (U+2060, invisible, no glyph) between syllables
    forbids those breaks; lines still break at spaces. It costs no boxes: a no-wrap span
    per word did the same but took 95 MB more for a 100-server report.

    Headings are left alone: their text is also the PDF's outline (table of contents),
    where joiners would travel into every bookmark and the viewer's search.
    """

    def text(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(1)
        joined = _BETWEEN_HANGUL.sub(WORD_JOINER, match.group(2))
        return _ICON_SPACE.sub(lambda m: m.group(1) + NO_BREAK_SPACE, joined)

    return "".join(
        part if _HEADING.fullmatch(part) else _TAG_OR_TEXT.sub(text, part)
        for part in _HEADING.split(body)
    )


def pdf_body(body: str) -> str:
    """The report's HTML body as the PDF prints it: Hangul words whole, tables sized."""
    return size_tables(keep_hangul_words(body))


def local_fetcher(root: Path) -> URLFetcher:
    """A URL fetcher that serves files below ``root`` and refuses everything else."""
    from weasyprint.urls import URLFetcher

    base = root.resolve()

    class TemplatesOnly(URLFetcher):
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            if url.startswith("file:"):
                from urllib.request import url2pathname

                path = Path(url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
                if path.is_relative_to(base):
                    return super().fetch(url, headers)
            raise ValueError(f"codeb-report fetches nothing outside its templates: {url}")

    return TemplatesOnly(allowed_protocols=["file"])


def import_weasyprint() -> ModuleType:
    """Import WeasyPrint without its slow library search.

    WeasyPrint tries each C library under Windows and macOS names before the Linux
    soname; every miss makes ctypes' find_library spawn ldconfig, gcc and ld (about
    0.2 s per process here, a seventh of rendering the example). While it is imported,
    find_library answers "not found" at once, so each library is opened by its soname
    (libpango-1.0.so.0, ...), which the dynamic loader resolves as usual.
    """
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        return importlib.import_module("weasyprint")
    import ctypes.util

    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        return importlib.import_module("weasyprint")
    finally:
        ctypes.util.find_library = find_library


# WeasyPrint releases whose colour-emoji drawing reuse_emoji_images was read against:
# weasyprint/draw/text.py builds ``RasterImage(pillow_image, image_id, png_data)`` per
# glyph drawn. Any other version is left as it is (slower, same PDF).
EMOJI_IMAGE_VERSIONS = frozenset({"70.0"})
# The pictures made for the document being printed, by (image id, PNG); emptied after it.
_emoji_images: dict[tuple[str, bytes], Any] = {}


def reuse_emoji_images(weasyprint: ModuleType) -> bool:
    """Make one picture per colour-emoji glyph instead of one per glyph drawn.

    WeasyPrint decodes the glyph's PNG from Noto Color Emoji, converts it to RGBA and
    encodes a new PNG for every ✅/⚠️/❌ it draws (850 times, about 1 s, for a
    100-server report), although the PDF then stores each distinct picture once (its
    name is the font's hash and the glyph id). The picture depends on nothing else, so
    the first one made for an id and PNG is handed out again while the document is
    printed. Returns whether it is in place.
    """
    text = sys.modules.get("weasyprint.draw.text")
    if weasyprint.__version__ not in EMOJI_IMAGE_VERSIONS or text is None:
        return False
    made = text.RasterImage
    if getattr(made, "codeb_report_reuse", False):
        return True

    def raster_image(pillow_image: Any, image_id: str, image_data: bytes, **kw: Any) -> Any:
        if kw or not isinstance(image_data, bytes):  # not the call this was written for
            return made(pillow_image, image_id, image_data, **kw)
        key = (image_id, image_data)  # the same glyph of the same font, whatever the id says
        image = _emoji_images.get(key)
        if image is None:
            image = _emoji_images[key] = made(pillow_image, image_id, image_data)
        return image

    raster_image.codeb_report_reuse = True  # type: ignore[attr-defined]
    text.RasterImage = raster_image
    return True


# Python's full (oldest-generation) collections are put off while WeasyPrint prints.
NO_FULL_COLLECTION = 2**30


@contextmanager
def no_full_collections() -> Iterator[None]:
    """Let Python's garbage collector skip its full collections while a PDF is printed.

    WeasyPrint makes hundreds of thousands of long-lived boxes; each full collection walks
    every object of the process, and they took a quarter of the CPU time (2.3 of 9.4 s
    for the 100-server fleet, 3.7 of 11.6 s for 1,000 servers). The young generations
    are still collected, so short-lived cycles are freed as before; what the full
    collections would have found waits until the PDF is written (3-8 MB more at the
    peak). The thresholds are put back afterwards, whatever happens.
    """
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, NO_FULL_COLLECTION)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


def html_to_pdf(html: str) -> bytes:
    check_fonts()  # before the slow part, and never a PDF of boxes
    weasyprint = import_weasyprint()
    reuse_emoji_images(weasyprint)
    defer_font_files(weasyprint)

    root = templates_dir()
    document = weasyprint.HTML(
        string=html, base_url=root.as_uri() + "/", url_fetcher=local_fetcher(root)
    )
    try:
        with no_full_collections():
            return document.write_pdf()
    finally:
        _emoji_images.clear()


class PdfFormat(ReportFormat):
    name = "pdf"
    filename = "report.pdf"

    def render(self, report: Report) -> bytes:
        return html_to_pdf(page(report, pdf_body(report.html_body)))
