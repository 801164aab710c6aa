"""Section 2's Centrifugo block: version, engine, port, state and resource use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from codeb_report import units
from codeb_report.analysis.model import Level, Status
from codeb_report.render.view.since import since
from codeb_report.snapshot import Server

# Centrifugo's configuration names its engine in lower case; the report writes the product.
CENTRIFUGO_ENGINES = {"memory": "Memory", "redis": "Redis", "nats": "NATS"}


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


def centrifugo_view(server: Server, at: datetime) -> CentrifugoView | None:
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
        active_for=since(c.active_since, at, units.span) if active == "active" else None,
        memory=units.size_fine(c.memory_bytes) if c.memory_bytes is not None else None,
        cpu_time=units.cpu_time(c.cpu_seconds) if c.cpu_seconds is not None else None,
    )
