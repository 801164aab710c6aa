"""The stages end to end, as plain functions the CLI (and cron) call."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from codeb_report.snapshot import Snapshot

if TYPE_CHECKING:
    from codeb_report.config import Config, ServerConfig
    from codeb_report.probes.base import Probe
    from codeb_report.provider.collect import ProviderCollection
    from codeb_report.thresholds import Thresholds


def collection_output(config: Config | None, verbosity: int) -> tuple[int, bool]:
    """(progress verbosity, log lines): how ``collect`` and ``run`` tell stderr about the
    collection, the same way for both. On a terminal the fleet's live progress; without
    one (cron, systemd) and for the local machine, the log lines of ``log_collection``
    instead: a server not collected is an ERROR, a failed probe a WARNING."""
    log_lines = config is None or (verbosity <= 0 and not sys.stderr.isatty())
    return (min(verbosity, -1) if log_lines else verbosity), log_lines


def collect_snapshot(
    config: Config | None = None, *, accept_new: bool = False, verbosity: int = 0
) -> Snapshot:
    """This machine without a configuration; else every configured server over SSH."""
    from codeb_report.probes import default_probes

    if config is None:
        from codeb_report.collect.local import collect_local

        return collect_local(default_probes())
    from codeb_report.collect.fleet import collect_fleet
    from codeb_report.progress import Progress

    def over_ssh(config: Config, answered: Callable[[str], set[str]] = lambda _: set()) -> Snapshot:
        def probes(config: Config, server: ServerConfig) -> Sequence[Probe]:
            skip = answered(server.name)  # figures Prometheus already gave
            return [p for p in probes_for(config, server) if p.name not in skip]

        progress = Progress([s.name for s in config.servers], verbosity=verbosity)
        return collect_fleet(config, probes, accept_new=accept_new, progress=progress)

    provider = start_provider(config)
    if config.prometheus is not None:
        from codeb_report.prometheus.sources import collect_with_prometheus

        snapshot = collect_with_prometheus(config, over_ssh)
    else:
        snapshot = over_ssh(config)
    if provider is None:
        return snapshot
    from codeb_report.provider.collect import server_keys

    return snapshot.model_copy(update={"provider": provider.finish(server_keys(snapshot))})


def start_provider(config: Config) -> ProviderCollection | None:
    """With a ``[vultr]`` table, start reading the account beside the SSH collection."""
    if config.vultr is None:
        return None
    from codeb_report.provider.collect import ProviderCollection
    from codeb_report.provider.match import ServerKeys

    configured = [ServerKeys(name=s.name, host=s.host) for s in config.servers]
    return ProviderCollection(config.vultr, configured).start(process=True)


def probes_for(config: Config, server: ServerConfig) -> Sequence[Probe]:
    """The same probes as a local collection, plus those the server's role asks for."""
    from codeb_report.probes import default_probes
    from codeb_report.probes.stack import stack_probes

    return [*default_probes(), *stack_probes(config.role(server))]


def render_snapshot(
    snapshot: Snapshot,
    formats: list[str],
    out_dir: Path,
    thresholds: Thresholds | None = None,
    config: Config | None = None,
) -> list[Path]:
    """Analyse and render; a configuration adds its thresholds, title and descriptions."""
    from codeb_report.analysis import analyse
    from codeb_report.render import RenderOptions, render_report

    headroom = None
    if config is not None:
        thresholds = thresholds or config.report.thresholds
        headroom = config.vultr.headroom_percent if config.vultr else None
    options = RenderOptions.from_config(config) if config is not None else None
    analysis = analyse(snapshot, thresholds, headroom=headroom)
    return render_report(snapshot, analysis, formats, out_dir, options)
