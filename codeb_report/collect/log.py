"""The log lines of a collection: one per server (and the Vultr account), for run.log
and for stderr without a terminal.

Kept apart from ``nightly.run`` so that ``collect`` logs them without importing the
analysis and rendering modules that ``run`` needs (a quarter of a second of start-up).
"""

from __future__ import annotations

from codeb_report.logs import ServerLog, get_logger
from codeb_report.snapshot import ProbeStatus, Snapshot

log = get_logger("run")


def log_collection(snapshot: Snapshot, echo: bool = True) -> None:
    extra = {"echo": echo}
    for server in snapshot.servers:
        slog = ServerLog(log, server.name)
        if not server.reachable:
            slog.error("unreachable: %s", server.error or "no reason recorded", extra=extra)
            continue
        counts = {status: 0 for status in ProbeStatus}
        for probe in server.probes:
            counts[probe.status] += 1
            if probe.status == ProbeStatus.FAILED:
                slog.warning("probe %s failed: %s", probe.probe, probe.reason, extra=extra)
        slog.info(
            "collected: %d probes ok, %d skipped, %d failed",
            counts[ProbeStatus.OK],
            counts[ProbeStatus.SKIPPED],
            counts[ProbeStatus.FAILED],
            extra=extra,
        )
    log_provider(snapshot, extra)


def log_provider(snapshot: Snapshot, extra: dict[str, bool]) -> None:
    """One line for the account: what was read, or why not (never the key: see logs)."""
    provider = snapshot.provider
    if provider is None:
        return
    vlog = ServerLog(log, "vultr")
    if provider.error is not None:
        error = provider.error
        where = f"{error.endpoint}: " if error.endpoint else ""
        vlog.error("API %s: %s%s", error.kind, where, error.message, extra=extra)
    for problem in provider.problems:
        vlog.warning("%s %s: %s", problem.endpoint, problem.kind, problem.message, extra=extra)
    if provider.error is None:
        matched = sum(i.server is not None for i in provider.instances)
        vlog.info(
            "read: %d instances (%d matched), %d clusters, %d load balancers",
            len(provider.instances),
            matched,
            len(provider.kubernetes_clusters),
            len(provider.load_balancers),
            extra=extra,
        )
