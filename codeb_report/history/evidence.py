"""Whether a snapshot could have raised a finding: the probes each rule reads.

A finding missing from the newer snapshot is resolved only when that snapshot looked: its
server was reached and the probes behind the rule were collected. An unreachable server
or a failed backup probe raises no finding about backups, and that says nothing about
whether backups now exist.
"""

from __future__ import annotations

from collections.abc import Collection

from codeb_report.analysis.rules.base import FLEET
from codeb_report.snapshot import ProbeStatus, Server, Snapshot

_CENTRIFUGO_UNIT = "centrifugo.unit"
FORECAST_RULE = "disk-full-forecast"  # codeb_report.history.trends, which imports the diff

# Rule id -> the probes whose output it reads (names used by codeb_report.probes).
# Where a rule reads one of several alternatives (docker or podman), the probes that were
# collected for the older snapshot are the ones that must be collected again.
RULE_PROBES: dict[str, frozenset[str]] = {
    "server.unreachable": frozenset(),
    "probe.failed": frozenset(),
    "server.rebooted": frozenset({"system"}),
    "disk.high": frozenset({"filesystems"}),
    "memory.high": frozenset({"memory"}),
    "swap.high": frozenset({"memory"}),
    "load.high": frozenset({"system"}),
    "resources.low_usage": frozenset({"memory", "system"}),
    "server.smaller_spec": frozenset({"memory"}),
    "watched.missing": frozenset({"watched.units", "watched.containers"}),
    "watched.down": frozenset({"watched.units", "watched.containers"}),
    "service.failed": frozenset({"services"}),
    "container.down": frozenset({"docker", "podman"}),
    "backup.missing": frozenset({"backups"}),
    "backup.unreadable": frozenset({"backups"}),
    "backup.stale": frozenset({"backups"}),
    "centrifugo.allowed_origins_any": frozenset({"centrifugo.config"}),
    "centrifugo.down": frozenset({_CENTRIFUGO_UNIT}),
    "centrifugo.unhealthy": frozenset({"centrifugo.health", _CENTRIFUGO_UNIT}),
    "postgres.down": frozenset({"postgresql"}),
    "postgres.connections_high": frozenset({"postgresql"}),
    "postgres.db_list_unavailable": frozenset({"postgresql"}),
    "redis.down": frozenset({"redis"}),
    "redis.auth_no_password": frozenset({"redis"}),
    "prometheus.unavailable": frozenset(),
    FORECAST_RULE: frozenset({"filesystems"}),
    # The provider rules read the Vultr account (see _provider_unseen), some also probes.
    "provider.api.no_key": frozenset(),
    "provider.api.refused": frozenset(),
    "provider.api.empty_instances": frozenset(),
    "provider.api.unavailable": frozenset(),
    "provider.cost.unmatched": frozenset(),
    "provider.rightsize.down": frozenset({"memory", "system", "filesystems"}),
    "provider.rightsize.up": frozenset({"memory", "system", "filesystems"}),
    "provider.backup.missing": frozenset({"backups"}),
    "provider.bandwidth.overage": frozenset(),
}
# Rules that judge each server on its own (its figures, probes and the snapshot's time):
# whether one raised a finding on a server can be told from that server alone, so dating
# the finding back reads only that server of each earlier night. Every other rule (the
# fleet's, Prometheus', the provider's, one this table does not know) needs whole nights.
SERVER_ALONE: frozenset[str] = frozenset(RULE_PROBES) - {
    "resources.low_usage",  # every server under the mark
    "server.smaller_spec",  # against the fleet's median
    "prometheus.unavailable",
    *(rule for rule in RULE_PROBES if rule.startswith("provider.")),
}
PROVIDER = "provider."
API = "provider.api."


def _provider_unseen(rule: str, snapshot: Snapshot) -> str | None:
    """A provider rule needs the account read (its API rules only the attempt)."""
    if not rule.startswith(PROVIDER):
        return None
    if snapshot.provider is None:
        return "현재 스냅샷에 Vultr 계정 정보 없음"
    if snapshot.provider.error is not None and not rule.startswith(API):
        return "현재 스냅샷에서 Vultr API 조회 실패"
    return None


def _ok(server: Server) -> set[str]:
    return {p.probe for p in server.probes if p.status == ProbeStatus.OK}


def _failed(server: Server) -> set[str]:
    return {p.probe for p in server.probes if p.status == ProbeStatus.FAILED}


def _unseen_on(rule: str, old: Server | None, new: Server) -> str | None:
    if not new.reachable:
        return "현재 스냅샷에서 연결 실패"
    probes = RULE_PROBES.get(rule)
    if probes is None:  # a rule this table does not know yet: any failure leaves doubt
        failed = sorted(_failed(new))
        return f"현재 스냅샷에서 {', '.join(failed)} 수집 실패" if failed else None
    needed = (probes & _ok(old)) if old is not None else set()
    missing = sorted(p for p in (needed or probes) if p not in _ok(new))
    if not missing:
        return None
    if not needed and len(missing) < len(probes) and not (probes & _failed(new)):
        return None  # one of the alternatives was collected and none failed
    failed = [p for p in missing if p in _failed(new)]
    if failed:
        return f"현재 스냅샷에서 {', '.join(failed)} 수집 실패"
    return f"현재 스냅샷에서 {', '.join(missing)} 수집 안 됨"


def unseen_reason(rule: str, server: str, old: Snapshot, new: Snapshot) -> str | None:
    """Why ``new`` cannot tell whether the finding ``rule`` on ``server`` is gone;
    ``None`` when it can. A server absent from ``new`` is the caller's case (removed)."""
    if reason := _provider_unseen(rule, new):
        return reason
    if server == FLEET:  # a finding about the fleet needs every server measured
        for one in new.servers:
            reason = _unseen_on(rule, old.server(one.name), one)
            if reason:
                return f"{one.name}: {reason}"
        return None
    current = new.server(server)
    if current is None:
        return None
    return _unseen_on(rule, old.server(server), current)


def servers_needed(keys: Collection[tuple[str, str]]) -> frozenset[str] | None:
    """The servers of a snapshot that tell whether the findings ``keys`` (rule, server)
    were there; None when that takes the whole snapshot."""
    if any(server == FLEET or rule not in SERVER_ALONE for rule, server in keys):
        return None
    return frozenset(server for _, server in keys)


def observed(rule: str, server: str, snapshot: Snapshot) -> bool:
    """Whether ``snapshot`` looked where ``rule`` would have found something on ``server``:
    a day its server was not reached (or left the inventory), or its probes failed, says
    nothing about the finding, so it neither ends nor starts the finding's run."""
    if _provider_unseen(rule, snapshot):
        return False
    if server == FLEET:
        return all(_unseen_on(rule, None, one) is None for one in snapshot.servers)
    current = snapshot.server(server)
    return current is not None and _unseen_on(rule, None, current) is None
