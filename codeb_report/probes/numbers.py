"""Numbers read from command output: finite, or the probe fails naming the value.

``float()`` reads "inf", "nan" and "1e999" (infinity); ``json.loads`` reads NaN, Infinity
and 1e999, and TOML has inf and nan. A server printing them fails its probe with that
reason instead of putting a non-number into the snapshot. How large a number may be is
the snapshot model's to say (codeb_report.snapshot), which every parsed value passes.

    finite("0.52")  -> 0.52
    finite("inf")   -> ValueError: 'inf' is not a finite number
"""

from __future__ import annotations

import json
import math
import tomllib
from typing import Any


def finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text.strip()!r} is not a finite number")
    return value


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def json_loads(text: str) -> Any:
    """``json.loads`` refusing NaN, Infinity and numbers past a float's range."""
    return json.loads(text, parse_constant=_constant, parse_float=finite)


def toml_loads(text: str) -> dict[str, Any]:
    """``tomllib.loads`` refusing inf and nan."""
    return tomllib.loads(text, parse_float=finite)
