"""Naming the field behind a pydantic error, for one-line messages about user files."""

from __future__ import annotations

from typing import Any


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
