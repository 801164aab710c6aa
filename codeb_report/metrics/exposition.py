"""Prometheus' text exposition format (version 0.0.4), written by hand.

A few dozen lines instead of a dependency: codeb-report only writes gauges once per run,
and the one delicate part, escaping label values, is spelled out here and tested with
promtool and a real node_exporter.

    family = Family("codeb_report_server_reachable", "1 when the server was collected.")
    family.add(1, server="n1")
    text = render([family])

Label values are names from the configuration, but a name can hold anything: control,
separator and bidi characters are first written as visible escapes (``\\x07``, ``\\n``) by
the same function as for logs and reports, then backslashes and double quotes are escaped
as the format requires, so a hostile name can neither end a line nor reach a terminal raw.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

from codeb_report.controls import escape_controls

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

Labels = tuple[tuple[str, str], ...]


def label_value(value: str) -> str:
    """A label value as it goes between the double quotes."""
    return escape_controls(value).replace("\\", "\\\\").replace('"', '\\"')


def help_text(value: str) -> str:
    """HELP text: controls as visible escapes, then backslashes escaped (no raw newline)."""
    return escape_controls(value).replace("\\", "\\\\")


def number(value: float) -> str:
    """Whole numbers without ".0" (1, 0, byte counts), others as Python's shortest repr."""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


@dataclass
class Family:
    """One metric name: its HELP, TYPE and samples, each a distinct set of labels."""

    name: str
    help: str
    type: Literal["gauge", "counter", "untyped"] = "gauge"
    samples: dict[Labels, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")

    def add(self, value: float | bool | None, **labels: str) -> None:
        """Add a sample; ``None`` or a non-finite value leaves it out (no fake figures).

        A second sample with the same labels is dropped: node_exporter refuses a whole
        file with a duplicate series, which would cost every other metric.
        """
        if value is None or not math.isfinite(value):
            return
        for name in labels:
            if not _LABEL.match(name) or name.startswith("__"):
                raise ValueError(f"invalid label name {name!r}")
        key = tuple(labels.items())
        self.samples.setdefault(key, float(value))

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {help_text(self.help)}", f"# TYPE {self.name} {self.type}"]
        for labels, value in self.samples.items():
            inner = ",".join(f'{k}="{label_value(v)}"' for k, v in labels)
            out.append(
                f"{self.name}{{{inner}}} {number(value)}"
                if inner
                else f"{self.name} {number(value)}"
            )
        return out


def render(families: list[Family]) -> str:
    """The exposition text; families without samples are left out entirely."""
    lines = [line for f in families if f.samples for line in f.lines()]
    return "\n".join(lines) + "\n" if lines else ""
