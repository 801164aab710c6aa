"""Rules on PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Iterator

from codeb_report import units
from codeb_report.analysis.model import Level, Priority, code, text
from codeb_report.analysis.reasons import password_action, probe_reason
from codeb_report.analysis.rules.base import Hit, reachable, rule
from codeb_report.analysis.status import share
from codeb_report.snapshot import ProbeStatus, Server, Snapshot
from codeb_report.thresholds import Thresholds


def _where(container: str | None, error: str | None) -> list:
    parts = text(code(container)) if container else text("호스트")
    if reason := probe_reason(error):
        parts += text(": ") + reason.spans(detail=False)
    return parts


def _failed(server: Server, probe: str) -> bool:
    outcome = server.outcome(probe)
    return outcome is not None and outcome.status == ProbeStatus.FAILED


@rule("postgres.down")
def postgres_down(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    for server in reachable(snapshot):
        pg = server.postgresql
        if pg is None or pg.running:
            continue
        yield Hit(
            priority=Priority.HIGH,
            server=server.name,
            title="PostgreSQL 중단",
            description=_where(pg.container, pg.error),
            action="DB 로그 확인 후 재시작",
            level=Level.CRIT,
            step="PostgreSQL 로그 확인 후 재시작",
        )


@rule("redis.down")
def redis_down(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    for server in reachable(snapshot):
        rd = server.redis
        if rd is None or rd.running:
            continue
        yield Hit(
            priority=Priority.HIGH,
            server=server.name,
            title="Redis 중단",
            description=_where(rd.container, rd.error),
            action="Redis 로그 확인 후 재시작",
            level=Level.CRIT,
            step="Redis 로그 확인 후 재시작",
        )


@rule("postgres.connections_high")
def postgres_connections_high(snapshot: Snapshot, t: Thresholds) -> Iterator[Hit]:
    """Connections near max_connections: new clients will soon be refused."""
    for server in reachable(snapshot):
        pg = server.postgresql
        if pg is None or not pg.running or not pg.connections or not pg.max_connections:
            continue
        pct = share(pg.connections, pg.max_connections)
        if pct < t.db_connections.warn_at:
            continue
        crit = pct >= t.db_connections.crit_at
        yield Hit(
            priority=Priority.HIGH if crit else Priority.MEDIUM,
            server=server.name,
            title="DB 연결 수",
            description=text(
                f"{pg.connections} / {pg.max_connections} "
                f"({units.percent(pg.connections, pg.max_connections)}%)"
            ),
            action="연결 누수 점검 또는 max_connections 조정",
            level=Level.CRIT if crit else Level.WARN,
            step="PostgreSQL 연결 수 점검",
            summary="PostgreSQL 연결 수 한계 근접",
        )


@rule("redis.auth_no_password")
def redis_auth_no_password(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """Redis wants a password and codeb-report was given none, so its figures are missing."""
    for server in reachable(snapshot):
        rd = server.redis
        if rd is None or not rd.running or not rd.auth_required or rd.authenticated:
            continue
        if _failed(server, "redis"):
            continue  # a password that could not be read: probe.failed says so
        found = password_action(rd.error, "Redis")
        action, step = found or ("환경변수에 비밀번호 추가", "Redis 비밀번호 환경변수 설정")
        reason = probe_reason(rd.error) if found else None
        yield Hit(
            priority=Priority.MEDIUM,
            server=server.name,
            title="Redis 인증",
            description=reason.spans() if reason else text("인증 설정됨 - CLI에서 접근 불가"),
            action=action,
            step=step,
            # auth_required is read from the NOAUTH answer to PING.
            notes=[text("⚠️ Redis 인증 활성화됨 (NOAUTH 에러 발생)")],
        )


@rule("postgres.db_list_unavailable")
def postgres_db_list_unavailable(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """PostgreSQL runs but its databases could not be listed, so nothing watches them."""
    for server in reachable(snapshot):
        pg = server.postgresql
        if pg is None or not pg.running or pg.databases is not None:
            continue
        if _failed(server, "postgresql"):
            continue  # a password that could not be read: probe.failed says so
        if found := password_action(pg.error, "PostgreSQL"):
            reason = probe_reason(pg.error)
            yield Hit(
                priority=Priority.MEDIUM,
                server=server.name,
                title="PostgreSQL 인증",
                description=reason.spans() if reason else text("인증 실패"),
                action=found[0],
                step=found[1],
            )
            continue
        yield Hit(
            priority=Priority.MEDIUM,
            server=server.name,
            title="DB 모니터링",
            description=text("데이터베이스 목록 확인 필요"),
            action="pg_stat 모니터링 설정",
            step="PostgreSQL pg_stat 모니터링 설정",
            notes=[text("PostgreSQL 데이터베이스 목록 접근 필요")],
        )
