"""Section 6 (결론): 현재 상태 평가 and 다음 단계, derived from the findings and figures.

Each bullet reads its facts from the judged servers and the findings; the template only
prints them. A topic with nothing to say about this fleet (no backups known) is left out.
"""

from __future__ import annotations

import fnmatch

from codeb_report.analysis.model import (
    Assessment,
    Finding,
    Level,
    Priority,
    ServerAnalysis,
    Status,
)
from codeb_report.analysis.rules import FLEET
from codeb_report.snapshot import Snapshot

# Units named in the 서비스 bullet besides the role services (Centrifugo, PostgreSQL, Redis).
HEADLINE_UNITS = (("actions.runner.*", "GitHub Actions Runner"),)

FIGURE_RULES = ("disk.high", "memory.high", "swap.high", "load.high")
DOWN_RULES = (
    "watched.missing",
    "watched.down",
    "service.failed",
    "container.down",
    "centrifugo.down",
    "centrifugo.unhealthy",
    "postgres.down",
    "redis.down",
)
BACKUP_URGENCY = {
    "backup.missing": "즉시 설정 필요",
    "backup.unreadable": "즉시 점검 필요",
    "backup.stale": "즉시 점검 필요",
}


def name_ranges(names: list[str], order: list[str]) -> str:
    """``n1-n3`` for three or more servers in a row of the fleet's order, else a list."""
    index = {n: i for i, n in enumerate(order)}
    picked = sorted(names, key=lambda n: index.get(n, len(order)))
    runs: list[list[str]] = []
    for name in picked:
        if runs and index.get(name) == index.get(runs[-1][-1], -2) + 1:
            runs[-1].append(name)
        else:
            runs.append([name])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) >= 3 else ", ".join(run) for run in runs)


def _bullet(level: Level, topic: str, text: str) -> Assessment:
    return Assessment(status=Status(level=level, word=""), topic=topic, text=text)


def _worst(findings: list[Finding]) -> Level:
    return Level.CRIT if any(f.priority == Priority.HIGH for f in findings) else Level.WARN


def _of(findings: list[Finding], rules: tuple[str, ...]) -> list[Finding]:
    return [f for f in findings if f.rule in rules]


def _where(f: Finding, phrase: str) -> str:
    return phrase if f.server == FLEET else f"{f.server} {phrase}"


# A bullet or step names at most this many servers; a large fleet's are counted instead.
NAMED_AT_MOST = 5


def _servers(names: list[str], order: list[str] | None = None) -> str:
    """``n1, n2`` or ``s0120, s0240, s0360, s0480, s0600 외 3대``; with the fleet's
    ``order``, runs of neighbours read ``n1-n3``."""
    shown = names[:NAMED_AT_MOST]
    named = name_ranges(shown, order) if order else ", ".join(shown)
    rest = len(names) - NAMED_AT_MOST
    return f"{named} 외 {rest}대" if rest > 0 else named


def _parts(findings: list[Finding]) -> str:
    """Each finding's short phrase with its server; past NAMED_AT_MOST findings, one part
    per rule with its servers counted, so a bullet stays one line at 1,000 servers."""
    if len(findings) <= NAMED_AT_MOST:
        return ", ".join(_where(f, f.summary or f.title) for f in findings)
    by_rule: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        by_rule.setdefault((f.rule, f.title.removeprefix(f"{f.server} ")), []).append(f.server)
    return ", ".join(
        f"{title} {len(names)}대 ({_servers(names)})" for (_, title), names in by_rule.items()
    )


def stability(snapshot: Snapshot, judged: list[ServerAnalysis]) -> Assessment | None:
    order = [s.name for s in snapshot.servers]
    if not order:
        return None
    down = [s.name for s in snapshot.servers if not s.reachable]
    if down:
        up = len(order) - len(down)
        return _bullet(
            Level.CRIT,
            "안정성",
            f"{len(down)}대 서버 연결 실패 ({_servers(down, order)}), {up}대 정상 가동",
        )
    by_uptime: dict[str, list[str]] = {}
    for s in judged:
        if s.uptime:
            by_uptime.setdefault(s.uptime, []).append(s.name)
    detail = ", ".join(
        f"{name_ranges(names, order) if len(names) <= NAMED_AT_MOST else f'{len(names)}대'}: {up}"
        for up, names in by_uptime.items()
    )
    if len(by_uptime) > NAMED_AT_MOST:  # a large fleet's uptimes are a table, not a bullet
        detail = ""
    # "모든 1대" reads wrong: one server is just 서버 1대.
    every = f"모든 {len(order)}대 서버" if len(order) > 1 else "서버 1대"
    return _bullet(
        Level.OK,
        "안정성",
        f"{every} 정상 가동" + (f" ({detail})" if detail else ""),
    )


def resources(judged: list[ServerAnalysis], findings: list[Finding]) -> Assessment | None:
    if not any(s.resources for s in judged):
        return None
    over = _of(findings, FIGURE_RULES)
    if over:
        return _bullet(_worst(over), "리소스", f"{_parts(over)} - 점검 필요")
    low = _of(findings, ("resources.low_usage",))
    if low and low[0].summary:
        return _bullet(Level.OK, "리소스", f"{low[0].summary} (스케일 아웃 필요 없음)")
    return _bullet(Level.OK, "리소스", "모든 서버 임계치 이내")


def _headline_names(snapshot: Snapshot) -> tuple[list[str], list[str]]:
    """(names of the fleet's main services, those of them not running)."""
    names: list[str] = []
    stopped: list[str] = []
    servers = [s for s in snapshot.servers if s.reachable]
    for pattern, label in HEADLINE_UNITS:
        units = [u for s in servers for u in s.services if fnmatch.fnmatch(u.unit, pattern)]
        found = [w for s in servers for w in s.watched if fnmatch.fnmatch(w.name, pattern)]
        if units or any(w.present for w in found):
            names.append(label)
        # A watched unit that stopped is a watched.down finding already.
        watched = {w.unit for w in found} | {w.name for w in found}
        if any(u.active != "active" for u in units if u.unit not in watched):
            stopped.append(label)
    if any(s.centrifugo for s in servers):
        names.append("Centrifugo")
    if any(s.postgresql for s in servers):
        names.append("PostgreSQL")
    if any(s.redis for s in servers):
        names.append("Redis")
    return names, stopped


def services(snapshot: Snapshot, findings: list[Finding]) -> Assessment | None:
    names, stopped = _headline_names(snapshot)
    down = _of(findings, DOWN_RULES)
    if down or stopped:
        parts = [_parts(down)] if down else []
        parts += [f"{n} 중지" for n in stopped if not any(n in p for p in parts)]
        level = _worst(down) if down else Level.WARN
        return _bullet(level, "서비스", f"{', '.join(parts)} - 확인 필요")
    if names:
        return _bullet(Level.OK, "서비스", f"{', '.join(names)} 모두 정상")
    if any(s.services or s.containers for s in snapshot.servers):
        return _bullet(Level.OK, "서비스", "모든 서비스 정상")
    return None


def backup(snapshot: Snapshot, findings: list[Finding]) -> Assessment | None:
    late = [f for f in findings if f.rule in BACKUP_URGENCY]
    if late:
        return _bullet(Level.WARN, "백업", f"{_parts(late)} - {BACKUP_URGENCY[late[0].rule]}")
    kept = [s.name for s in snapshot.servers if s.reachable and s.backups]
    if not kept:
        return None
    order = [s.name for s in snapshot.servers]
    return _bullet(Level.OK, "백업", f"{name_ranges(kept, order)} 백업 정상")


def assessment(
    snapshot: Snapshot, judged: list[ServerAnalysis], findings: list[Finding]
) -> list[Assessment]:
    bullets = (
        stability(snapshot, judged),
        resources(judged, findings),
        services(snapshot, findings),
        backup(snapshot, findings),
    )
    return [b for b in bullets if b is not None]


def next_steps(findings: list[Finding]) -> list[str]:
    """One step per High and Medium finding, in section 5's order; Low ones only if they ask."""
    by_wording: dict[str, list[str]] = {}
    for f in findings:
        wording = f.step if f.priority == Priority.LOW else (f.step or f.action)
        if wording:
            servers = by_wording.setdefault(wording, [])
            if f.server not in servers:
                servers.append(f.server)
    return [_step(wording, servers) for wording, servers in by_wording.items()]


def _step(wording: str, servers: list[str]) -> str:
    """``n4 백업 자동화 설정``; the same step on several servers is one step naming them."""
    named = [s for s in servers if s != FLEET]
    if not named:
        return wording
    return f"{_servers(named)} {wording}"
