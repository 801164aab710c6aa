"""What a snapshot and its analysis say, as metric families (pure: no files, no clock).

Each figure is written only where the snapshot holds it: an unreachable server has no
filesystem sizes, a role without Redis no ``redis_up``, a disk that is not growing no
forecast. A missing figure is a missing series, never a zero that would read as a fact.
Label values are names from the configuration (servers, units, containers, paths) or
fixed words (probe ids, rule ids, priorities); no collected message ever becomes one.
"""

from __future__ import annotations

from collections.abc import Iterable

from codeb_report import __version__
from codeb_report.analysis.model import Analysis
from codeb_report.analysis.rules.base import FLEET
from codeb_report.history.trends import DAY, Trends
from codeb_report.metrics.exposition import Family
from codeb_report.snapshot import ProbeStatus, Server, Snapshot

PREFIX = "codeb_report_"
# The ``server`` label of a finding about the whole fleet: no configured server name can
# start with an underscore, so it never clashes with one.
FLEET_LABEL = "_fleet"
RUNNING = ("active", "running")  # a unit's ActiveState, a container's State.Status


def gauge(name: str, help_text: str) -> Family:
    return Family(PREFIX + name, help_text)


def snapshot_families(
    snapshot: Snapshot, analysis: Analysis, trends: Trends | None = None
) -> list[Family]:
    """Every family the snapshot, its findings and (when given) the trends fill."""
    return [
        *about_snapshot(snapshot),
        *server_families(snapshot),
        findings_family(analysis),
        *forecast_families(snapshot, trends),
        *cost_families(snapshot),
    ]


def build_family() -> Family:
    build = gauge("build_info", "Always 1; the codeb-report version that wrote these metrics.")
    build.add(1, version=__version__)
    return build


def about_snapshot(snapshot: Snapshot) -> list[Family]:
    schema = gauge("snapshot_schema_version", "Schema version of the snapshot.")
    schema.add(snapshot.schema_version)
    collected = gauge("snapshot_timestamp_seconds", "When the snapshot was collected (Unix time).")
    collected.add(snapshot.collected_at.timestamp())
    return [build_family(), schema, collected]


def server_families(snapshot: Snapshot) -> list[Family]:
    families = {
        "info": gauge("server_info", "Always 1; the server's role from the configuration."),
        "reachable": gauge("server_reachable", "1 when the server could be collected, else 0."),
        "probe": gauge(
            "probe_success",
            "1 when the probe ran on the server, 0 when it failed; none if skipped.",
        ),
        "present": gauge(
            "watched_present", "1 when a configured unit or container exists, else 0."
        ),
        "running": gauge(
            "watched_running", "1 when a configured unit is active or container running, else 0."
        ),
        "backup_age": gauge(
            "backup_newest_age_seconds", "Age of the newest file in a backup folder at collection."
        ),
        "backup_files": gauge("backup_files", "Files in a backup folder."),
        "backup_bytes": gauge("backup_size_bytes", "Total size of the files in a backup folder."),
        "redis": gauge("redis_up", "1 when Redis answered, else 0."),
        "postgresql": gauge("postgresql_up", "1 when PostgreSQL answered, else 0."),
        "origins": gauge(
            "centrifugo_allowed_origins_wildcard",
            "1 when Centrifugo's allowed_origins holds *, else 0.",
        ),
        "fs_size": gauge("filesystem_size_bytes", "Size of a filesystem."),
        "fs_avail": gauge(
            "filesystem_avail_bytes", "Space left on a filesystem for unprivileged users."
        ),
        "mem_total": gauge("memory_total_bytes", "Memory of the server."),
        "mem_avail": gauge("memory_available_bytes", "Memory available for new programs."),
    }
    for server in snapshot.servers:
        _one_server(snapshot, server, families)
    return list(families.values())


def _one_server(snapshot: Snapshot, server: Server, f: dict[str, Family]) -> None:
    name = server.name
    f["info"].add(1, server=name, role=server.role)
    f["reachable"].add(server.reachable, server=name, role=server.role)
    if not server.reachable:
        return  # nothing else was seen: no figure at all rather than zeros
    for outcome in server.probes:
        if outcome.status != ProbeStatus.SKIPPED:  # not applicable there: no outcome to tell
            f["probe"].add(outcome.status == ProbeStatus.OK, server=name, probe=outcome.probe)
    for w in server.watched:
        labels = {"server": name, "kind": w.kind, "name": w.name}
        f["present"].add(w.present, **labels)
        if w.present and w.state:
            f["running"].add(w.state.lower() in RUNNING, **labels)
    for b in server.backups:
        if not b.exists or b.error:
            continue
        f["backup_files"].add(b.files, server=name, path=b.path)
        f["backup_bytes"].add(b.total_size, server=name, path=b.path)
        if b.newest_mtime is not None:
            age = (snapshot.collected_at - b.newest_mtime).total_seconds()
            f["backup_age"].add(max(age, 0.0), server=name, path=b.path)
    if server.redis is not None:
        f["redis"].add(server.redis.running, server=name)
    if server.postgresql is not None:
        f["postgresql"].add(server.postgresql.running, server=name)
    if server.centrifugo is not None and server.centrifugo.allowed_origins is not None:
        f["origins"].add("*" in server.centrifugo.allowed_origins, server=name)
    for fs in server.filesystems:
        f["fs_size"].add(fs.size, server=name, mount=fs.mount)
        f["fs_avail"].add(fs.available, server=name, mount=fs.mount)
    if server.memory is not None:
        f["mem_total"].add(server.memory.total, server=name)
        f["mem_avail"].add(server.memory.available, server=name)


def findings_family(analysis: Analysis) -> Family:
    family = gauge("findings", "Findings of the report by server, priority and rule id.")
    counts: dict[tuple[str, str, str], int] = {}
    for finding in analysis.findings:
        server = FLEET_LABEL if finding.server == FLEET else finding.server
        key = (server, finding.priority.value, finding.rule)
        counts[key] = counts.get(key, 0) + 1
    for (server, priority, rule), count in sorted(counts.items()):
        family.add(count, server=server, priority=priority, rule=rule)
    return family


def forecast_families(snapshot: Snapshot, trends: Trends | None) -> Iterable[Family]:
    """Time until a growing filesystem is full at its pace; none for a steady one."""
    family = gauge(
        "filesystem_seconds_until_full",
        "Time until the filesystem is full at its growth over the recent snapshots.",
    )
    growth = gauge(
        "filesystem_growth_bytes_per_second",
        "Growth of the used space, fitted over the recent snapshots.",
    )
    if trends is not None:
        names = {s.name for s in snapshot.servers}
        for forecast in trends.forecasts:
            if forecast.server not in names:
                continue
            labels = {"server": forecast.server, "mount": forecast.mount}
            growth.add(forecast.growth_per_day / DAY, **labels)
            if forecast.days_left is not None:
                family.add(forecast.days_left * DAY, **labels)
    return [family, growth]


def cost_families(snapshot: Snapshot) -> list[Family]:
    """Monthly cost from the provider's view of the account (Vultr's plan prices).

    Per configured server whose instance was matched and priced, and for the whole
    account (unmatched instances are paid for too). No provider part, or an account that
    could not be read, writes no cost: an unknown price is not a free server.
    """
    per_server = gauge(
        "server_monthly_cost_dollars", "Monthly price of the server's instance (USD)."
    )
    total = gauge(
        "provider_monthly_cost_dollars",
        "Monthly price of every instance of the account whose plan is priced (USD).",
    )
    provider = snapshot.provider
    if provider is None or provider.error is not None:
        return [per_server, total]
    names = {s.name for s in snapshot.servers}
    for instance in provider.instances:
        if instance.server in names and instance.monthly_cost is not None:
            per_server.add(instance.monthly_cost, server=instance.server)
    # A total that silently leaves out unpriced instances would read as the real bill.
    if provider.instances and all(i.monthly_cost is not None for i in provider.instances):
        total.add(provider.monthly_total)
    return [per_server, total]
