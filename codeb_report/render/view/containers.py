"""Section 2's container rows: state, published ports and uptime of each container."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from codeb_report.analysis.model import ServerAnalysis, Status
from codeb_report.analysis.status import container_status
from codeb_report.render.view.since import since
from codeb_report.snapshot import Container


@dataclass(frozen=True)
class ContainerRow:
    name: str
    runtime: str
    ports: str
    status: Status
    uptime: str | None


def running(container: Container) -> bool:
    return container.state.lower() in ("running", "up")


def container_row(c: Container, judged: ServerAnalysis, at: datetime) -> ContainerRow:
    status = judged.container_states.get(c.name) or container_status(c)
    ports = ", ".join(
        f"{p.host_port}→{p.container_port}" if p.host_port else str(p.container_port)
        for p in c.ports
    )
    uptime = since(c.started_at, at) if running(c) else None
    return ContainerRow(c.name, c.runtime, ports, status, uptime)
