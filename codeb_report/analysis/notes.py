"""주의사항 bullets that are facts worth knowing rather than findings."""

from __future__ import annotations

from codeb_report.analysis.model import Text, code, text
from codeb_report.snapshot import Server


def fact_notes(server: Server) -> list[Text]:
    """Centrifugo's endpoints: the WebSocket path, and the HTTP API by its port."""
    notes: list[Text] = []
    if _prometheus_only(server):
        notes.append(
            text("Prometheus(node_exporter)에서만 수집: 컨테이너·서비스·포트는 수집하지 않음")
        )
    if (c := server.centrifugo) is None:
        return notes
    for endpoint in c.endpoints:
        if "websocket" in endpoint.lower():
            notes.append(text("WebSocket endpoint: ", code(endpoint)))
        elif endpoint == "/api":
            # The API shares the client port; clients care which port, not the path.
            where = f":{c.port}" if c.port is not None else endpoint
            notes.append(text("API endpoint: ", code(where)))
        else:
            notes.append(text("Endpoint: ", code(endpoint)))
    return notes


def _prometheus_only(server: Server) -> bool:
    """Found by ``[prometheus] servers``: every outcome came from Prometheus."""
    return bool(server.probes) and all(p.source == "prometheus" for p in server.probes)
