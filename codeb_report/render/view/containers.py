"""Section 2's container rows: state, published ports and uptime of each container."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from codeb_report.analysis.model import ServerAnalysis, Status
from codeb_report.analysis.status import container_status
from codeb_report.render.view.since import since
from codeb_report.snapshot import Container, PortMapping


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
    ports = ports_text(c.ports)
    uptime = since(c.started_at, at) if running(c) else None
    return ContainerRow(c.name, c.runtime, ports, status, uptime)


WILDCARDS = {None: 4, "": 4, "0.0.0.0": 4, "::": 6, "[::]": 6}


def _numbers(first: int, count: int) -> str:
    return f"{first}-{first + count - 1}" if count > 1 else str(first)


def mapping_text(p: PortMapping) -> str:
    """``3100→3000``, ``49152-65535→49152-65535/udp``, ``127.0.0.1:6379→6379``, ``5432``."""
    container = _numbers(p.container_port, p.range)
    text = f"{_numbers(p.host_port, p.range)}→{container}" if p.host_port else container
    if p.host_port and p.host_ip not in WILDCARDS:
        address = f"[{p.host_ip}]" if ":" in (p.host_ip or "") else p.host_ip
        text = f"{address}:{text}"
    return text if p.protocol == "tcp" else f"{text}/{p.protocol}"


def ports_text(mappings: list[PortMapping]) -> str:
    """Each mapping once: docker publishes every port on IPv4 and IPv6 alike, so the pair
    is one entry; a port published on one family only says which (``(IPv6)``)."""
    families: dict[str, set[int]] = {}
    for p in mappings:
        family = WILDCARDS.get(p.host_ip) if p.host_port else None
        families.setdefault(mapping_text(p), set()).add(family or 0)
    both_seen = {4, 6} <= set().union(*families.values()) if families else False
    parts = []
    for text, seen in families.items():
        if seen == {6}:
            text += " (IPv6)"
        elif seen == {4} and both_seen:
            text += " (IPv4)"
        parts.append(text)
    return ", ".join(parts)
