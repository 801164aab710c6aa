"""Rules on the Centrifugo real-time server."""

from __future__ import annotations

from collections.abc import Iterator

from codeb_report.analysis.model import Level, Priority, code, text
from codeb_report.analysis.rules.base import Hit, reachable, rule
from codeb_report.snapshot import Snapshot
from codeb_report.thresholds import Thresholds


@rule("centrifugo.allowed_origins_any")
def allowed_origins_any(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """``allowed_origins: *`` lets any web page open connections on the users' behalf."""
    for server in reachable(snapshot):
        c = server.centrifugo
        if c is None or not c.allowed_origins or "*" not in c.allowed_origins:
            continue
        yield Hit(
            priority=Priority.HIGH,
            server=server.name,
            title="Centrifugo 보안",
            description=text(code("allowed_origins: *")),
            action="도메인 명시적 설정",
            step="Centrifugo allowed_origins 도메인 명시적 설정",
            notes=[text("⚠️ ", code("allowed_origins: *"), " 설정 - 보안 강화 권장")],
        )


@rule("centrifugo.down")
def centrifugo_down(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    for server in reachable(snapshot):
        c = server.centrifugo
        if c is None or c.active is None or c.active.lower() == "active":
            continue
        yield Hit(
            priority=Priority.HIGH,
            server=server.name,
            title="Centrifugo 중단",
            description=text(code(f"{c.unit or 'centrifugo'}: {c.active}")),
            action="서비스 로그 확인 후 재시작",
            level=Level.CRIT,
            step="Centrifugo 서비스 로그 확인 후 재시작",
        )


@rule("centrifugo.unhealthy")
def centrifugo_unhealthy(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """The unit is active but ``/health`` does not answer 200: clients cannot connect.

    ``disabled`` (a 404 where the configuration leaves the endpoint off, the default)
    says nothing about the server: no finding.
    """
    for server in reachable(snapshot):
        c = server.centrifugo
        if c is None or c.health in (None, "ok", "disabled"):
            continue
        if c.active is not None and c.active.lower() != "active":
            continue  # centrifugo.down says it already
        yield Hit(
            priority=Priority.HIGH,
            server=server.name,
            title="Centrifugo 응답 없음",
            description=text("/health: ", code(c.health)),
            action="서비스 로그와 포트 확인",
            level=Level.CRIT,
            step="Centrifugo 서비스 로그와 포트 확인",
            summary="Centrifugo 응답 없음",
        )
