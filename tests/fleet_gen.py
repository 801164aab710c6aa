"""A generated large fleet for the report's large-fleet shape, its tests and benchmarks.

Servers are copies of the example fleet's (examples/fleet-snapshot.json), so each one is as
detailed as a real SSH-collected server: ``healthy`` ones are copies of n1 (no findings)
with moderate figures; the ``trouble`` share are copies of n2-n4 (each with findings of
its own: Centrifugo origins, Redis password, empty backups) and of n1 with a full disk,
high memory or no connection, in turn.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from codeb_report.snapshot import Server, Snapshot, load

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fleet-snapshot.json"
ROLES = ("Web", "API", "Worker", "Cache", "Batch")


def _figures(server: Server, rng: random.Random | None, memory: float, disk: float) -> None:
    if server.memory is not None:
        server.memory.used = int(server.memory.total * memory)
        server.memory.available = server.memory.total - server.memory.used
    for fs in server.filesystems:
        room = fs.used + fs.available
        fs.used = int(room * disk * (rng.uniform(0.9, 1.0) if rng else 1.0))
        fs.available = room - fs.used


def _trouble(example: list[Server], index: int) -> Server:
    kind = index % 6
    if kind < 3:  # n2, n3, n4: findings of their own
        return example[kind + 1].model_copy(deep=True)
    server = example[0].model_copy(deep=True)
    if kind == 3:
        _figures(server, None, 0.4, 0.95)  # disk.high (High)
    elif kind == 4:
        _figures(server, None, 0.93, 0.5)  # memory.high (High)
    else:
        server.reachable = False
        server.error = "connection refused"
        server.system = server.memory = server.swap = None
        server.filesystems = server.containers = server.services = server.ports = []
    return server


def large_fleet(count: int = 1000, trouble: float = 0.05, seed: int = 1000) -> Snapshot:
    """``count`` servers s0001.., every ``1/trouble``-th one needing attention."""
    example = load(EXAMPLE)
    rng = random.Random(seed)
    every = max(1, round(1 / trouble)) if trouble > 0 else count + 1
    servers = []
    for i in range(count):
        if (i + 1) % every == 0:
            server = _trouble(example.servers, i // every)
        else:
            server = example.servers[0].model_copy(deep=True)
            _figures(server, rng, rng.uniform(0.1, 0.6), rng.uniform(0.1, 0.7))
            server.role = ROLES[i % len(ROLES)]
        server.name = f"s{i + 1:04d}"
        server.host = f"{server.name}.fleet.example"
        server.address = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
        if server.system is not None:
            server.system.hostname = server.name
        servers.append(server)
    return example.model_copy(update={"servers": servers})


def figures_only(snapshot: Snapshot) -> Snapshot:
    """The fleet as a monitoring system knows it: memory, swap, filesystems, load, uptime,
    CPUs, OS and kernel only (no containers, services, ports or stack probes)."""
    servers = [
        s.model_copy(
            update={
                "containers": [], "services": [], "ports": [], "watched": [], "backups": [],
                "centrifugo": None, "postgresql": None, "redis": None, "proxy": None,
                "probes": [],
            }
        )
        for s in snapshot.servers
    ]  # fmt: skip
    return snapshot.model_copy(update={"servers": servers})


def day_before(snapshot: Snapshot, days: int, disk_per_day: float = 0.002) -> Snapshot:
    """The same fleet ``days`` earlier: disks ``disk_per_day`` of their size emptier a day
    (so trends and forecasts have something to fit), a server's memory a little different."""
    rng = random.Random(days)
    servers = []
    for s in snapshot.servers:
        s = s.model_copy(deep=True)
        for fs in s.filesystems:
            shift = min(fs.used, int(fs.size * disk_per_day * days))
            fs.used -= shift
            fs.available += shift
        if s.memory is not None:
            s.memory.used = int(s.memory.used * rng.uniform(0.9, 1.05))
            s.memory.used = min(s.memory.used, s.memory.total)
            s.memory.available = s.memory.total - s.memory.used
        servers.append(s)
    when = snapshot.collected_at - timedelta(days=days)
    return snapshot.model_copy(update={"servers": servers, "collected_at": when})
