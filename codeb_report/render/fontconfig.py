"""Which fonts fontconfig has for the PDF: asked before a PDF is printed.

WeasyPrint prints every glyph it has no font for as an empty box and says nothing: a
report of boxes, mailed as if it were fine. fontconfig is asked here, through the same
library and configuration (``FONTCONFIG_FILE`` included) WeasyPrint's pango uses, for a
font covering Korean (``:lang=ko``) and one with the colour icons (✅ U+2705). This
module imports nothing else of codeb-report: the PDF printer's process asks it too.
"""

from __future__ import annotations

import ctypes
from functools import cache

# (what is missing, fontconfig pattern, Debian package that brings a font for it)
NEEDED = (
    ("no Korean (Hangul) font", b":lang=ko", "fonts-nanum"),
    ("no emoji font for the status icons (✅ ❌ ⚠️)", b":charset=2705", "fonts-noto-color-emoji"),
)


class _FontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.c_void_p)]


def _fontconfig() -> ctypes.CDLL:
    fc = ctypes.CDLL("libfontconfig.so.1")
    fc.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    fc.FcNameParse.restype = ctypes.c_void_p
    fc.FcNameParse.argtypes = [ctypes.c_char_p]
    fc.FcObjectSetBuild.restype = ctypes.c_void_p
    fc.FcFontList.restype = ctypes.POINTER(_FontSet)
    fc.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    for name in ("FcFontSetDestroy", "FcPatternDestroy", "FcObjectSetDestroy", "FcConfigDestroy"):
        getattr(fc, name).argtypes = [ctypes.c_void_p]
    return fc


def _count(fc: ctypes.CDLL, config: int, pattern: bytes) -> int:
    parsed = fc.FcNameParse(pattern)
    objects = fc.FcObjectSetBuild(b"family", None)
    found = fc.FcFontList(config, parsed, objects)
    try:
        return found.contents.nfont if found else 0
    finally:
        if found:
            fc.FcFontSetDestroy(found)
        fc.FcObjectSetDestroy(objects)
        fc.FcPatternDestroy(parsed)


@cache
def missing_fonts() -> tuple[str, ...]:
    """What fontconfig has no font for, each with the Debian package to install."""
    try:
        fc = _fontconfig()
    except OSError:
        return ("no fontconfig library (libfontconfig1): install weasyprint's libraries",)
    config = fc.FcInitLoadConfigAndFonts()
    try:
        return tuple(
            f"{what}: install the Debian package {package}"
            for what, pattern, package in NEEDED
            if _count(fc, config, pattern) == 0
        )
    finally:
        fc.FcConfigDestroy(config)


def fonts_problem() -> str | None:
    """What the PDF would get wrong for want of fonts (one line, the packages named)."""
    if missing := missing_fonts():
        return f"the PDF would print boxes: {'; '.join(missing)}"
    return None
