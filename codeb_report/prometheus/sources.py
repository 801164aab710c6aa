"""One snapshot from two sources: Prometheus for the figures, SSH for the rest.

With ``[prometheus]`` configured, the fleet's figures (system, memory and swap,
filesystems) are read first, in a handful of queries for all servers. Each configured
server is then collected over SSH without the probes Prometheus answered for it; where
Prometheus had nothing current (no series, stale, down), SSH's own probes fill in. Every
probe outcome records its source. Servers found by ``[prometheus] servers`` are
collected from Prometheus alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from codeb_report import __version__
from codeb_report.prometheus.collect import (
    PROVIDES,
    Reading,
    Target,
    failed_reading,
    read_fleet,
)
from codeb_report.prometheus.matchers import Matcher, fill_template
from codeb_report.snapshot import (
    ProbeOutcome,
    ProbeStatus,
    PrometheusSource,
    Server,
    Snapshot,
    now,
)

if TYPE_CHECKING:
    from codeb_report.config import Config
    from codeb_report.history.trends import TrendSource
    from codeb_report.prometheus.discover import Found

CollectSSH = Callable[["Config", Callable[[str], set[str]]], Snapshot]
PROMETHEUS_PROBE = "prometheus"
# What node_exporter does not know, for a server found by [prometheus] servers.
NOT_COLLECTED = ("docker", "services", "ports")
ONLY = "not collected: a server found through Prometheus alone (no SSH)"


def configured_targets(config: Config) -> list[Target]:
    assert config.prometheus is not None
    template = config.prometheus.match
    return [
        Target(s.name, fill_template(s.prometheus or template, s.host, s.name))
        for s in config.servers
    ]


def history_targets(config: Config, snapshot: Snapshot) -> list[Target]:
    """Every server of ``snapshot`` whose series Prometheus may hold: a configured one by
    its matchers, one found by ``[prometheus] servers`` by its instance."""
    configured = {t.name: t for t in configured_targets(config)}
    targets = []
    for server in snapshot.servers:
        if server.name in configured:
            targets.append(configured[server.name])
        else:  # found by [prometheus] servers: its host is the exporter's instance
            targets.append(Target(server.name, (Matcher("instance", "=", server.host),)))
    return targets


def trend_source(config: Config) -> TrendSource:
    """Where 리소스 추세 reads its series: Prometheus when configured, else the snapshots."""
    from codeb_report.history.trends import SnapshotTrends

    if config.prometheus is None:
        return SnapshotTrends()
    from codeb_report.prometheus.history import PrometheusTrends

    return PrometheusTrends(config.prometheus, lambda snapshot: history_targets(config, snapshot))


def collect_with_prometheus(config: Config, collect_ssh: CollectSSH) -> Snapshot:
    """``collect_ssh(config, answered)`` collects the configured servers over SSH, leaving
    out the probes in ``answered(server_name)``."""
    from codeb_report.prometheus.client import PrometheusClient, PrometheusError
    from codeb_report.prometheus.discover import discover

    settings = config.prometheus
    assert settings is not None
    at = time.time()
    configured = configured_targets(config)
    found: list[Found] = []
    try:
        with PrometheusClient(settings) as client:
            if settings.servers is not None:
                found = discover(client, settings, at, configured)
            fleet = read_fleet(settings, [*configured, *(f.target for f in found)], at, client)
    except PrometheusError as exc:
        fleet = failed_reading(configured, at, str(exc))
    snapshot = (
        collect_ssh(config, lambda name: fleet.readings[name].provided())
        if config.servers
        else Snapshot(collected_at=now(), collector_version=__version__)
    )
    for server in snapshot.servers:
        merge(server, fleet.readings[server.name], fleet_error=fleet.error is not None)
    for one in found:
        snapshot.servers.append(prometheus_server(config, one, fleet.readings[one.target.name]))
    discovery = 1 if settings.servers is not None else 0
    snapshot.prometheus = PrometheusSource(
        url=settings.url,
        queried_at=datetime.fromtimestamp(at).astimezone(),
        error=fleet.error,
        discovered=len(found),
        queries=fleet.queries + discovery,
    )
    return snapshot


def merge(server: Server, reading: Reading, fleet_error: bool) -> None:
    """Prometheus' figures into an SSH-collected server, each outcome naming its source."""
    for outcome in server.probes:
        outcome.source = "ssh"
    if not server.reachable:
        return
    if reading.error and not fleet_error:
        # Prometheus down is one fleet-level finding; a server it lacks is this server's.
        server.probes.append(
            ProbeOutcome(
                probe=PROMETHEUS_PROBE,
                status=ProbeStatus.FAILED,
                reason=reading.error,
                source="prometheus",
            )
        )
    fill(server, reading)


def fill(server: Server, reading: Reading) -> None:
    provided = reading.provided()
    if "system" in provided:
        server.system = reading.system
    if "memory" in provided:
        server.memory, server.swap = reading.memory, reading.swap
    if "filesystems" in provided:
        server.filesystems = reading.filesystems or []
    for probe in sorted(provided):
        server.probes.append(ProbeOutcome(probe=probe, status=ProbeStatus.OK, source="prometheus"))


def prometheus_server(config: Config, found: Found, reading: Reading) -> Server:
    """A server collected from Prometheus alone (found by ``[prometheus] servers``)."""
    role = config.roles.get(found.role)
    server = Server(
        name=found.target.name,
        host=found.instance,  # where its exporter is: the key to its series
        address=found.host,
        role=(role.label if role and role.label else None) or found.role,
        reachable=reading.error is None,
        error=reading.error,
    )
    if reading.error is None:
        fill(server, reading)
        for probe in NOT_COLLECTED:  # said where their rows would be, not "none found"
            server.probes.append(
                ProbeOutcome(
                    probe=probe, status=ProbeStatus.SKIPPED, reason=ONLY, source="prometheus"
                )
            )
        for probe in PROVIDES:
            if probe in reading.problems:
                server.probes.append(
                    ProbeOutcome(
                        probe=probe,
                        status=ProbeStatus.FAILED,
                        reason=f"prometheus: {reading.problems[probe]}",
                        source="prometheus",
                    )
                )
    return server
