"""Font files read by WeasyPrint only when a PDF needs them whole.

WeasyPrint copies every font file it draws with into memory when it first meets the
font (``weasyprint.pdf.fonts.Font.__init__``), although the subset it embeds is made
from HarfBuzz's own face and the copy is only ever read when subsetting is impossible.
For this report that is NanumGothic (regular, bold and coding, 14 MB together), DejaVu
Sans Mono and Noto Color Emoji (11 MB): about 25 MB of copies, plus every page of the
mapped files touched by copying them. Deferring the copy until something reads
``file_content`` leaves the PDF as it was and lowers the peak memory of printing the
example from 132 to 96 MB, and of a 100-server report from 310 to 263 MB.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

# WeasyPrint releases whose weasyprint/pdf/fonts.py this was read against: Font.__init__
# sets ``self.file_content = get_hb_object_data(self.hb_face)`` and every later reader
# goes through the attribute. Other versions are left as they are (more memory, same PDF).
DEFERRED_FONT_VERSIONS = frozenset({"70.0"})

_NOT_READ = object()


class _Creating(threading.local):
    active = False


_creating = _Creating()


class DeferredFileContent:
    """``Font.file_content``: the font's whole file, read from its face on first use."""

    def __init__(self, read_face: Any) -> None:
        self.read_face = read_face

    def __get__(self, font: Any, owner: type | None = None) -> Any:
        if font is None:
            return self
        content = font.__dict__.get("codeb_report_file_content", _NOT_READ)
        if content is _NOT_READ:
            content = font.__dict__["codeb_report_file_content"] = self.read_face(font.hb_face)
        return content

    def __set__(self, font: Any, content: Any) -> None:
        font.__dict__["codeb_report_file_content"] = content


def defer_font_files(weasyprint: ModuleType) -> bool:
    """Make WeasyPrint read a font file whole only when it uses the whole file.

    Returns whether the change is in place (it is made once per process).
    """
    fonts = _pdf_fonts(weasyprint)
    if fonts is None:
        return False
    font = fonts.Font
    if isinstance(font.__dict__.get("file_content"), DeferredFileContent):
        return True
    read = fonts.get_hb_object_data
    create = font.__init__

    def get_hb_object_data(hb_object: Any, ot_color: Any = None, glyph: Any = None) -> Any:
        if _creating.active and ot_color is None and glyph is None:
            return _NOT_READ  # the whole face, asked for by Font.__init__: later
        return read(hb_object, ot_color, glyph)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        _creating.active = True
        try:
            create(self, *args, **kwargs)
        finally:
            _creating.active = False

    font.file_content = DeferredFileContent(read)
    fonts.get_hb_object_data = get_hb_object_data
    font.__init__ = init
    return True


def _pdf_fonts(weasyprint: ModuleType) -> ModuleType | None:
    if weasyprint.__version__ not in DEFERRED_FONT_VERSIONS:
        return None
    import importlib

    fonts = importlib.import_module("weasyprint.pdf.fonts")
    if not hasattr(fonts, "Font") or not hasattr(fonts, "get_hb_object_data"):
        return None
    return fonts
