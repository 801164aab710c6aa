"""Rules on what the configuration says a server must run (``watched``): units and
containers that are missing, or there and not running, including the CI runner."""

from __future__ import annotations

from collections.abc import Iterator

from codeb_report.analysis.model import Level, Priority, code, text
from codeb_report.analysis.rules.base import Hit, reachable, rule
from codeb_report.snapshot import Snapshot, Watched
from codeb_report.thresholds import Thresholds

RUNNING = ("active", "running")
# Passing states: worth a look, not yet an outage.
TRANSIENT = ("activating", "deactivating", "reloading", "restarting", "paused", "created")


def _what(w: Watched) -> str:
    if w.ci_runner:
        return "CI 러너"
    return "서비스" if w.kind == "unit" else "컨테이너"


@rule("watched.missing")
def watched_missing(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """A unit or container the configuration expects does not exist on the server."""
    for server in reachable(snapshot):
        for w in server.watched:
            if w.present is not False:
                continue
            yield Hit(
                priority=Priority.HIGH,
                server=server.name,
                title=f"{_what(w)} 없음",
                description=text(code(w.name), " 없음"),
                action="배포 상태 확인",
                level=Level.CRIT,
                step=f"{w.name} 배포 상태 확인",
                summary=f"{w.name} 없음",
            )


@rule("watched.down")
def watched_down(snapshot: Snapshot, _: Thresholds) -> Iterator[Hit]:
    """An expected unit or container exists but does not run."""
    for server in reachable(snapshot):
        for w in server.watched:
            state = (w.state or "").lower()
            if w.present is not True or not state or state in RUNNING:
                continue
            passing = state in TRANSIENT
            yield Hit(
                priority=Priority.MEDIUM if passing else Priority.HIGH,
                server=server.name,
                title=f"{_what(w)} 중단",
                description=text(code(w.name), f" {w.state}"),
                action="로그 확인 후 재시작",
                level=Level.WARN if passing else Level.CRIT,
                step=f"{w.name} 로그 확인 후 재시작",
                summary=f"{w.name} {w.state}",
            )
