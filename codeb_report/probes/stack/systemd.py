"""Reading ``systemctl show``: property records, timestamps, the values that mean "none"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from codeb_report.probes.numbers import finite

# systemctl prints timestamps in the local zone; TZ=UTC makes that zone known.
SHOW = "TZ=UTC systemctl show --no-pager"
UNSET = ("", "[not set]", "n/a", "infinity", "[no data]")
# Zones seen in the wild when TZ could not be set (recorded outputs); others give None.
ZONES = {"UTC": 0, "GMT": 0, "KST": 9, "JST": 9, "CET": 1, "CEST": 2, "MSK": 3}
TIMESTAMP = re.compile(
    r"^(?:\w{3} )?(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.\d+)? ?([A-Z]{2,5}|[+-]\d{2}:?\d{2})?$"
)


def records(output: str) -> list[dict[str, str]]:
    """One ``{property: value}`` per unit; ``systemctl show A B`` separates them by blank lines."""
    found: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in output.splitlines():
        if not line.strip():
            if current:
                found.append(current)
            current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        found.append(current)
    return found


def value(record: dict[str, str], key: str) -> str | None:
    raw = record.get(key)
    return None if raw is None or raw in UNSET else raw


def number(record: dict[str, str], key: str) -> int | None:
    raw = value(record, key)
    if raw is None or not raw.isdigit():
        return None
    parsed = int(raw)
    return None if parsed >= 2**64 - 1 else parsed  # UINT64_MAX: systemd's "unset"


def timestamp(text: str | None) -> datetime | None:
    """``Thu 2025-12-18 14:12:03 UTC`` or ``@1734531123`` -> aware datetime; else None."""
    if text is None or text in UNSET:
        return None
    if text.startswith("@") and text[1:].replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(finite(text[1:]), tz=UTC)
    match = TIMESTAMP.match(text.strip())
    if not match:
        return None
    local = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
    zone = match.group(2) or "UTC"
    if zone in ZONES:
        return local.replace(tzinfo=timezone(timedelta(hours=ZONES[zone])))
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return local.replace(tzinfo=timezone(offset if zone[0] == "+" else -offset))
    return None
