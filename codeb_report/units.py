"""Sizes, shares and durations written the way the report writes them.

Sizes are binary (1GB = 1024³ bytes), as ``free -h`` and ``df -h`` count them, because
those are the figures an administrator compares the report with: a 16 GB Vultr plan shows
``MemTotal`` of about 15.6 GiB, and both ``free -h`` and the report call it ``15GB``.
Values are floored to the precision shown so a size is never overstated.
"""

from __future__ import annotations

import math

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def _scaled(n: int) -> tuple[float, str]:
    value = float(max(n, 0))
    for unit in _UNITS[:-1]:
        if value < 1024:
            return value, unit
        value /= 1024
    return value, _UNITS[-1]


def _floor(value: float, decimals: int) -> str:
    factor = 10**decimals
    # The small epsilon keeps 1.5 (stored as 1.4999…) from flooring to 1.4.
    floored = math.floor(value * factor + 1e-9) / factor
    out = f"{floored:.{decimals}f}"
    return out[:-2] if out.endswith(".0") else out


def size(n: int) -> str:
    """At most three digits, like ``free -h``: ``7.7GB``, ``15GB``, ``425MB``, ``8GB``."""
    value, unit = _scaled(n)
    return _floor(value, 1 if value < 10 else 0) + unit


def size_fine(n: int) -> str:
    """One decimal, like systemd's ``Memory: 90.9M``: ``90.9MB``, ``1.2GB``."""
    value, unit = _scaled(n)
    return _floor(value, 1) + unit


def percent(part: float, whole: float) -> int:
    """Whole percent, rounded half up (Python's round() would make 2.5 into 2)."""
    if whole <= 0:
        return 0
    return math.floor(100 * part / whole + 0.5)


def duration(seconds: float) -> str:
    """How long something has been up, as ``docker ps`` counts it: ``25시간``, ``47시간``, ``2일``.

    Hours up to two days, whole days beyond (``80일``); minutes and seconds when younger.
    """
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"{int(seconds)}초"
    if seconds < 3600:
        return f"{int(seconds // 60)}분"
    hours = math.floor(seconds / 3600 + 0.5)
    if hours < 48:
        return f"{hours}시간"
    return f"{hours // 24}일"


_SPAN_UNITS = (("일", 86400), ("시간", 3600), ("분", 60), ("초", 1))


def span(seconds: float) -> str:
    """The two largest units, floored, like systemd's ``1 day 18h``.

    ``1일 18시간``, ``3분 23초``; a zero second unit is dropped (``1일``).
    """
    rest = int(max(seconds, 0))
    parts: list[str] = []
    for word, unit in _SPAN_UNITS:
        count, rest = divmod(rest, unit)
        if count or parts:
            parts.append(f"{count}{word}")
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p.startswith("0")] or ["0초"]
    return " ".join(parts)


def cpu_time(seconds: float) -> str:
    """CPU time consumed, as ``systemctl status`` shows it: ``3분 23초``."""
    return span(seconds)


def load(values: tuple[float, float, float]) -> str:
    """``0.09, 0.05, 0.02``"""
    return ", ".join(f"{v:.2f}" for v in values)
