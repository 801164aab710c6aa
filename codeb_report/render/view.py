"""The report's rows: snapshot facts joined with the analysis' judgements, ready to print.

Templates only lay these out; deciding what a row holds (which ports belong to which
container, how long a container has been up) happens here, once for every format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from codeb_report import __version__, units
from codeb_report.analysis.model import (
    Analysis,
    Finding,
    Level,
    Priority,
    ServerAnalysis,
    Status,
)
from codeb_report.analysis.reasons import Reason, connection_reason, probe_label, probe_reason
from codeb_report.analysis.status import container_status, server_state, service_status
from codeb_report.outputdir import DEFAULT_TIMEZONE
from codeb_report.snapshot import (
    BackupDir,
    Container,
    ListeningPort,
    ProbeOutcome,
    ProbeStatus,
    Server,
    Service,
    Snapshot,
    Watched,
)

if TYPE_CHECKING:
    from codeb_report.config import Config

# Centrifugo's configuration names its engine in lower case; the report writes the product.
CENTRIFUGO_ENGINES = {"memory": "Memory", "redis": "Redis", "nats": "NATS"}

# Ports whose service is known without asking the process; shown when nothing better is.
WELL_KNOWN_PORTS = {
    22: "SSH",
    25: "SMTP",
    53: "DNS",
    80: "HTTP",
    443: "HTTPS",
    3306: "MySQL",
    5432: "PostgreSQL",
    6379: "Redis",
    9090: "Prometheus",
    9100: "node_exporter",
}

# Which probes feed which section, so a skipped probe is reported where its rows would be.
# Probe names are matched before their first dot: "centrifugo.unit" feeds "centrifugo".
SECTION_PROBES = {
    "system": ("system", "memory", "filesystems"),
    "containers": ("docker", "podman", "watched.containers"),
    "services": ("services", "watched.units"),
    "ports": ("ports",),
    "centrifugo": ("centrifugo",),
    "databases": ("postgresql", "redis"),
    "backups": ("backups",),
}


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

    @classmethod
    def from_config(cls, config: Config) -> RenderOptions:
        d = config.descriptions
        return cls(
            title=config.report.title,
            zone=config.report.zone(),
            ports=dict(d.ports),
            units=dict(d.units),
            containers=dict(d.containers),
        )


@dataclass(frozen=True)
class ContainerRow:
    name: str
    runtime: str
    ports: str
    status: Status
    uptime: str | None


@dataclass(frozen=True)
class ServiceRow:
    unit: str
    status: Status
    description: str | None


@dataclass(frozen=True)
class PortRow:
    port: int
    addresses: str
    process: str | None
    described: str | None  # what the configuration calls it: said first
    container: str | None
    service: str | None  # Centrifugo or a well-known service

    @property
    def description(self) -> str | None:
        """The 설명 column: the configuration's words, else the container publishing the
        port (by name, as configured descriptions name containers), else the service.
        Words that only repeat the 프로세스 column say nothing: "docker-proxy | docker-proxy"."""
        process = (self.process or "").lower()
        for words in (self.described, self.container, self.service):
            if words and words.lower() != process:
                return words
        return None


@dataclass(frozen=True)
class CentrifugoView:
    version: str | None
    go_version: str | None
    engine: str | None
    port: int | None
    status: Status
    active_for: str | None
    memory: str | None
    cpu_time: str | None


@dataclass(frozen=True)
class DatabaseRow:
    service: str
    container: str | None
    runtime: str
    status: Status
    auth_required: bool
    version: str | None
    databases: list[str] | None  # "name size", when they could be listed
    connections: str | None  # "12/100"
    memory: str | None
    error: Reason | None

    @property
    def has_details(self) -> bool:
        return any(
            v is not None for v in (self.version, self.databases, self.connections, self.memory)
        ) or bool(self.error)


@dataclass(frozen=True)
class BackupRow:
    path: str
    exists: bool
    files: int
    total_size: str
    newest_file: str | None
    newest_age: str | None
    error: Reason | None


@dataclass(frozen=True)
class Gap:
    """A probe that was skipped or failed, said where its rows would have been."""

    probe: str
    label: str  # what the reader calls it: 시스템 서비스, not services
    failed: bool
    reason: Reason | None
    missing_tool: str | None  # "docker" when the reason is "docker not installed"


@dataclass
class ServerView:
    server: Server
    analysis: ServerAnalysis
    hostname: str
    location: str  # address, or host when no address is known
    heading: str  # the role as section 2's heading says it: "Storage Server"
    failure: Reason | None = None  # why an unreachable server was not collected
    containers: list[ContainerRow] = field(default_factory=list)
    stopped: list[ContainerRow] = field(default_factory=list)
    missing_containers: list[str] = field(default_factory=list)  # watched, but not there
    services: list[ServiceRow] = field(default_factory=list)
    ports: list[PortRow] = field(default_factory=list)
    centrifugo: CentrifugoView | None = None
    databases: list[DatabaseRow] = field(default_factory=list)
    backups: list[BackupRow] = field(default_factory=list)
    gaps: dict[str, list[Gap]] = field(default_factory=dict)  # by section; "other" for the rest


@dataclass
class ReportView:
    title: str
    date: str
    version: str
    servers: list[ServerView]
    analysis: Analysis
    priorities: list[tuple[Priority, list[Finding]]]


DEFAULT_TITLE = "CodeB 서버 인프라 현황 리포트"


def build(
    snapshot: Snapshot, analysis: Analysis, options: RenderOptions | None = None
) -> ReportView:
    options = options or RenderOptions()
    judged = {s.name: s for s in analysis.servers}
    servers = [
        _server(s, judged.get(s.name) or _unjudged(s), snapshot.collected_at, options)
        for s in snapshot.servers
    ]
    # Without a configuration the date is still the fleet's (Asia/Seoul), as the folder's is.
    collected = snapshot.collected_at.astimezone(options.zone or ZoneInfo(DEFAULT_TIMEZONE))
    return ReportView(
        title=options.title or DEFAULT_TITLE,
        date=collected.date().isoformat(),
        version=__version__,
        servers=servers,
        analysis=analysis,
        priorities=[(p, analysis.by_priority(p)) for p in Priority],
    )


def heading(role: str) -> str:
    """Section 2 names a server by its role as a noun: "Storage (DB)" -> "Storage Server",
    "Streaming" -> "Streaming Server", "App Server" stays; Korean roles get 서버."""
    base = re.sub(r"\s*\([^)]*\)\s*$", "", role).strip() or role.strip()
    if not base:
        return "서버"
    korean = any("\uac00" <= ch <= "\ud7a3" for ch in base)
    if korean:
        return base if base.endswith("서버") else f"{base} 서버"
    return base if base.lower().endswith("server") else f"{base} Server"


def _unjudged(server: Server) -> ServerAnalysis:
    """A server the analysis left out still gets its row; its state comes from the snapshot."""
    return ServerAnalysis(name=server.name, state=server_state(server))


def _server(
    server: Server, judged: ServerAnalysis, at: datetime, options: RenderOptions
) -> ServerView:
    hostname = server.system.hostname if server.system else server.host
    view = ServerView(server, judged, hostname, server.address or server.host, heading(server.role))
    if not server.reachable:
        view.failure = connection_reason(server.error) if server.error else None
        return view
    rows = [_container(c, judged, at) for c in server.containers]
    view.containers = [r for r, c in zip(rows, server.containers, strict=True) if _running(c)]
    view.stopped = [r for r, c in zip(rows, server.containers, strict=True) if not _running(c)]
    names = {c.name for c in server.containers}
    view.missing_containers = [
        w.name
        for w in server.watched
        if w.kind == "container" and w.present is False and w.name not in names
    ]
    view.services = _services(server, judged, options)
    view.ports = _ports(server, options)
    view.centrifugo = _centrifugo(server, at)
    view.databases = _databases(server)
    view.backups = [_backup(b, at) for b in server.backups]
    view.gaps = _gaps(server.probes)
    if server.containers:
        # Found through one runtime: the other one skipped (not installed, or docker being
        # podman-docker's) is no news; only a failure is.
        kept = [g for g in view.gaps.get("containers", []) if g.failed]
        view.gaps["containers"] = kept
    return view


def _running(container: Container) -> bool:
    return container.state.lower() in ("running", "up")


def _container(c: Container, judged: ServerAnalysis, at: datetime) -> ContainerRow:
    status = judged.container_states.get(c.name) or container_status(c)
    ports = ", ".join(
        f"{p.host_port}→{p.container_port}" if p.host_port else str(p.container_port)
        for p in c.ports
    )
    uptime = _since(c.started_at, at) if _running(c) else None
    return ContainerRow(c.name, c.runtime, ports, status, uptime)


# Service states worth a row when no units are configured to watch: not the dozens of
# inactive units every machine has.
NOTABLE_STATES = ("active", "activating", "deactivating", "reloading", "failed")


def _services(server: Server, judged: ServerAnalysis, options: RenderOptions) -> list[ServiceRow]:
    """The configured units (and CI runner) when there are any, else every notable unit;
    a failed unit is always shown."""
    watched = [w for w in server.watched if w.kind == "unit"]
    rows = [_watched_unit(w, server, judged, options) for w in watched]
    shown = {w.unit or w.name for w in watched} | {w.name for w in watched}
    for u in server.services:
        if u.unit in shown or u.unit.removesuffix(".service") in shown:
            continue
        if u.active == "failed" or (not watched and u.active in NOTABLE_STATES):
            rows.append(_service(u, judged, options))
    return rows


def _unit_description(unit: str, fallback: str | None, options: RenderOptions) -> str | None:
    short = unit.removesuffix(".service")
    return options.units.get(short) or options.units.get(unit) or fallback


def _service(u: Service, judged: ServerAnalysis, options: RenderOptions) -> ServiceRow:
    status = judged.service_states.get(u.unit) or service_status(u)
    short = u.unit.removesuffix(".service")
    return ServiceRow(short, status, _unit_description(u.unit, u.description, options))


def _watched_unit(
    w: Watched, server: Server, judged: ServerAnalysis, options: RenderOptions
) -> ServiceRow:
    unit = w.unit or w.name
    listed = next((u for u in server.services if u.unit in (unit, f"{w.name}.service")), None)
    if listed is not None and w.present is not False:
        return _service(listed, judged, options)
    if w.present is False:
        status = Status(level=Level.CRIT, word="없음")
    elif w.present is None:
        status = Status(level=Level.WARN, word="확인 불가")
    elif (w.state or "") == "active":
        status = Status(level=Level.OK, word="Active")
    else:
        level = Level.CRIT if w.state == "failed" else Level.WARN
        status = Status(level=level, word=(w.state or "unknown").capitalize())
    error = probe_reason(w.error)
    description = _unit_description(unit, w.description or (error and error.short), options)
    return ServiceRow(unit.removesuffix(".service"), status, description)


def _ports(server: Server, options: RenderOptions) -> list[PortRow]:
    """One row per port and process; IPv4 and IPv6 listeners of the same socket share it."""
    by_container = {p.host_port: c.name for c in server.containers for p in c.ports if p.host_port}
    centrifugo_port = server.centrifugo.port if server.centrifugo else None
    grouped: dict[tuple[int, str | None], list[ListeningPort]] = {}
    for p in server.ports:
        grouped.setdefault((p.port, p.process), []).append(p)
    rows = []
    for (port, process), listeners in sorted(
        grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        service = "Centrifugo" if port == centrifugo_port else WELL_KNOWN_PORTS.get(port)
        addresses = ", ".join(dict.fromkeys(p.address for p in listeners))
        described = options.ports.get(port)
        rows.append(PortRow(port, addresses, process, described, by_container.get(port), service))
    return rows


def _centrifugo(server: Server, at: datetime) -> CentrifugoView | None:
    c = server.centrifugo
    if c is None:
        return None
    active = (c.active or "").lower()
    if active == "active":
        status = Status(level=Level.OK, word="Active")
    else:
        status = Status(level=Level.CRIT, word=(c.active or "unknown").capitalize())
    return CentrifugoView(
        version=c.version,
        go_version=c.go_version,
        engine=CENTRIFUGO_ENGINES.get(c.engine or "", c.engine),
        port=c.port,
        status=status,
        active_for=_since(c.active_since, at, units.span) if active == "active" else None,
        memory=units.size_fine(c.memory_bytes) if c.memory_bytes is not None else None,
        cpu_time=units.cpu_time(c.cpu_seconds) if c.cpu_seconds is not None else None,
    )


def _databases(server: Server) -> list[DatabaseRow]:
    rows = []
    if (pg := server.postgresql) is not None:
        rows.append(
            DatabaseRow(
                "PostgreSQL",
                pg.container,
                _runtime(pg.runtime),
                _db_status(pg.running),
                auth_required=False,
                version=pg.version,
                databases=None
                if pg.databases is None
                else [f"{d.name} {units.size(d.size)}" for d in pg.databases],
                connections=f"{pg.connections}/{pg.max_connections}"
                if pg.connections is not None and pg.max_connections is not None
                else None,
                memory=None,
                error=probe_reason(pg.error),
            )
        )
    if (rd := server.redis) is not None:
        rows.append(
            DatabaseRow(
                "Redis",
                rd.container,
                _runtime(rd.runtime),
                _db_status(rd.running),
                auth_required=bool(rd.auth_required),
                version=rd.version,
                databases=None,
                connections=None,
                memory=units.size_fine(rd.memory_used) if rd.memory_used is not None else None,
                error=probe_reason(rd.error),
            )
        )
    return rows


def _db_status(running: bool) -> Status:
    return (
        Status(level=Level.OK, word="Running")
        if running
        else Status(level=Level.CRIT, word="Stopped")
    )


def _runtime(runtime: str) -> str:
    return "Host" if runtime == "host" else runtime.capitalize()


def _backup(b: BackupDir, at: datetime) -> BackupRow:
    return BackupRow(
        path=b.path,
        exists=b.exists,
        files=b.files,
        total_size=units.size(b.total_size),
        newest_file=b.newest_file,
        newest_age=_since(b.newest_mtime, at),
        error=probe_reason(b.error),
    )


def _since(
    start: datetime | None, at: datetime, words: Callable[[float], str] = units.duration
) -> str | None:
    if start is None:
        return None
    return words(max(0.0, (at - start).total_seconds()))


def _gaps(outcomes: list[ProbeOutcome]) -> dict[str, list[Gap]]:
    gaps: dict[str, list[Gap]] = {}
    for o in outcomes:
        if o.status == ProbeStatus.OK:
            continue
        family = o.probe.split(".")[0]
        section = next(
            (s for s, names in SECTION_PROBES.items() if o.probe in names or family in names),
            "other",
        )
        gaps.setdefault(section, []).append(
            Gap(
                o.probe,
                probe_label(o.probe),
                o.status == ProbeStatus.FAILED,
                probe_reason(o.reason),
                _missing_tool(o.reason),
            )
        )
    return gaps


def _missing_tool(reason: str | None) -> str | None:
    """``docker not installed`` / ``docker: command not found`` -> ``docker``."""
    if not reason:
        return None
    for marker in (" not installed", ": command not found", " not found"):
        if reason.endswith(marker):
            tool = reason.removesuffix(marker).strip()
            return tool if tool and " " not in tool else None
    return None
