"""Section 2's view of one server: its heading and every block of rows, joined."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from codeb_report.analysis.model import Level, ServerAnalysis
from codeb_report.analysis.reasons import Reason, connection_reason
from codeb_report.analysis.status import server_state
from codeb_report.render.view.backups import BackupRow, backup_row
from codeb_report.render.view.centrifugo import CentrifugoView, centrifugo_view
from codeb_report.render.view.containers import ContainerRow, container_row, running
from codeb_report.render.view.databases import DatabaseRow, database_rows
from codeb_report.render.view.gaps import Gap, gaps_by_section
from codeb_report.render.view.options import RenderOptions
from codeb_report.render.view.ports import PortRow, port_rows
from codeb_report.render.view.services import ServiceRow, service_rows
from codeb_report.snapshot import Server


@dataclass
class ServerView:
    server: Server
    analysis: ServerAnalysis
    hostname: str | None  # as the server says it, else the configured name; never an address
    location: str  # address, or host when no address is known
    heading: str  # the role as section 2's heading says it: "Storage Server"
    role: str | None  # the 역할 column; None for a server given no role
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
    # Rows left out of a table past MAX_ROWS, by table: containers, stopped, services, ports.
    omitted: dict[str, int] = field(default_factory=dict)


# Rows of one table of one server, at most. A server may list up to 10,000 containers,
# services or ports (codeb_report.bounds): hundreds of pages. The rows that need
# attention come first; the others are counted, and snapshot.json has every one.
MAX_ROWS = 200
Row = TypeVar("Row")


def first_rows(rows: list[Row], fine: Callable[[Row], bool]) -> tuple[list[Row], int]:
    """``rows`` as they are up to MAX_ROWS; past it the first MAX_ROWS with the ones
    not ``fine`` first (in their order), and how many were left out."""
    if len(rows) <= MAX_ROWS:
        return rows, 0
    return sorted(rows, key=fine)[:MAX_ROWS], len(rows) - MAX_ROWS


def _fine(row: ContainerRow | ServiceRow) -> bool:
    return row.status.level == Level.OK


# The role a configuration gives a server that names none (config.ServerConfig.role).
DEFAULT_ROLE = "server"


def shown_role(role: str) -> str | None:
    """The 역할 column: a server given no role has none to show (not the word "server")."""
    return None if role.strip().lower() in ("", DEFAULT_ROLE) else role


def heading(role: str) -> str:
    """Section 2 names a server by its role as a noun: "Storage (DB)" -> "Storage Server",
    "Streaming" -> "Streaming Server", "App Server" stays; Korean roles get 서버, and a
    server without a role is simply 서버."""
    base = re.sub(r"\s*\([^)]*\)\s*$", "", role).strip() or role.strip()
    if not base or shown_role(base) is None:
        return "서버"
    korean = any("\uac00" <= ch <= "\ud7a3" for ch in base)
    if korean:
        return base if base.endswith("서버") else f"{base} 서버"
    return base if base.lower().endswith("server") else f"{base} Server"


def _name_of(host: str) -> str | None:
    """The 호스트명 of a server not collected: the name it was reached by, unless that is an
    address (which the IP column shows; as 호스트명 it would pass for the server's name)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host
    return None


def unjudged(server: Server) -> ServerAnalysis:
    """A server the analysis left out still gets its row; its state comes from the snapshot."""
    return ServerAnalysis(name=server.name, state=server_state(server))


def server_view(
    server: Server, judged: ServerAnalysis, at: datetime, options: RenderOptions
) -> ServerView:
    hostname = server.system.hostname if server.system else _name_of(server.host)
    location = server.address or server.host
    view = ServerView(
        server, judged, hostname, location, heading(server.role), shown_role(server.role)
    )
    if not server.reachable:
        view.failure = connection_reason(server.error) if server.error else None
        return view
    rows = [container_row(c, judged, at) for c in server.containers]
    up = [r for r, c in zip(rows, server.containers, strict=True) if running(c)]
    down = [r for r, c in zip(rows, server.containers, strict=True) if not running(c)]
    view.containers, view.omitted["containers"] = first_rows(up, _fine)
    view.stopped, view.omitted["stopped"] = first_rows(down, _fine)
    names = {c.name for c in server.containers}
    view.missing_containers = [
        w.name
        for w in server.watched
        if w.kind == "container" and w.present is False and w.name not in names
    ]
    view.services, view.omitted["services"] = first_rows(
        service_rows(server, judged, options), _fine
    )
    view.ports, view.omitted["ports"] = first_rows(port_rows(server, options), lambda _: True)
    view.centrifugo = centrifugo_view(server, at)
    view.databases = database_rows(server)
    view.backups = [backup_row(b, at) for b in server.backups]
    view.gaps = gaps_by_section(server.probes)
    if server.containers:
        # Found through one runtime: the other one skipped (not installed, or docker being
        # podman-docker's) is no news; only a failure is.
        kept = [g for g in view.gaps.get("containers", []) if g.failed]
        view.gaps["containers"] = kept
    return view
