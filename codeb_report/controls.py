"""Collected text made harmless for a terminal, a log line, a mail or a report.

Servers print what they like: an ESC sequence retitles or clears the operator's terminal,
a newline in a server's stderr forges a complete line of ``run.log``, and bidi overrides
make a text read differently from what it holds. :func:`escape_controls` is the one place
that writes such characters as visible escapes (``\\x1b``, ``\\n``, ``\\u202e``); the log
formatter, the fleet progress, the CLI's error lines, the mail and the report all call it.

    escape_controls("ok\\x1b]0;owned\\x07")    -> 'ok\\\\x1b]0;owned\\\\x07'
    escape_controls("a\\nINFO - forged")       -> 'a\\\\nINFO - forged'
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls and DEL, C1 controls (U+0080-U+009F: U+009B is CSI on many terminals), the
# line and paragraph separators, and the bidi marks, embeddings, overrides and isolates
# (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069). Joiners (U+200D in emoji) and
# variation selectors (U+FE0F in ⚠️) are not controls: the report uses them.
_BIDI_AND_SEPARATORS = r"\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
CONTROLS = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
# Whitespace that ends or breaks a line: a one-line rendering turns it into a space.
LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]+")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    point = ord(char)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every control, separator and bidi character written as an escape."""
    return CONTROLS.sub(_escape, text)


def one_line(text: str) -> str:
    """Line breaks and tabs as single spaces, every other control escaped: for table
    cells, mail lines and any place where a value must stay on its line."""
    return escape_controls(LINE_BREAKS.sub(" ", text))


# JSON already writes C0 controls as \u00XX; with ensure_ascii=False it leaves these raw.
_JSON_RAW = re.compile(rf"[\x7f-\x9f{_BIDI_AND_SEPARATORS}]")


def json_controls(dumped: str) -> str:
    """``json.dumps(..., ensure_ascii=False)`` output with the controls it leaves raw
    written as ``\\uXXXX`` escapes: the same JSON value, safe to print on a terminal."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def json_text(data: Any, *, sort_keys: bool = False) -> str:
    """Indented JSON for files and stdout: standard JSON only (a NaN or an infinity is a
    ValueError, never ``NaN``/``Infinity`` that other readers refuse), UTF-8 text kept
    readable, controls escaped."""
    dumped = json.dumps(data, indent=2, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False)
    return json_controls(dumped) + "\n"


# JSON may write any character as \\uXXXX, and so half a UTF-16 surrogate pair alone:
# Python keeps it in the string, and no file, log or report can be written with it.
ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE_BYTES = re.compile(ESCAPED_SURROGATE.pattern.encode())


def text_only(data: Any, raw: bytes) -> Any:
    """Parsed JSON ``data`` with each half surrogate pair alone replaced by U+FFFD.

    Only answers whose ``raw`` text has such an escape at all are walked: characters
    written as escaped pairs (emoji) are whole after parsing and cost a scan of ``raw``.
    """
    if not _ESCAPED_SURROGATE_BYTES.search(raw):
        return data
    return _replaced(data)


def _replaced(node: Any) -> Any:
    if isinstance(node, str):
        return LONE_SURROGATE.sub("\ufffd", node)
    if isinstance(node, dict):
        return {_replaced(key): _replaced(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_replaced(value) for value in node]
    return node
