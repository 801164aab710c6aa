"""``findings`` (what dating a finding back reads, night after night) is exactly
``analyse(...).findings``: same findings, same order, with thresholds and the provider
view's history and headroom too."""

from __future__ import annotations

from pathlib import Path

import history_gen as gen
import pytest

from codeb_report.analysis import Thresholds, analyse, findings
from codeb_report.analysis.thresholds import UsageBands
from codeb_report.snapshot import load

FIXTURES = Path(__file__).parent / "fixtures" / "snapshots"
EXAMPLE = Path(__file__).parent.parent / "examples" / "fleet-snapshot.json"


@pytest.mark.parametrize("index", [27, 31, 34])
@pytest.mark.parametrize("thresholds", [None, Thresholds(disk=UsageBands(warn_at=30))])
def test_the_findings_of_a_generated_night_are_analyses(
    index: int, thresholds: Thresholds | None
) -> None:
    snapshot = gen.snapshot_for(index)
    expected = analyse(snapshot, thresholds).findings
    assert expected  # lower disk bands, or the nights from day 27 on, have findings
    assert findings(snapshot, thresholds) == expected


@pytest.mark.parametrize("path", [EXAMPLE, FIXTURES / "v2-2025-12-06.json"])
def test_the_findings_of_a_stored_snapshot_with_its_history_are_analyses(path: Path) -> None:
    snapshot = load(path)
    past = [gen.snapshot_for(i) for i in range(3)]
    expected = analyse(snapshot, history=past, headroom=10).findings
    assert expected
    assert findings(snapshot, history=past, headroom=10) == expected
