"""Semantic diff of two snapshots: what an operator would call a change, typed.

Details of a server are compared only where both snapshots saw them: a server that was
unreachable, or a probe that failed, on either side says nothing about its containers,
so they are listed as not compared instead of as removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from enum import StrEnum

from pydantic import BaseModel, Field

from codeb_report.analysis.model import Finding, Priority
from codeb_report.history.evidence import unseen_reason
from codeb_report.history.settings import DiffSettings
from codeb_report.snapshot import ProbeStatus, Server, Snapshot

# Probe names whose failure leaves a section unknown (names used by codeb_report.probes).
SECTION_PROBES: dict[str, frozenset[str]] = {
    "memory": frozenset({"memory"}),
    "disk": frozenset({"filesystems"}),
    "containers": frozenset({"docker", "podman"}),
    "services": frozenset({"services"}),
    "ports": frozenset({"ports"}),
}


class ServerEvent(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    UNREACHABLE = "unreachable"  # was collected, now is not
    REACHABLE = "reachable"  # was not, now is


class ServerChange(BaseModel):
    server: str
    event: ServerEvent
    role: str | None = None
    error: str | None = None  # why it is unreachable now


class ResourceKind(StrEnum):
    MEMORY = "memory"
    DISK = "disk"


class ResourceChange(BaseModel):
    """A use figure that moved by at least its step; ``None`` where the item is new or gone."""

    server: str
    kind: ResourceKind
    subject: str  # "memory", or a filesystem's mount point
    before_pct: float | None
    after_pct: float | None
    before_used: int | None
    after_used: int | None
    after_size: int | None = None

    @property
    def delta_pct(self) -> float | None:
        if self.before_pct is None or self.after_pct is None:
            return None
        return self.after_pct - self.before_pct


class ContainerEvent(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    RESTARTED = "restarted"  # start time changed
    IMAGE = "image"  # image changed
    STATE = "state"  # e.g. running -> exited


class ContainerChange(BaseModel):
    server: str
    runtime: str
    name: str
    event: ContainerEvent
    before: str | None = None
    after: str | None = None


class ServiceChange(BaseModel):
    """``before``/``after`` read ``active/running``; ``None`` where the unit is new or gone."""

    server: str
    unit: str
    before: str | None
    after: str | None


class PortEvent(StrEnum):
    OPENED = "opened"
    CLOSED = "closed"


class PortChange(BaseModel):
    server: str
    event: PortEvent
    protocol: str
    address: str
    port: int
    process: str | None = None


class FindingState(StrEnum):
    NEW = "new"
    RESOLVED = "resolved"
    OPEN = "open"  # present on both sides
    UNKNOWN = "unknown"  # gone, but the new snapshot did not collect what it is judged on


class FindingChange(BaseModel):
    state: FindingState
    finding: Finding
    days_open: int | None = None  # for new and still open findings
    server_gone: bool = False  # resolved only because its server left the inventory
    unseen: str | None = None  # for UNKNOWN: why the new snapshot cannot tell

    @property
    def key(self) -> tuple[str, str]:
        return (self.finding.rule, self.finding.server)


class NotCompared(BaseModel):
    """A section of a server that one side could not see; its changes are unknown."""

    server: str
    section: str
    reason: str


class SnapshotDiff(BaseModel):
    old_at: datetime
    new_at: datetime
    servers: list[ServerChange] = Field(default_factory=list)
    resources: list[ResourceChange] = Field(default_factory=list)
    containers: list[ContainerChange] = Field(default_factory=list)
    services: list[ServiceChange] = Field(default_factory=list)
    ports: list[PortChange] = Field(default_factory=list)
    findings: list[FindingChange] = Field(default_factory=list)
    not_compared: list[NotCompared] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything differs; findings that merely stay open are not a change."""
        moved = self.servers or self.resources or self.containers or self.services or self.ports
        return bool(moved) or any(f.state != FindingState.OPEN for f in self.findings)

    def findings_in(self, state: FindingState) -> list[FindingChange]:
        return [f for f in self.findings if f.state == state]


def diff_snapshots(
    old: Snapshot,
    new: Snapshot,
    settings: DiffSettings | None = None,
    *,
    old_findings: Iterable[Finding] = (),
    new_findings: Iterable[Finding] = (),
    first_seen: dict[tuple[str, str], datetime] | None = None,
    zone: tzinfo | None = None,
) -> SnapshotDiff:
    """Compare ``old`` with ``new``.

    Findings are keyed by (rule, server). ``first_seen`` dates a finding that has been open
    since before ``old``; without it a finding open on both sides counts from ``old``. A
    finding missing from ``old`` but dated there is still open (``old`` could not see it).
    Ages are calendar days in ``zone`` (default: ``new``'s own).
    """
    settings = settings or DiffSettings()
    result = SnapshotDiff(old_at=old.collected_at, new_at=new.collected_at)
    before = {s.name: s for s in old.servers}
    after = {s.name: s for s in new.servers}
    for name in sorted(before.keys() | after.keys()):
        _diff_server(result, before.get(name), after.get(name), settings)
    result.findings = diff_findings(
        old_findings, new_findings, old.collected_at, new.collected_at, first_seen or {}, zone
    )
    for change in result.findings:
        if change.state != FindingState.RESOLVED:
            continue
        change.server_gone = change.finding.server in before.keys() - after.keys()
        reason = unseen_reason(change.finding.rule, change.finding.server, old, new)
        if reason and not change.server_gone:
            change.state, change.unseen = FindingState.UNKNOWN, reason
    return result


def _diff_server(
    result: SnapshotDiff, old: Server | None, new: Server | None, settings: DiffSettings
) -> None:
    if old is None and new is not None:
        result.servers.append(
            ServerChange(server=new.name, event=ServerEvent.ADDED, role=new.role, error=new.error)
        )
        return
    if new is None and old is not None:
        result.servers.append(
            ServerChange(server=old.name, event=ServerEvent.REMOVED, role=old.role)
        )
        return
    assert old is not None and new is not None
    if old.reachable != new.reachable:
        event = ServerEvent.REACHABLE if new.reachable else ServerEvent.UNREACHABLE
        result.servers.append(
            ServerChange(server=new.name, event=event, role=new.role, error=new.error)
        )
    if not (old.reachable and new.reachable):
        side = "이전" if not old.reachable else "현재"
        result.not_compared.append(
            NotCompared(server=new.name, section="all", reason=f"{side} 스냅샷에서 연결 실패")
        )
        return
    for section, compare in _SECTIONS.items():
        reason = _unseen(old, new, section)
        if reason:
            result.not_compared.append(NotCompared(server=new.name, section=section, reason=reason))
        else:
            compare(result, old, new, settings)


def _unseen(old: Server, new: Server, section: str) -> str | None:
    """Why ``section`` cannot be compared: a relevant probe failed on one side."""
    for side, server in (("이전", old), ("현재", new)):
        for outcome in server.probes:
            if outcome.probe in SECTION_PROBES[section] and outcome.status == ProbeStatus.FAILED:
                return f"{side} 스냅샷에서 {outcome.probe} 수집 실패"
    return None


def _pct(used: int, whole: int) -> float | None:
    return used * 100.0 / whole if whole > 0 else None


def _memory(result: SnapshotDiff, old: Server, new: Server, settings: DiffSettings) -> None:
    if old.memory is None or new.memory is None:
        return
    a, b = _pct(old.memory.used, old.memory.total), _pct(new.memory.used, new.memory.total)
    if a is not None and b is not None and abs(b - a) >= settings.memory_step:
        result.resources.append(
            ResourceChange(
                server=new.name,
                kind=ResourceKind.MEMORY,
                subject="memory",
                before_pct=a,
                after_pct=b,
                before_used=old.memory.used,
                after_used=new.memory.used,
                after_size=new.memory.total,
            )
        )


def _disk(result: SnapshotDiff, old: Server, new: Server, settings: DiffSettings) -> None:
    # Use% as df shows it: used / (used + available), so reserved blocks do not count.
    before = {f.mount: f for f in old.filesystems}
    after = {f.mount: f for f in new.filesystems}
    for mount in sorted(before.keys() | after.keys()):
        a, b = before.get(mount), after.get(mount)
        pa = _pct(a.used, a.used + a.available) if a else None
        pb = _pct(b.used, b.used + b.available) if b else None
        if pa is not None and pb is not None and abs(pb - pa) < settings.disk_step:
            continue
        result.resources.append(
            ResourceChange(
                server=new.name,
                kind=ResourceKind.DISK,
                subject=mount,
                before_pct=pa,
                after_pct=pb,
                before_used=a.used if a else None,
                after_used=b.used if b else None,
                after_size=b.size if b else None,
            )
        )


def _containers(result: SnapshotDiff, old: Server, new: Server, _: DiffSettings) -> None:
    before = {(c.runtime, c.name): c for c in old.containers}
    after = {(c.runtime, c.name): c for c in new.containers}
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)

        def add(event: ContainerEvent, was: str | None, now: str | None, key=key) -> None:
            result.containers.append(
                ContainerChange(
                    server=new.name, runtime=key[0], name=key[1], event=event, before=was, after=now
                )
            )

        if a is None and b is not None:
            add(ContainerEvent.ADDED, None, b.image)
        elif b is None and a is not None:
            add(ContainerEvent.REMOVED, a.image, None)
        elif a is not None and b is not None:
            if a.image != b.image:
                add(ContainerEvent.IMAGE, a.image, b.image)
            if a.state != b.state:
                add(ContainerEvent.STATE, a.state, b.state)
            if a.started_at and b.started_at and a.started_at != b.started_at:
                add(ContainerEvent.RESTARTED, a.started_at.isoformat(), b.started_at.isoformat())


def _state(unit_active: str, unit_sub: str) -> str:
    return f"{unit_active}/{unit_sub}"


def _services(result: SnapshotDiff, old: Server, new: Server, _: DiffSettings) -> None:
    before = {u.unit: _state(u.active, u.sub) for u in old.services}
    after = {u.unit: _state(u.active, u.sub) for u in new.services}
    for unit in sorted(before.keys() | after.keys()):
        if before.get(unit) != after.get(unit):
            result.services.append(
                ServiceChange(
                    server=new.name, unit=unit, before=before.get(unit), after=after.get(unit)
                )
            )


def _ports(result: SnapshotDiff, old: Server, new: Server, _: DiffSettings) -> None:
    before = {(p.protocol, p.port, p.address): p for p in old.ports}
    after = {(p.protocol, p.port, p.address): p for p in new.ports}
    for key in sorted(before.keys() | after.keys()):
        if (key in before) == (key in after):
            continue
        port = after.get(key) or before[key]
        event = PortEvent.OPENED if key in after else PortEvent.CLOSED
        result.ports.append(
            PortChange(
                server=new.name,
                event=event,
                protocol=port.protocol,
                address=port.address,
                port=port.port,
                process=port.process,
            )
        )


_SECTIONS = {
    "memory": _memory,
    "disk": _disk,
    "containers": _containers,
    "services": _services,
    "ports": _ports,
}


def days_between(since: datetime, until: datetime, zone: tzinfo | None = None) -> int | None:
    """Calendar days from ``since`` to ``until`` in ``zone``: a finding seen last night is
    1 day old whether tonight's collection ran a minute earlier or later. None when
    ``until`` is the earlier one (snapshots given in the wrong order): no negative ages."""
    zone = zone or until.tzinfo
    days = (until.astimezone(zone).date() - since.astimezone(zone).date()).days
    return days if days >= 0 and until >= since else None


def diff_findings(
    old: Iterable[Finding],
    new: Iterable[Finding],
    old_at: datetime,
    new_at: datetime,
    first_seen: dict[tuple[str, str], datetime],
    zone: tzinfo | None = None,
) -> list[FindingChange]:
    """New, resolved and still open findings, keyed by (rule, server), most urgent first."""
    before = {(f.rule, f.server): f for f in old}
    after = {(f.rule, f.server): f for f in new}
    changes = []
    for key, finding in after.items():
        if key in before or key in first_seen:
            since = first_seen.get(key, old_at)
            since = min(since, old_at) if key in before else since
            changes.append(
                FindingChange(
                    state=FindingState.OPEN,
                    finding=finding,
                    days_open=days_between(since, new_at, zone),
                )
            )
        else:
            changes.append(FindingChange(state=FindingState.NEW, finding=finding, days_open=0))
    for key, finding in before.items():
        if key not in after:
            changes.append(FindingChange(state=FindingState.RESOLVED, finding=finding))
    order = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}
    return sorted(changes, key=lambda c: (order[c.finding.priority], c.key))
