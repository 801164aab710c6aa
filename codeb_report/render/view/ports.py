"""Section 2's listening ports: one row per port and process, with what it is."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from codeb_report.render.view.options import RenderOptions
from codeb_report.snapshot import ListeningPort, PortMapping, Server

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


def port_rows(server: Server, options: RenderOptions) -> list[PortRow]:
    """One row per port and process; IPv4 and IPv6 listeners of the same socket share it."""
    published = [(p, c.name) for c in server.containers for p in c.ports if p.host_port]
    publisher = first_publishers(published, {p.port for p in server.ports})
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
        rows.append(PortRow(port, addresses, process, described, publisher.get(port), service))
    return rows


def first_publishers(published: list[tuple[PortMapping, str]], ports: set[int]) -> dict[int, str]:
    """Each of ``ports`` -> the first container (in ``published``' order) publishing it.

    Each mapping takes the ports of its range still waiting, found by bisection: asking
    every mapping for every port took minutes for a server listing thousands of each
    (8 MiB of `docker ps` holds ~400,000 mappings).
    """
    waiting = sorted(ports)
    found: dict[int, str] = {}
    for mapping, name in published:
        if not waiting:
            break
        start = mapping.host_port or 0
        first = bisect.bisect_left(waiting, start)
        end = bisect.bisect_left(waiting, start + mapping.range, first)
        if first < end:
            found.update(dict.fromkeys(waiting[first:end], name))
            del waiting[first:end]
    return found
