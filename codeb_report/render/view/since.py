"""How long ago something started, as the report words it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from codeb_report import units


def since(
    start: datetime | None, at: datetime, words: Callable[[float], str] = units.duration
) -> str | None:
    if start is None:
        return None
    return words(max(0.0, (at - start).total_seconds()))
