"""Thresholds for the diff and the trends, with the defaults the report is written for."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DiffSettings(BaseModel):
    """When a resource figure counts as changed between two snapshots.

    Steps are percentage points of the whole: memory 40% → 52% moved by 12%p. Smaller
    moves are day-to-day noise and would bury the changes that matter.
    """

    model_config = ConfigDict(extra="forbid")

    disk_step: float = Field(
        5.0, gt=0, le=100, description="Disk use change, in %p, worth reporting."
    )
    memory_step: float = Field(
        10.0, gt=0, le=100, description="Memory use change, in %p, worth reporting."
    )


class TrendSettings(BaseModel):
    """How much history the trends read and how far ahead a full disk is a finding."""

    model_config = ConfigDict(extra="forbid")

    snapshots: int = Field(
        30, ge=2, le=3660, strict=True, description="Read at most this many latest snapshots (N)."
    )
    horizon_days: float = Field(
        30.0,
        gt=0,
        le=3650,
        description="A filesystem predicted full within this many days is a finding.",
    )
    high_days: float = Field(
        7.0,
        gt=0,
        le=3650,
        description="Within this many days the finding is High, otherwise Medium.",
    )
    min_points: int = Field(
        3,
        ge=2,
        le=3660,
        strict=True,
        description="A filesystem needs this many snapshots before it is forecast.",
    )
