"""Rules about reaching a server and collecting it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from codeb_report import units
from codeb_report.analysis.model import Level, Priority, text
from codeb_report.analysis.reasons import (
    connection_reason,
    password_action,
    probe_label,
    probe_reason,
)
from codeb_report.analysis.rules.base import Hit, reachable, rule
from codeb_report.snapshot import ProbeStatus, Snapshot
from codeb_report.thresholds import Thresholds

JUMP_FAILURE = re.compile(r"^점프 호스트 (?P<jump>\S+): ")


@rule("server.unreachable")
def unreachable(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    for server in snapshot.servers:
        if server.reachable:
            continue
        # A server collected from Prometheus alone is reached through its node_exporter.
        via = "node_exporter·Prometheus 수집" if _from_prometheus(server.error) else "SSH 접속"
        what = "서버"
        if jump := JUMP_FAILURE.match(server.error or ""):
            what = f"점프 호스트 {jump['jump']}"  # the server itself may be fine
        yield Hit(
            priority=Priority.HIGH,
            server=server.name,
            title="서버 연결 실패",
            description=connection_reason(server.error).spans(detail=False),
            action=f"{what} 상태 및 {via} 확인",
            level=Level.CRIT,
            step=f"{what} 상태 및 {via} 확인",
        )


def _from_prometheus(error: str | None) -> bool:
    return (error or "").startswith("prometheus")


@rule("server.rebooted")
def rebooted(snapshot: Snapshot, t: Thresholds) -> Iterator[Hit]:
    """Up for less than ``recent_reboot_hours``: planned or not, someone should know why."""
    for server in reachable(snapshot):
        system = server.system
        if system is None or system.uptime_seconds is None:
            continue
        if system.uptime_seconds >= t.recent_reboot_hours * 3600:
            continue
        yield Hit(
            priority=Priority.LOW,
            server=server.name,
            title="최근 재부팅",
            description=text(f"가동시간 {units.duration(system.uptime_seconds)}"),
            action="재부팅 원인 확인",
            step="재부팅 원인 확인",
            summary=f"{units.duration(system.uptime_seconds)} 전 재부팅",
        )


# The short reasons of a value or list past the snapshot's bounds (analysis/reasons.py).
PAST_BOUND = ("값이 너무 김", "항목이 너무 많음")


@rule("probe.failed")
def probe_failed(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """A probe that failed leaves a hole in the report; a skipped one (tool absent) does not."""
    for server in reachable(snapshot):
        for outcome in server.probes:
            if outcome.status != ProbeStatus.FAILED:
                continue
            label = probe_label(outcome.probe)
            reason = probe_reason(outcome.reason)
            daemon_down = reason is not None and reason.short == "Docker 데몬 미실행"
            if password := password_action(outcome.reason, label):
                # The configured password could not be read: the probe collected what it
                # could; the fix is the password, not the probe's command.
                yield Hit(
                    priority=Priority.MEDIUM,
                    server=server.name,
                    title=f"{label} 인증",
                    description=reason.spans() if reason else text(label),
                    action=password[0],
                    step=password[1],
                )
                continue
            past_bound = reason is not None and reason.short.startswith(PAST_BOUND)
            if daemon_down:
                action = step = "Docker 데몬 실행 여부 확인"
            elif past_bound:
                # The command ran; what it printed is past the snapshot's bounds.
                action = "서버가 출력한 값 확인 (수집 한도 초과, docs/snapshot.md)"
                step = f"{label}: 서버가 출력한 값 확인"
            else:
                action, step = "수집 명령과 권한 확인", f"{label} 수집 실패 원인 확인"
            yield Hit(
                priority=Priority.MEDIUM,
                server=server.name,
                title="수집 실패",
                description=text(f"{label}: ") + reason.spans(detail=False)
                if reason
                else text(label),
                action=action,
                step=step,
            )
