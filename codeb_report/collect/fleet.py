"""Collect every configured server over SSH, in parallel, into one snapshot.

Each server is collected in its own worker: one connection, one batched exec of all its
probes. Whatever goes wrong with one server (unreachable, refused login, changed host
key, deadline) is recorded on that server; the others are not touched by it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from codeb_report import __version__
from codeb_report.collect.batch import OUTPUT_TOO_LARGE, run_probes
from codeb_report.collect.hostkeys import KnownHosts
from codeb_report.collect.ssh import ConnectError, Connector, ConnectSettings, Resolver, SSHRunner
from codeb_report.config import Config, ServerConfig, expand
from codeb_report.errors import ConfigError, Exit
from codeb_report.probes.base import Probe
from codeb_report.progress import Progress
from codeb_report.snapshot import ProbeStatus, Server, Snapshot, now

if TYPE_CHECKING:
    import paramiko

ProbesFor = Callable[[Config, ServerConfig], Sequence[Probe]]


def known_hosts_of(config: Config) -> KnownHosts:
    return KnownHosts(
        expand(config.ssh.known_hosts), [expand(p) for p in config.ssh.extra_known_hosts]
    )


def collect_fleet(
    config: Config,
    probes_for: ProbesFor,
    *,
    accept_new: bool = False,
    progress: Progress | None = None,
) -> Snapshot:
    started = now()
    progress = progress or Progress([s.name for s in config.servers], verbosity=-1)
    settings = ConnectSettings(
        connect_timeout=config.ssh.connect_timeout,
        attempts=config.ssh.connect_attempts,
        use_agent=config.ssh.use_agent,
        accept_new=accept_new,
    )
    try:
        resolver = Resolver(config)
    except ConnectError as exc:
        raise ConfigError(str(exc).removeprefix("설정 오류: ")) from None
    connector = Connector(known_hosts_of(config), settings)

    def one(server: ServerConfig) -> Server:
        return _collect_server(config, server, probes_for, resolver, connector, progress)

    try:
        workers = min(config.ssh.parallel, len(config.servers))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collect") as pool:
            servers = list(pool.map(one, config.servers))
    finally:
        connector.close()
        progress.close()
    return Snapshot(collected_at=started, collector_version=__version__, servers=servers)


def _collect_server(
    config: Config,
    conf: ServerConfig,
    probes_for: ProbesFor,
    resolver: Resolver,
    connector: Connector,
    progress: Progress,
) -> Server:
    deadline = time.monotonic() + config.ssh.deadline
    server = Server(
        name=conf.name,
        host=conf.host,
        role=config.role_label(conf),
        tags=list(conf.tags),
        reachable=False,
    )
    progress.update(conf.name, "connecting")
    client: paramiko.SSHClient | None = None
    try:
        probes = probes_for(config, conf)
        target = resolver.server(conf)
        server.address = target.hostname
        progress.update(conf.name, "connecting", target.describe())
        client = connector.connect(target, deadline)
        server.reachable = True
        progress.update(conf.name, "collecting", f"{len(probes)} probes")
        left = deadline - time.monotonic()
        runner = SSHRunner(client, sudo=target.sudo, max_output=config.ssh.max_output)
        run_probes(runner, probes, server, timeout=max(1.0, left))
    except ConnectError as exc:
        server.error = str(exc)
    except Exception as exc:  # a transport bug on one server must not cost the fleet
        server.reachable = False
        server.error = f"수집 실패: {type(exc).__name__}: {exc}"
    finally:
        if client is not None:
            client.close()
    _mark_timeout(server, config.ssh.deadline)
    _mark_output_too_large(server)
    _mark_nothing_ran(server)
    if server.error:
        progress.update(conf.name, "failed", server.error)
    else:
        failed = [p.probe for p in server.probes if p.status is ProbeStatus.FAILED]
        progress.update(conf.name, "done", f"failed probes: {', '.join(failed)}" if failed else "")
    return server


def _mark_timeout(server: Server, deadline: float) -> None:
    """A batch cut off by the deadline leaves no data: say so on the server itself."""
    if (
        server.reachable
        and server.probes
        and all(
            p.status is ProbeStatus.FAILED and (p.reason or "").startswith("timed out")
            for p in server.probes
        )
    ):
        server.reachable = False
        server.error = f"시간 초과: collection did not finish within {deadline:g} s"


def _mark_output_too_large(server: Server) -> None:
    """A server that printed past the limit is not collected: one reason on the server."""
    reasons = {p.reason or "" for p in server.probes}
    if not server.reachable or len(reasons) != 1 or len(server.probes) != _failed(server):
        return
    reason = reasons.pop()
    if reason.startswith(OUTPUT_TOO_LARGE):
        detail = reason.removeprefix(OUTPUT_TOO_LARGE).removeprefix(": ")
        server.reachable = False
        server.error = f"출력 초과: the probes printed {detail} (limit: [ssh] max_output_mib)"


def _mark_nothing_ran(server: Server) -> None:
    """Logged in, yet the probe script never ran (``sudo -n`` wanting a password, a
    ForceCommand, a broken shell): one reason on the server, not one per probe."""
    reasons = {p.reason or "" for p in server.probes if p.status is ProbeStatus.FAILED}
    if not server.reachable or len(reasons) != 1 or len(server.probes) != _failed(server):
        return
    reason = reasons.pop()
    if reason.startswith("no output"):
        detail = reason.removeprefix("no output").removeprefix(": ")
        server.reachable = False
        server.error = f"수집 실패: {detail or 'the probe script printed nothing'}"


def _failed(server: Server) -> int:
    return sum(p.status is ProbeStatus.FAILED for p in server.probes)


def collection_exit(snapshot: Snapshot) -> Exit:
    """0 all collected, 4 some servers, probes or the provider failed, 5 no server collected."""
    if not snapshot.servers or not any(s.reachable for s in snapshot.servers):
        return Exit.FAILED
    if snapshot.prometheus is not None and snapshot.prometheus.error is not None:
        return Exit.PARTIAL  # its figures came from SSH, or are missing
    for server in snapshot.servers:
        if not server.reachable or any(p.status is ProbeStatus.FAILED for p in server.probes):
            return Exit.PARTIAL
    if snapshot.provider is not None and snapshot.provider.incomplete:
        return Exit.PARTIAL  # the Vultr account could not be read (or only in part)
    return Exit.OK
