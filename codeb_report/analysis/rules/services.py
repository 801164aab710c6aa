"""Rules on systemd services and containers that are not running.

Units and containers the configuration watches are left to the watched.* rules, so one
outage is one finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from codeb_report.analysis.model import Level, Priority, code, text
from codeb_report.analysis.rules.base import Hit, reachable, rule
from codeb_report.analysis.status import container_status
from codeb_report.snapshot import Snapshot
from codeb_report.thresholds import Thresholds


@rule("service.failed")
def service_failed(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    for server in reachable(snapshot):
        watched = {n for w in server.watched if w.kind == "unit" for n in (w.name, w.unit)}
        for service in server.services:
            if service.active.lower() != "failed":
                continue
            if service.unit in watched or service.unit.removesuffix(".service") in watched:
                continue
            unit = service.unit.removesuffix(".service")
            yield Hit(
                priority=Priority.HIGH,
                server=server.name,
                title="서비스 실패",
                description=text(code(unit), " failed"),
                action="서비스 로그 확인 후 재시작",
                level=Level.CRIT,
                step=f"{unit} 서비스 로그 확인 후 재시작",
                summary=f"{unit} 실패",
            )


@rule("container.down")
def container_down(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    for server in reachable(snapshot):
        watched = {w.name for w in server.watched if w.kind == "container"}
        for container in server.containers:
            status = container_status(container)
            if status.level == Level.OK or container.name in watched:
                continue
            yield Hit(
                priority=Priority.MEDIUM,
                server=server.name,
                title="컨테이너 중지",
                description=text(code(container.name), f" {status.word}"),
                action="컨테이너 로그 확인 후 재시작",
                level=status.level,
                step=f"{container.name} 컨테이너 로그 확인 후 재시작",
                summary=f"{container.name} {status.word}",
            )
