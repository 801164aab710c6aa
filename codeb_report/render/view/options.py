"""What the configuration adds to a snapshot's report: title, time zone, descriptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING

from codeb_report.thresholds import DETAIL_THRESHOLD, Thresholds

if TYPE_CHECKING:
    from codeb_report.config import Config


@dataclass(frozen=True)
class RenderOptions:
    """What the configuration adds to a snapshot's report (issue: the fleet's TOML file).

    ``ports``, ``units`` and ``containers`` map to the words the reader is told they are,
    e.g. 3101 -> "SSOT Registry", codeb-watchdog -> "워치독 모니터".
    """

    title: str | None = None
    zone: tzinfo | None = None  # the report's date is the collection's date in this zone
    ports: Mapping[int, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    containers: Mapping[str, str] = field(default_factory=dict)
    detail_threshold: int = DETAIL_THRESHOLD
    thresholds: Thresholds | None = None  # what the scaling advice measures use against

    @classmethod
    def from_config(cls, config: Config) -> RenderOptions:
        d = config.descriptions
        return cls(
            title=config.report.title,
            zone=config.report.zone(),
            ports=dict(d.ports),
            units=dict(d.units),
            containers=dict(d.containers),
            detail_threshold=config.report.detail_threshold,
            thresholds=config.report.thresholds,
        )
