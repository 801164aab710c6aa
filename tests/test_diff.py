"""The semantic diff over a generated history: each kind of change, and what is not one."""

from __future__ import annotations

from collections.abc import Collection

import history_gen as gen
import pytest

from codeb_report.analysis.model import Finding, Priority, text
from codeb_report.history.compare import first_seen_back
from codeb_report.history.diff import (
    ContainerEvent,
    FindingState,
    PortEvent,
    ResourceKind,
    ServerEvent,
    SnapshotDiff,
    diff_snapshots,
)
from codeb_report.history.settings import DiffSettings
from codeb_report.history.summary import NO_CHANGES, summary_lines
from codeb_report.snapshot import ProbeOutcome, ProbeStatus, Snapshot

HISTORY = gen.history()


def between(a: int, b: int, settings: DiffSettings | None = None) -> SnapshotDiff:
    return diff_snapshots(HISTORY[a], HISTORY[b], settings)


def test_same_snapshot_is_no_change() -> None:
    result = between(3, 3)
    assert not result.changed
    assert summary_lines(result) == [NO_CHANGES]


def test_server_joins_and_leaves() -> None:
    joined = between(9, 10).servers
    assert [(c.server, c.event) for c in joined] == [("n5", ServerEvent.ADDED)]
    left = between(24, 25).servers
    assert [(c.server, c.event) for c in left] == [("n5", ServerEvent.REMOVED)]


def test_reachability_lost_and_back_without_phantom_removals() -> None:
    lost = between(19, 20)
    assert [(c.server, c.event, c.error) for c in lost.servers] == [
        ("n3", ServerEvent.UNREACHABLE, "connection timed out")
    ]
    # n3's containers and services are unknown, not removed.
    assert not [c for c in lost.containers + lost.services if c.server == "n3"]
    assert [(n.server, n.section) for n in lost.not_compared] == [("n3", "all")]
    back = between(20, 21)
    assert [(c.server, c.event) for c in back.servers] == [("n3", ServerEvent.REACHABLE)]


def test_memory_jump_is_reported_with_before_and_after() -> None:
    [change] = [c for c in between(17, 18).resources if c.kind == ResourceKind.MEMORY]
    assert change.server == "n1"
    assert change.before_pct == pytest.approx(10, abs=1.5)
    assert change.after_pct == pytest.approx(25, abs=1.5)
    assert change.delta_pct == pytest.approx(15, abs=2.5)


def test_memory_noise_is_not_a_change() -> None:
    assert not [c for c in between(1, 2).resources if c.kind == ResourceKind.MEMORY]


def test_disk_reported_once_the_step_is_reached() -> None:
    # /data grows 1 GiB a day of 95 GiB usable: about 1.05 %p a day.
    assert not [c for c in between(0, 4).resources if c.subject == "/data"]
    [change] = [c for c in between(0, 5).resources if c.subject == "/data"]
    assert change.delta_pct == pytest.approx(5.26, abs=0.05)
    assert change.after_used - change.before_used == 5 * gen.GB_PER_DAY
    fine = DiffSettings(disk_step=1.0)
    assert [c.subject for c in between(0, 1, fine).resources] == ["/data"]


def test_container_restart_image_add_remove() -> None:
    restarted = between(14, 15).containers
    assert [(c.name, c.event) for c in restarted] == [("codeb-cms", ContainerEvent.RESTARTED)]
    assert restarted[0].after is not None and restarted[0].after.startswith(
        gen.day_of(15).isoformat()
    )
    image = between(21, 22).containers
    assert [(c.name, c.event, c.before, c.after) for c in image] == [
        ("codeb-cms", ContainerEvent.IMAGE, "codeb/cms:2.0", "codeb/cms:2.1")
    ]
    assert [(c.name, c.event) for c in between(11, 12).containers] == [
        ("codeb-worker", ContainerEvent.ADDED)
    ]
    assert [(c.name, c.event) for c in between(27, 28).containers] == [
        ("codeb-worker", ContainerEvent.REMOVED)
    ]


def test_service_state_change() -> None:
    [change] = between(29, 30).services
    assert (change.server, change.unit) == ("n2", "codeb-watchdog.service")
    assert (change.before, change.after) == ("active/running", "failed/failed")


def test_ports_opened_and_closed() -> None:
    [opened] = between(11, 12).ports
    assert (opened.server, opened.port, opened.event) == ("n1", 3300, PortEvent.OPENED)
    [closed] = between(27, 28).ports
    assert (closed.port, closed.event) == (3300, PortEvent.CLOSED)


def _failed(snapshot: Snapshot, server: str, probe: str) -> Snapshot:
    copy = snapshot.model_copy(deep=True)
    target = copy.server(server)
    assert target is not None
    target.containers = []
    target.probes = [p for p in target.probes if p.probe != probe]
    target.probes.append(ProbeOutcome(probe=probe, status=ProbeStatus.FAILED, reason="timeout"))
    return copy


def test_a_failed_probe_is_not_compared_instead_of_everything_removed() -> None:
    result = diff_snapshots(HISTORY[13], _failed(HISTORY[13], "n1", "docker"))
    assert result.containers == []
    assert [(n.server, n.section) for n in result.not_compared] == [("n1", "containers")]
    assert "docker" in result.not_compared[0].reason


def _finding(rule: str, server: str, priority: Priority = Priority.MEDIUM) -> Finding:
    return Finding(
        rule=rule,
        priority=priority,
        server=server,
        title=f"{rule} 제목",
        description=text("설명"),
        action="조치",
    )


def test_findings_new_resolved_and_open_with_days() -> None:
    old = [_finding("backup-empty", "n4"), _finding("redis-auth", "n3", Priority.LOW)]
    new = [_finding("backup-empty", "n4"), _finding("service-failed", "n2", Priority.HIGH)]
    since = {("backup-empty", "n4"): HISTORY[20].collected_at}
    result = diff_snapshots(
        HISTORY[29], HISTORY[30], old_findings=old, new_findings=new, first_seen=since
    )
    states = {(c.finding.rule, c.state): c.days_open for c in result.findings}
    assert states == {
        ("service-failed", FindingState.NEW): 0,
        ("backup-empty", FindingState.OPEN): 10,
        ("redis-auth", FindingState.RESOLVED): None,
    }
    assert result.findings[0].finding.priority == Priority.HIGH  # most urgent first


def test_open_findings_alone_are_not_a_change() -> None:
    same = [_finding("backup-empty", "n4")]
    result = diff_snapshots(HISTORY[3], HISTORY[3], old_findings=same, new_findings=same)
    assert result.findings[0].state == FindingState.OPEN
    assert result.findings[0].days_open == 0
    assert not result.changed


def test_first_seen_walks_back_only_while_a_finding_is_traced() -> None:
    at = [HISTORY[i].collected_at for i in range(5)]
    a, b = _finding("a", "n1"), _finding("b", "n2")
    found = {0: [a], 1: [a, b], 2: [a], 3: [a, b]}  # by day; both open on day 4
    fetched: list[int] = []
    asked: list[Collection[str] | None] = []

    def fetch(i: int):
        def run(servers: Collection[str] | None) -> Snapshot:
            fetched.append(i)
            asked.append(servers)
            return HISTORY[i]

        return run

    def judge(snapshot: Snapshot) -> list[Finding]:
        return found[at.index(snapshot.collected_at)]

    since = first_seen_back(
        {("a", "n1"), ("b", "n2")}, at[4], [fetch(i) for i in (3, 2, 1, 0)], judge
    )
    assert since == {("a", "n1"): at[0], ("b", "n2"): at[3]}
    assert fetched == [3, 2, 1, 0]
    fetched.clear()
    asked.clear()
    first_seen_back({("b", "n2")}, at[4], [fetch(i) for i in (3, 2, 1, 0)], judge)
    assert fetched == [3, 2]  # b is gone on day 2: nothing older is read
    # Rules "a" and "b" are unknown to evidence.SERVER_ALONE: whole nights are asked for.
    assert asked == [None, None]


def test_summary_puts_lost_servers_and_high_findings_first() -> None:
    new = [_finding("service-failed", "n2", Priority.HIGH)]
    result = diff_snapshots(HISTORY[19], HISTORY[20], new_findings=new)
    result.resources = between(17, 18).resources
    lines = summary_lines(result)
    assert lines[0].startswith("❌ 연결 실패: n3")
    assert lines[1] == "🆕 High 발견 사항: n2 service-failed 제목"
    assert "n1 메모리 사용률" in lines[2] and "→" in lines[2]


def test_findings_of_a_removed_server_are_not_called_resolved() -> None:
    old = [_finding("backup-empty", "n5"), _finding("redis-auth", "n3")]
    result = diff_snapshots(HISTORY[24], HISTORY[25], old_findings=old, new_findings=[])
    gone = {c.finding.server: c.server_gone for c in result.findings}
    assert gone == {"n5": True, "n3": False}
    lines = summary_lines(result)
    assert "✅ 해결: n3 redis-auth 제목" in lines
    assert not [line for line in lines if "n5 backup-empty" in line]
