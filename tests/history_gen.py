"""Generated snapshot histories for the diff and trend tests and the benchmark.

One snapshot a day at 03:00 KST. The core fleet (n1..n4) is always there; the story:
- n5 joins on day 10 and leaves after day 24;
- n3 is unreachable on day 20;
- n1's /data grows GB_PER_DAY a day and has DATA_FREE_LAST free on the last day;
- n1's memory jumps by 15%p on day 18;
- n1: container codeb-cms restarts on day 15 and gets a new image on day 22;
  container codeb-worker exists (with port 3300 open) from day 12 to day 27;
- n2: codeb-watchdog.service fails from day 30 on.
Extra servers (``servers > 5``) are steady, with noise, for the benchmark.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

from codeb_report.snapshot import (
    Container,
    Filesystem,
    ListeningPort,
    Memory,
    PortMapping,
    ProbeOutcome,
    ProbeStatus,
    Server,
    Service,
    Snapshot,
    SystemInfo,
    save,
)

KST = timezone(timedelta(hours=9))
GB = 1024**3
START = date(2025, 11, 16)
DATA_SIZE = 100 * GB
GB_PER_DAY = 1 * GB
DATA_FREE_LAST = 10 * GB
MEM_TOTAL = 16 * GB


def day_of(index: int, start: date = START) -> date:
    return start + timedelta(days=index)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(3, 0), tzinfo=KST)


def _fs(mount: str, size: int, used: int) -> Filesystem:
    # ext4 reserves 5%: available = size - used - reserve, as df shows it.
    reserve = size // 20
    return Filesystem(
        mount=mount,
        device="/dev/vda1",
        fstype="ext4",
        size=size,
        used=used,
        available=max(size - used - reserve, 0),
    )


def _server(name: str, index: int, days: int, rng: random.Random) -> Server:
    mem_pct = 0.10 + rng.uniform(-0.01, 0.01) + (0.15 if name == "n1" and index >= 18 else 0)
    filesystems = [_fs("/", 300 * GB, int((40 + index * 0.01) * GB))]
    if name == "n1":
        reserve = DATA_SIZE // 20
        used_last = DATA_SIZE - reserve - DATA_FREE_LAST
        used = max(0, used_last - (days - 1 - index) * GB_PER_DAY)  # empty before it filled
        filesystems.append(_fs("/data", DATA_SIZE, used))
    boot = datetime(2025, 9, 1, tzinfo=UTC)
    containers = [
        Container(
            runtime="docker",
            name="codeb-dashboard",
            image="codeb/dashboard:1.4",
            state="running",
            status="Up",
            started_at=boot,
            ports=[PortMapping(host_ip="0.0.0.0", host_port=3100, container_port=3000)],
        ),
    ]
    ports = [
        ListeningPort(address="0.0.0.0", port=22, process="sshd"),
        ListeningPort(address="0.0.0.0", port=3100, process="docker-proxy"),
    ]
    if name == "n1":
        restarted = _at(day_of(15)) if index >= 15 else boot
        image = "codeb/cms:2.1" if index >= 22 else "codeb/cms:2.0"
        containers.append(
            Container(
                runtime="docker",
                name="codeb-cms",
                image=image,
                state="running",
                started_at=restarted,
            )
        )
        if 12 <= index <= 27:
            containers.append(
                Container(
                    runtime="docker",
                    name="codeb-worker",
                    image="codeb/worker:1",
                    state="running",
                    started_at=_at(day_of(12)),
                )
            )
            ports.append(ListeningPort(address="0.0.0.0", port=3300, process="docker-proxy"))
    failed = name == "n2" and index >= 30
    services = [
        Service(
            unit="codeb-watchdog.service",
            load="loaded",
            active="failed" if failed else "active",
            sub="failed" if failed else "running",
        ),
        Service(unit="ssh.service", load="loaded", active="active", sub="running"),
    ]
    load = round(0.1 + rng.uniform(0, 0.3), 2)
    return Server(
        name=name,
        host=f"{name}-host",
        role="App Server" if name == "n1" else "Worker",
        reachable=True,
        system=SystemInfo(
            hostname=f"{name}-host",
            cpu_count=4,
            uptime_seconds=86400 * 80,
            load=(load, load / 2, load / 3),
        ),
        memory=Memory(
            total=MEM_TOTAL,
            used=int(MEM_TOTAL * mem_pct),
            available=MEM_TOTAL - int(MEM_TOTAL * mem_pct),
        ),
        filesystems=filesystems,
        containers=containers,
        services=services,
        ports=ports,
        probes=[
            ProbeOutcome(probe=p, status=ProbeStatus.OK)
            for p in ("system", "memory", "filesystems", "docker", "services", "ports")
        ],
    )


def _unreachable(name: str) -> Server:
    return Server(
        name=name,
        host=f"{name}-host",
        role="Storage (DB)",
        reachable=False,
        error="connection timed out",
    )


def names(index: int, servers: int) -> list[str]:
    core = ["n1", "n2", "n3", "n4"]
    if 10 <= index <= 24:
        core.append("n5")
    return core + [f"m{i:03d}" for i in range(6, servers + 1)]


def snapshot_for(index: int, days: int = 35, servers: int = 5, start: date = START) -> Snapshot:
    rng = random.Random(index)
    fleet = []
    for name in names(index, servers):
        if name == "n3" and index == 20:
            fleet.append(_unreachable(name))
        else:
            fleet.append(_server(name, index, days, rng))
    return Snapshot(
        collected_at=_at(day_of(index, start)), collector_version="0.1.0", servers=fleet
    )


def history(days: int = 35, servers: int = 5, start: date = START) -> list[Snapshot]:
    return [snapshot_for(i, days, servers, start) for i in range(days)]


def write_history(
    output_root: Path, days: int = 35, servers: int = 5, start: date = START
) -> list[Path]:
    """Lay the history out as the nightly run does: output_root/YYYY-MM-DD/snapshot.json."""
    paths = []
    for i in range(days):
        path = output_root / day_of(i, start).isoformat() / "snapshot.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        save(snapshot_for(i, days, servers, start), path)
        paths.append(path)
    return paths
