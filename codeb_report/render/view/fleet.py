"""The report's shape for a large fleet: summaries by role, details only where needed.

Up to ``detail_threshold`` servers (20 by default, ``[report] detail_threshold``) every
server gets its row in section 1 and its block in section 2, as in the reference report.
Above it, a page per server would bury the few servers that need attention, so:

* section 1 counts the servers of each role by state and names the worst figures;
* section 2 details only the servers that need attention (a High or Medium finding, or
  anything not ✅: connection, a figure, a container, a service, a failed probe); every
  other server is one row of a compact table, all of them in the order of their names;
* the findings section groups the findings of one rule into one row with its servers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from codeb_report.analysis.conclusion import name_ranges
from codeb_report.analysis.model import Finding, Level, Priority, Span, Text
from codeb_report.analysis.status import disk_share, load_per_cpu, share
from codeb_report.render.view.server import ServerView
from codeb_report.snapshot import Server

NO_ROLE = "역할 없음"  # the row of servers given no role, in the summary by role

_RANK = {Level.OK: 0, Level.WARN: 1, Level.CRIT: 2}
_FINDING_LEVEL = {Priority.HIGH: Level.CRIT, Priority.MEDIUM: Level.WARN, Priority.LOW: Level.OK}
# A grouped finding quotes this many servers' own descriptions and names this many
# servers; all of them are detailed in section 2.
QUOTED_PER_GROUP = 3
NAMED_PER_GROUP = 30


def worst(levels: Iterable[Level]) -> Level:
    return max(levels, key=_RANK.__getitem__, default=Level.OK)


def server_level(view: ServerView, findings: list[Finding]) -> Level:
    """The server's state in section 1's counts: the worst of its connection, its judged
    figures, containers and services, its failed probes and its findings' priorities."""
    a = view.analysis
    failed_probe = any(g.failed for gaps in view.gaps.values() for g in gaps)
    return worst(
        [
            a.state.level,
            *(r.status.level for r in a.resources),
            *(s.level for s in a.container_states.values()),
            *(s.level for s in a.service_states.values()),
            *(_FINDING_LEVEL[f.priority] for f in findings),
            Level.WARN if failed_probe else Level.OK,
        ]
    )


@dataclass(frozen=True)
class Figure:
    """One measured figure with the server (and filesystem) it belongs to."""

    value: float
    server: str
    where: str | None = None  # the mount point of a disk figure

    def text(self, unit: str = "%") -> str:
        shown = f"{self.value:.0f}{unit}" if unit == "%" else f"{self.value:.2f}"
        place = f"{self.server} {self.where}" if self.where else self.server
        return f"{shown} ({place})"


def memory_figure(server: Server) -> Figure | None:
    mem = server.memory
    if not server.reachable or mem is None or not mem.total:
        return None
    return Figure(share(mem.used, mem.total), server.name)


def disk_figure(server: Server) -> Figure | None:
    """The fullest filesystem of the server."""
    if not server.reachable or not server.filesystems:
        return None
    fs = max(server.filesystems, key=disk_share)
    return Figure(disk_share(fs), server.name, fs.mount)


def load_figure(server: Server) -> Figure | None:
    """The 5-minute load per CPU, the figure the load rule judges."""
    per_cpu = load_per_cpu(server) if server.reachable else None
    return None if per_cpu is None else Figure(per_cpu, server.name)


def _max(figures: Iterable[Figure | None]) -> Figure | None:
    return max((f for f in figures if f is not None), key=lambda f: f.value, default=None)


@dataclass
class RoleSummary:
    """One row of section 1's 역할별 현황."""

    role: str
    servers: int = 0
    ok: int = 0
    warn: int = 0
    crit: int = 0
    unreachable: int = 0
    memory: Figure | None = None
    disk: Figure | None = None
    load: Figure | None = None

    def add(self, server: Server, level: Level) -> None:
        self.servers += 1
        self.ok += level == Level.OK
        self.warn += level == Level.WARN
        self.crit += level == Level.CRIT
        self.unreachable += not server.reachable
        self.memory = _max([self.memory, memory_figure(server)])
        self.disk = _max([self.disk, disk_figure(server)])
        self.load = _max([self.load, load_figure(server)])


@dataclass(frozen=True)
class CompactRow:
    """A server with nothing to report, as one row of section 2's last table."""

    name: str
    address: str
    role: str
    memory: str
    disk: str
    load: str
    uptime: str


@dataclass
class FindingGroup:
    """The findings of one rule and priority, as one row of the findings section."""

    priority: Priority
    rule: str
    title: str
    icon: str | None
    action: str
    servers: list[str] = field(default_factory=list)
    descriptions: list[tuple[str, Text]] = field(default_factory=list)  # (server, its text)
    order: list[str] = field(default_factory=list)  # the fleet's server names, in its order

    @property
    def server_names(self) -> str:
        """``n3``, or ``n3-n5, n9 (4대)``; past NAMED_PER_GROUP servers the rest are counted."""
        if len(self.servers) == 1:
            return self.servers[0]
        named = name_ranges(self.servers[:NAMED_PER_GROUP], self.order)
        rest = len(self.servers) - NAMED_PER_GROUP
        more = f" 외 {rest}대" if rest > 0 else ""
        return f"{named}{more} ({len(self.servers)}대)"

    @property
    def description(self) -> Text:
        """One text when every server's is the same, else the first few, each named."""
        texts = [d for _, d in self.descriptions]
        if all(t == texts[0] for t in texts):
            return texts[0]
        parts: Text = []
        for server, text in self.descriptions[:QUOTED_PER_GROUP]:
            parts += [*([Span(text="; ")] if parts else []), Span(text=f"{server}: "), *text]
        rest = len(self.descriptions) - QUOTED_PER_GROUP
        if rest > 0:
            parts.append(Span(text=f" 외 {rest}대"))
        return parts


_WORDS = {Level.OK: "정상", Level.WARN: "주의", Level.CRIT: "위험"}


@dataclass(frozen=True)
class AttentionRow:
    """A server needing attention, as one row of section 1's list of them."""

    view: ServerView
    state: str  # "❌ 연결 실패: …" for an unreachable server, else "⚠️ 주의"
    findings: str  # "High 1 · Medium 2", or "-"


@dataclass
class FleetShape:
    """What the large-fleet report shows instead of one row and one block per server."""

    threshold: int
    levels: dict[str, Level]
    roles: list[RoleSummary]
    detailed: list[ServerView]
    compact: list[CompactRow]
    attention: list[AttentionRow] = field(default_factory=list)

    @property
    def total(self) -> RoleSummary:
        whole = RoleSummary("전체")
        for r in self.roles:
            whole.servers += r.servers
            whole.ok += r.ok
            whole.warn += r.warn
            whole.crit += r.crit
            whole.unreachable += r.unreachable
            whole.memory = _max([whole.memory, r.memory])
            whole.disk = _max([whole.disk, r.disk])
            whole.load = _max([whole.load, r.load])
        return whole


def needs_detail(level: Level) -> bool:
    """Anything not ✅, or a High or Medium finding. A Low observation alone (최근 재부팅,
    a smaller server than the fleet's usual) does not: it stays in its grouped row of the
    findings section, or a fleet of mixed sizes would detail a third of its servers."""
    return level != Level.OK


def natural(name: str) -> tuple[object, ...]:
    """node-2 before node-10: a large fleet's lists are read by name."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name))


def fleet_shape(servers: list[ServerView], findings: list[Finding], threshold: int) -> FleetShape:
    by_server: dict[str, list[Finding]] = {}
    for f in findings:
        by_server.setdefault(f.server, []).append(f)
    levels: dict[str, Level] = {}
    roles: dict[str, RoleSummary] = {}
    detailed: list[ServerView] = []
    compact: list[CompactRow] = []
    for view in sorted(servers, key=lambda v: natural(v.server.name)):
        own = by_server.get(view.server.name, [])
        level = levels[view.server.name] = server_level(view, own)
        role = view.role or NO_ROLE
        roles.setdefault(role, RoleSummary(role)).add(view.server, level)
        if needs_detail(level):
            detailed.append(view)
        else:
            compact.append(compact_row(view))
    attention = [attention_row(v, levels[v.server.name], by_server) for v in detailed]
    return FleetShape(threshold, levels, list(roles.values()), detailed, compact, attention)


def attention_row(
    view: ServerView, level: Level, by_server: dict[str, list[Finding]]
) -> AttentionRow:
    own = by_server.get(view.server.name, [])
    counts = [(p, sum(f.priority == p for f in own)) for p in Priority]
    found = " · ".join(f"{p.value} {n}" for p, n in counts if n) or "-"
    state = f"{level.icon} {_WORDS[level]}"
    if not view.server.reachable:
        state = view.analysis.state.label
    return AttentionRow(view, state, found)


def _pct(figure: Figure | None) -> str:
    return "-" if figure is None else f"{figure.value:.0f}%"


def compact_row(view: ServerView) -> CompactRow:
    server = view.server
    load = load_figure(server)
    return CompactRow(
        name=server.name,
        address=server.address or server.host,
        role=view.role or "-",
        memory=_pct(memory_figure(server)),
        disk=_pct(disk_figure(server)),
        load="-" if load is None else f"{load.value:.2f}",
        uptime=view.analysis.uptime or "-",
    )


def grouped_findings(findings: list[Finding], order: list[str]) -> list[FindingGroup]:
    """Findings of the same rule, priority and title as one group each, in their first
    order. A title that names its server ("n4 스펙") is grouped without the name."""
    groups: dict[tuple[Priority, str, str], FindingGroup] = {}
    for f in findings:
        title = f.title.removeprefix(f"{f.server} ")
        key = (f.priority, f.rule, title)
        group = groups.get(key)
        if group is None:
            group = FindingGroup(f.priority, f.rule, title, f.icon, f.action, order=order)
            groups[key] = group
        if f.server not in group.servers:
            group.servers.append(f.server)
        group.descriptions.append((f.server, f.description))
    return list(groups.values())
