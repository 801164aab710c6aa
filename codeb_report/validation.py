"""Naming the field behind a pydantic error, for one-line messages about user files."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _one_line(value: str) -> str:
    """A setting printed as one line (a mail subject, a heading): a newline there would
    forge a mail header or break the heading, so control characters are refused."""
    if found := _CONTROLS.search(value):
        raise ValueError(f"control character U+{ord(found.group()):04X} not allowed (one line)")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]

_NOT_A_WORD = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _one_word(value: str) -> str:
    """A host, user or jump goes to the network and ssh as it is: a space, newline or
    control character there is a typo or a forged value, never a name."""
    if found := _NOT_A_WORD.search(value):
        raise ValueError(
            f"U+{ord(found.group()):04X} not allowed (one word: no spaces or controls)"
        )
    return value


OneWord = Annotated[str, AfterValidator(_one_word)]


def http_url(value: str, example: str, login: str) -> str:
    """An http(s) URL with a host, without credentials, query or fragment, for a setting
    that names a server (``[prometheus] url``, ``[vultr] base_url``); the trailing ``/``
    dropped. ``example`` shows a good one; ``login`` says where credentials go instead.
    A URL that carries a password is never repeated in the message."""
    parts = urlsplit(value)
    if parts.username or parts.password:
        raise ValueError(f"credentials do not go in the URL: {login}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL (e.g. {example})")
    try:
        parts.port  # noqa: B018  (urlsplit checks the port only when asked)
    except ValueError:
        raise ValueError(f"{value!r} has no valid port") from None
    if parts.query or parts.fragment:
        raise ValueError("the URL takes no query or fragment")
    return value.rstrip("/")


def field_path(loc: tuple[Any, ...], data: Any) -> str:
    """``('servers', 1, 'port')`` -> ``servers[n2].port``, naming list items by their name."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = str(item)
            if isinstance(node, list) and 0 <= item < len(node) and isinstance(node[item], dict):
                label = str(node[item].get("name", item))
            parts[-1:] = [f"{parts[-1]}[{label}]"] if parts else [f"[{label}]"]
        elif item != "[key]":  # pydantic's marker for a bad dict key: the key names it
            parts.append(str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)
