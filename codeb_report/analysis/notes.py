"""주의사항 bullets that are facts worth knowing rather than findings."""

from __future__ import annotations

from codeb_report.analysis.model import Text, code, text
from codeb_report.snapshot import Server


def fact_notes(server: Server) -> list[Text]:
    notes: list[Text] = []
    if (c := server.centrifugo) is not None:
        for endpoint in c.endpoints:
            kind = "WebSocket endpoint" if "websocket" in endpoint.lower() else "Endpoint"
            notes.append(text(f"{kind}: ", code(endpoint)))
        if c.port is not None:
            notes.append(text("API endpoint: ", code(f":{c.port}")))
    return notes
