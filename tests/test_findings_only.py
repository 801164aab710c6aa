"""``findings`` (what dating a finding back reads, night after night) is exactly
``analyse(...).findings``: same findings, same order, with thresholds and the provider
view's history and headroom too."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import fleet_gen
import history_gen as gen
import pytest

from codeb_report.analysis import Thresholds, analyse, findings
from codeb_report.analysis.model import Finding
from codeb_report.analysis.rules import FLEET
from codeb_report.history.compare import diff_paths, diff_with_findings, earlier_stored
from codeb_report.history.evidence import SERVER_ALONE, servers_needed
from codeb_report.history.store import Stored
from codeb_report.snapshot import Snapshot, dumps, load, parse
from codeb_report.thresholds import UsageBands

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


def _server_alone_findings(snapshot: Snapshot, names: set[str]) -> list[Finding]:
    return [f for f in findings(snapshot) if f.rule in SERVER_ALONE and f.server in names]


@pytest.mark.parametrize(
    "snapshot",
    [
        load(EXAMPLE),
        load(FIXTURES / "v2-2025-12-06.json"),
        *(gen.snapshot_for(i) for i in (20, 27, 31, 34)),
        fleet_gen.large_fleet(60, trouble=0.2),
    ],
    ids=["example", "v2-fixture", "day20", "day27", "day31", "day34", "fleet60"],
)
def test_a_server_alone_rule_finds_on_the_server_read_alone_what_it_finds_in_the_fleet(
    snapshot: Snapshot,
) -> None:
    """What lets a diff read only the traced servers of an earlier night: each rule of
    evidence.SERVER_ALONE raises on a server read alone (``parse`` with ``servers``)
    exactly what it raises on that server in the whole snapshot."""
    text = dumps(snapshot)
    whole = findings(snapshot)
    seen = set()
    for server in snapshot.servers:
        alone = parse(text, "night.json", {server.name})
        assert [s.name for s in alone.servers] == [server.name]
        expected = [f for f in whole if f.rule in SERVER_ALONE and f.server == server.name]
        assert _server_alone_findings(alone, {server.name}) == expected
        seen.update(f.rule for f in expected)
    assert seen  # every fixture has findings of such rules to compare


def test_the_rules_judged_on_the_server_alone_exclude_the_fleets() -> None:
    assert {"disk.high", "service.failed", "server.unreachable"} <= SERVER_ALONE
    assert not {"resources.low_usage", "server.smaller_spec"} & SERVER_ALONE
    assert not any(rule.startswith("provider.") for rule in SERVER_ALONE)
    assert servers_needed({("disk.high", "n1"), ("service.failed", "n2")}) == {"n1", "n2"}
    assert servers_needed({("disk.high", "n1"), ("server.smaller_spec", "n2")}) is None
    assert servers_needed({("disk.high", "n1"), ("resources.low_usage", FLEET)}) is None
    assert servers_needed({("a.rule.added.later", "n1")}) is None


def test_a_diff_reads_only_the_traced_servers_of_earlier_nights_and_dates_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = gen.write_history(tmp_path / "output", days=35, servers=8)
    old, new = paths[-2], paths[-1]
    asked: list[Collection[str] | None] = []
    real = Stored.load

    def spy(self: Stored, servers: Collection[str] | None = None) -> Snapshot:
        asked.append(servers)
        return real(self, servers)

    monkeypatch.setattr(Stored, "load", spy)
    fast = diff_paths(old, new, analyse, judge_earlier=findings)
    # The open findings are n1's full disk and n2's failed service: of the 8 servers,
    # only those two are read, and only until n1's disk.high began (n2's at day 30).
    assert asked[0] == {"n1", "n2"} and {"n1"} in asked
    assert all(a is not None and a <= {"n1", "n2"} for a in asked)

    earlier = [lambda _names, s=s: s.load() for s in reversed(earlier_stored(old, 30))]
    whole = diff_with_findings(load(old), load(new), analyse, earlier=earlier)
    assert fast == whole
    ages = {(c.finding.rule, c.finding.server): c.days_open for c in fast.findings}
    assert ages[("service.failed", "n2")] == 4  # failed since day 30, compared on day 34
