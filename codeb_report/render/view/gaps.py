"""Probes that were skipped or failed, grouped by the section their rows would be in."""

from __future__ import annotations

from dataclasses import dataclass

from codeb_report.analysis.reasons import Reason, probe_label, probe_reason
from codeb_report.snapshot import ProbeOutcome, ProbeStatus

# Which probes feed which section, so a skipped probe is reported where its rows would be.
# Probe names are matched before their first dot: "centrifugo.unit" feeds "centrifugo".
SECTION_PROBES = {
    "system": ("system", "memory", "filesystems"),
    "containers": ("docker", "podman", "watched.containers"),
    "services": ("services", "watched.units"),
    "ports": ("ports",),
    "centrifugo": ("centrifugo",),
    "databases": ("postgresql", "redis"),
    "backups": ("backups",),
}


@dataclass(frozen=True)
class Gap:
    """A probe that was skipped or failed, said where its rows would have been."""

    probe: str
    label: str  # what the reader calls it: 시스템 서비스, not services
    failed: bool
    reason: Reason | None
    missing_tool: str | None  # "docker" when the reason is "docker not installed"


def gaps_by_section(outcomes: list[ProbeOutcome]) -> dict[str, list[Gap]]:
    gaps: dict[str, list[Gap]] = {}
    for o in outcomes:
        if o.status == ProbeStatus.OK:
            continue
        family = o.probe.split(".")[0]
        section = next(
            (s for s, names in SECTION_PROBES.items() if o.probe in names or family in names),
            "other",
        )
        gaps.setdefault(section, []).append(
            Gap(
                o.probe,
                probe_label(o.probe),
                o.status == ProbeStatus.FAILED,
                probe_reason(o.reason),
                _missing_tool(o.reason),
            )
        )
    return gaps


def _missing_tool(reason: str | None) -> str | None:
    """``docker not installed`` / ``docker: command not found`` -> ``docker``."""
    if not reason:
        return None
    for marker in (" not installed", ": command not found", " not found"):
        if reason.endswith(marker):
            tool = reason.removesuffix(marker).strip()
            return tool if tool and " " not in tool else None
    return None
