"""Korean one-line descriptions of a diff, for the report's tables and the mail body."""

from __future__ import annotations

from datetime import datetime, tzinfo

from codeb_report import units
from codeb_report.analysis.model import Priority
from codeb_report.history.diff import (
    ContainerChange,
    ContainerEvent,
    FindingChange,
    FindingState,
    PortChange,
    PortEvent,
    ResourceChange,
    ResourceKind,
    ServerChange,
    ServerEvent,
    ServiceChange,
    SnapshotDiff,
)
from codeb_report.outputdir import local_time

NO_CHANGES = "변경 사항 없음"

SERVER_EVENTS = {
    ServerEvent.ADDED: "🆕 추가",
    ServerEvent.REMOVED: "➖ 제거",
    ServerEvent.UNREACHABLE: "❌ 연결 실패",
    ServerEvent.REACHABLE: "✅ 연결 복구",
}
CONTAINER_EVENTS = {
    ContainerEvent.ADDED: "🆕 추가",
    ContainerEvent.REMOVED: "➖ 제거",
    ContainerEvent.RESTARTED: "🔄 재시작",
    ContainerEvent.IMAGE: "이미지 변경",
    ContainerEvent.STATE: "상태 변경",
}
PORT_EVENTS = {PortEvent.OPENED: "🔓 열림", PortEvent.CLOSED: "🔒 닫힘"}
FINDING_STATES = {
    FindingState.NEW: "🆕 신규",
    FindingState.RESOLVED: "✅ 해결",
    FindingState.OPEN: "⏳ 지속",
    FindingState.UNKNOWN: "❔ 확인 불가",
}
VANISHED = "➖ 사라짐"
ABSENT = "없음"


def size(value: int | None) -> str:
    """Bytes as the rest of the report writes them (``units.size``): 1.5GB, 425MB."""
    return "-" if value is None else units.size(value)


def when(at: datetime | str | None, zone: tzinfo | None = None) -> str:
    """``2025-12-20 03:00`` in the report's time zone (``local_time``)."""
    if at is None:
        return "-"
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return local_time(moment, zone).strftime("%Y-%m-%d %H:%M")


def resource_item(change: ResourceChange) -> str:
    return "메모리" if change.kind == ResourceKind.MEMORY else f"디스크({change.subject})"


def percent(pct: float | None, used: int | None) -> str:
    return ABSENT if pct is None else f"{pct:.0f}% ({size(used)})"


def delta(change: ResourceChange) -> str:
    if change.delta_pct is None:
        return "추가" if change.before_pct is None else "제거"
    return f"{change.delta_pct:+.0f}%p"


def server_line(change: ServerChange) -> str:
    line = f"{SERVER_EVENTS[change.event]}: {change.server}"
    if change.event == ServerEvent.UNREACHABLE and change.error:
        line += f" ({change.error})"
    elif change.role and change.event in (ServerEvent.ADDED, ServerEvent.REMOVED):
        line += f" ({change.role})"
    return line


def resource_line(change: ResourceChange) -> str:
    was = percent(change.before_pct, change.before_used)
    now = percent(change.after_pct, change.after_used)
    return f"{change.server} {resource_item(change)} 사용률 {was} → {now} ({delta(change)})"


def container_detail(change: ContainerChange, zone: tzinfo | None = None) -> str:
    if change.event == ContainerEvent.RESTARTED:
        return f"{when(change.before, zone)} → {when(change.after, zone)}"
    return f"{change.before or ABSENT} → {change.after or ABSENT}"


def container_line(change: ContainerChange, zone: tzinfo | None = None) -> str:
    what = CONTAINER_EVENTS[change.event]
    return f"{change.server} 컨테이너 {change.name} {what}: {container_detail(change, zone)}"


def unit_name(unit: str) -> str:
    """A unit as the report names it: without ".service" (other kinds keep theirs)."""
    return unit.removesuffix(".service")


def finding_state(change: FindingChange) -> str:
    """The 상태 cell: a Low observation that went away is not a fix to celebrate."""
    if change.state == FindingState.RESOLVED and change.finding.priority == Priority.LOW:
        return VANISHED
    return FINDING_STATES[change.state]


def service_line(change: ServiceChange) -> str:
    return (
        f"{change.server} 서비스 {unit_name(change.unit)}: "
        f"{change.before or ABSENT} → {change.after or ABSENT}"
    )


def port_line(change: PortChange) -> str:
    process = f" ({change.process})" if change.process else ""
    return (
        f"{change.server} 포트 {change.port}/{change.protocol} {change.address} "
        f"{PORT_EVENTS[change.event]}{process}"
    )


def _service_failed(change: ServiceChange) -> bool:
    return (change.after or "").startswith("failed") or change.after is None


def summary_lines(diff: SnapshotDiff, zone: tzinfo | None = None) -> list[str]:
    """The changes as Korean lines, most important first; ``[NO_CHANGES]`` when none.
    Times are in ``zone``, the report's time zone.

    Order: servers lost, new High findings, servers removed or added or back, failed
    services, resource jumps, containers, other services, ports, other new findings,
    resolved findings, findings the new snapshot could not check. Findings still open are
    not changes and are not listed.
    """
    if not diff.changed:
        return [NO_CHANGES]
    order = [ServerEvent.UNREACHABLE, ServerEvent.REMOVED, ServerEvent.ADDED, ServerEvent.REACHABLE]
    servers = sorted(diff.servers, key=lambda c: order.index(c.event))
    new = diff.findings_in(FindingState.NEW)
    lines = [server_line(c) for c in servers if c.event == ServerEvent.UNREACHABLE]
    lines += [
        f"🆕 High 발견 사항: {f.finding.server} {f.finding.title}"
        for f in new
        if f.finding.priority == Priority.HIGH
    ]
    lines += [server_line(c) for c in servers if c.event != ServerEvent.UNREACHABLE]
    lines += [service_line(c) for c in diff.services if _service_failed(c)]
    lines += [resource_line(c) for c in diff.resources]
    rank = [
        ContainerEvent.REMOVED,
        ContainerEvent.STATE,
        ContainerEvent.IMAGE,
        ContainerEvent.RESTARTED,
        ContainerEvent.ADDED,
    ]
    containers = sorted(diff.containers, key=lambda c: rank.index(c.event))
    lines += [container_line(c, zone) for c in containers]
    lines += [service_line(c) for c in diff.services if not _service_failed(c)]
    lines += [port_line(c) for c in diff.ports]
    lines += [
        f"🆕 {f.finding.priority.value} 발견 사항: {f.finding.server} {f.finding.title}"
        for f in new
        if f.finding.priority != Priority.HIGH
    ]
    # A removed server's findings: its removal is already the line to read.
    resolved = [f for f in diff.findings_in(FindingState.RESOLVED) if not f.server_gone]
    lines += [
        f"{finding_state(f)}: {f.finding.server} {f.finding.title}"
        for f in resolved
        if f.finding.priority != Priority.LOW
    ]
    lost = {c.server for c in diff.servers if c.event == ServerEvent.UNREACHABLE}
    lines += [
        f"{FINDING_STATES[FindingState.UNKNOWN]}: {f.finding.server} {f.finding.title} ({f.unseen})"
        for f in diff.findings_in(FindingState.UNKNOWN)
        if f.finding.server not in lost  # the lost connection is already the line to read
        and f.finding.priority != Priority.LOW
    ]
    lines += [
        f"{VANISHED} (Low): {f.finding.server} {f.finding.title}"
        for f in resolved
        if f.finding.priority == Priority.LOW
    ]
    return lines
