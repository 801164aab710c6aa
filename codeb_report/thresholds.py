"""Where a figure stops being fine: the defaults, and the model the config's
``[report.thresholds]`` table fills.

Every threshold compares the exact figure, not the rounded one the report prints: a
server using 9.6% of its memory is shown as ``10%`` and still counts as under 10%.

The defaults are chosen so the reference report's fleet gets the reference's words:
memory at 2.7% is 매우 여유 and at 4.6% 여유 (so 매우 여유 ends at 4%); disks at 7-14%
are 여유; 5-minute loads per CPU of 0, 0.005, 0.0125 and 0.03 read 거의 없음, 거의 없음,
매우 낮음 and 낮음.

Kept outside the analysis and render packages: the configuration names these and
``DETAIL_THRESHOLD``, and importing either package would load all of its modules
(a tenth of a second of every collection's start-up, spent before the first connection).
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Every figure of a configuration is bounded: past these a value is a typo, and an
# unbounded one overflows a date or a timer later ("timestamp out of range").
MAX_LOAD = 1000.0  # 5-minute load per CPU
MAX_HOURS = 24.0 * 3650  # ten years

# Above this many servers the report summarises by role and details only the servers that
# need attention (see render/view/fleet.py); [report] detail_threshold overrides it.
DETAIL_THRESHOLD = 20


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UsageBands(_Model):
    """Percent of a total in use (memory, disk).

    매우 여유 below very_free_below, 여유 below warn_at, ⚠️ 주의 below crit_at, ❌ 위험 beyond.
    """

    very_free_below: float = Field(4, ge=0, le=100)
    warn_at: float = Field(80, ge=0, le=100)
    crit_at: float = Field(90, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.very_free_below <= self.warn_at <= self.crit_at:
            raise ValueError("very_free_below <= warn_at <= crit_at must hold")
        return self


class _WarnCritBands(_Model):
    """Two percents: ⚠️ at warn_at, ❌ at crit_at (the subclasses set the defaults)."""

    warn_at: float
    crit_at: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.warn_at <= self.crit_at:
            raise ValueError("warn_at <= crit_at must hold")
        return self


class SwapBands(_WarnCritBands):
    """Percent of swap in use: 정상 below warn_at."""

    warn_at: float = Field(50, ge=0, le=100)
    crit_at: float = Field(80, ge=0, le=100)


class ShareBands(_WarnCritBands):
    """Percent of a limit in use (database connections): ⚠️ at warn_at, ❌ at crit_at."""

    warn_at: float = Field(80, ge=0, le=100)
    crit_at: float = Field(95, ge=0, le=100)


class LoadBands(_Model):
    """The 5-minute load average divided by the CPU count.

    The 5-minute figure, because the 1-minute one is moved by the collection itself and the
    15-minute one lags. Bands: 거의 없음 (✅ 유휴) < idle_below ≤ 매우 낮음 < very_low_below ≤
    낮음 < low_below ≤ 보통 (all ✅ 안정) < warn_at ≤ 높음 (⚠️ 주의) < crit_at ≤ 과부하 (❌ 위험).
    """

    idle_below: float = Field(0.01, ge=0, le=MAX_LOAD)
    very_low_below: float = Field(0.02, ge=0, le=MAX_LOAD)
    low_below: float = Field(0.5, ge=0, le=MAX_LOAD)
    warn_at: float = Field(0.7, ge=0, le=MAX_LOAD)
    crit_at: float = Field(1.0, ge=0, le=MAX_LOAD)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        values = [self.idle_below, self.very_low_below, self.low_below, self.warn_at, self.crit_at]
        if values != sorted(values):
            raise ValueError(
                "idle_below <= very_low_below <= low_below <= warn_at <= crit_at must hold"
            )
        return self


class Thresholds(_Model):
    memory: UsageBands = Field(default_factory=UsageBands)
    disk: UsageBands = Field(default_factory=UsageBands)
    swap: SwapBands = Field(default_factory=SwapBands)
    load: LoadBands = Field(default_factory=LoadBands)
    db_connections: ShareBands = Field(default_factory=ShareBands)
    """postgres.connections_high: connections as a percent of max_connections."""
    low_usage_below: float = Field(10, gt=0, le=100)
    """resources.low_usage: every server's memory use and 5-minute load per CPU below this
    percent. Disks are left out: scaling out adds CPUs and memory, not disk."""
    smaller_spec_ratio: float = Field(0.75, gt=0, le=1)
    """server.smaller_spec: memory below this share of the fleet's median memory."""
    recent_reboot_hours: float = Field(24, ge=0, le=MAX_HOURS)
    """server.rebooted: up for less than this many hours."""
    backup_max_age_hours: float = Field(26, gt=0, le=MAX_HOURS)
    """backup.stale: newest backup older than this (a daily job plus slack), unless the
    snapshot's backup directory carries its own max_age_hours."""
