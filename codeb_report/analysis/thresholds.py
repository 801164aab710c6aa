"""The thresholds the analysis judges figures by: defined in ``codeb_report.thresholds``,
where the configuration can name them without importing the analysis."""

from codeb_report.thresholds import (
    MAX_HOURS,
    MAX_LOAD,
    LoadBands,
    ShareBands,
    SwapBands,
    Thresholds,
    UsageBands,
)

__all__ = [
    "MAX_HOURS",
    "MAX_LOAD",
    "LoadBands",
    "ShareBands",
    "SwapBands",
    "Thresholds",
    "UsageBands",
]
