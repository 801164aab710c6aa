"""WeasyPrint, as codeb-report prints with it: its import, its fetcher, its tuning.

Only the PDF printer imports this module (WeasyPrint is slow to import); it imports
nothing of the snapshot or the analysis, so the printer's own process (render/printer.py)
starts quickly.
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

from codeb_report.render.font_files import defer_font_files

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher


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


# WeasyPrint releases whose cffi arrays reuse_array_types was read against:
# weasyprint/pdf/fonts.py asks for ``ffi.new(f'hb_codepoint_t[{len(x)}]', x)``.
ARRAY_TYPE_VERSIONS = frozenset({"70.0"})
_SIZED_ARRAY = re.compile(r"([A-Za-z_][A-Za-z0-9_ ]*)\[(\d+)\]")


def reuse_array_types(weasyprint: ModuleType) -> bool:
    """Let cffi parse each array type WeasyPrint allocates once, not once per length.

    Subsetting a font allocates arrays typed by their length (``hb_codepoint_t[293]``);
    cffi caches a parsed type by its text, so every new length is parsed again, with
    the whole C header of WeasyPrint's libraries before it: 2-3 ms each, about 40 ms
    per PDF. An array of N items filled from N items is the same as the open array
    (``hb_codepoint_t[]``) filled from them, which cffi parses once. Returns whether the
    change is in place.
    """
    if weasyprint.__version__ not in ARRAY_TYPE_VERSIONS:
        return False
    from weasyprint.text.ffi import ffi

    new = ffi.new
    if getattr(new, "codeb_report_reuse", False):
        return True

    def new_array(cdecl: Any, init: Any = None) -> Any:
        if isinstance(cdecl, str) and isinstance(init, (list, tuple)):
            sized = _SIZED_ARRAY.fullmatch(cdecl)
            if sized is not None and int(sized.group(2)) == len(init):
                cdecl = f"{sized.group(1)}[]"
        return new(cdecl, init)

    new_array.codeb_report_reuse = True  # type: ignore[attr-defined]
    ffi.new = new_array
    return True


# WeasyPrint releases whose HTML class html_document was read against: HTML.__init__
# sets base_url, url_fetcher, media_type, wrapper_element and etree_element from the
# tree tinyhtml5 parses, and nothing else.
PAGE_TREE_VERSIONS = frozenset({"70.0"})


def html_document(weasyprint: ModuleType, html: str, root: Path) -> Any:
    """WeasyPrint's HTML document of the page, its tree read by expat when it can be
    (render/page_tree.py), else by WeasyPrint as usual."""
    base_url, fetcher = root.as_uri() + "/", local_fetcher(root)
    from codeb_report.render.page_tree import page_tree

    tree = page_tree(html) if weasyprint.__version__ in PAGE_TREE_VERSIONS else None
    if tree is None:
        return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    import cssselect2

    document = object.__new__(weasyprint.HTML)
    document.base_url = weasyprint._find_base_url(tree, base_url)
    document.url_fetcher = fetcher
    document.media_type = "print"
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(tree, content_language=None)
    document.etree_element = document.wrapper_element.etree_element
    return document


def print_page(html: str, root: Path) -> bytes:
    """The PDF of an HTML page whose stylesheet and pictures lie in ``root``, printed in
    this process. Fonts are not checked here: html_to_pdf or the printer's process
    checks them before."""
    weasyprint = import_weasyprint()
    reuse_emoji_images(weasyprint)
    defer_font_files(weasyprint)
    reuse_array_types(weasyprint)
    document = html_document(weasyprint, html, root)
    try:
        with no_full_collections():
            return document.write_pdf()
    finally:
        _emoji_images.clear()


def html_to_pdf(html: str, root: Path | None = None) -> bytes:
    """The PDF of an HTML page whose stylesheet and pictures lie in ``root`` (the
    report's templates folder unless said otherwise), printed in this process."""
    from codeb_report.render.fonts import check_fonts
    from codeb_report.render.template_dir import templates_dir

    check_fonts()  # before the slow part, and never a PDF of boxes
    return print_page(html, root or templates_dir())
