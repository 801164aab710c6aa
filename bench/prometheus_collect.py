#!/usr/bin/env python3
"""Prometheus as a source at 1,000 servers: collection and 30-day history, measured.

Writes a synthetic fleet of 1,000 node_exporter targets (OpenMetrics text: memory, swap,
load, two or three filesystems each, every 6 hours over 30 days; uname, OS, CPUs, boot
time and up at the latest points), turns it into TSDB blocks with ``promtool tsdb
create-blocks-from openmetrics`` and starts Debian's prometheus on it (loopback, random
port). Then, as whole processes, several runs each after one unmeasured warm-up:

  collect  codeb-report collect --config FLEET -q -o snapshot.json
           ([prometheus] servers = 'up{job="node"}': every target found, named and read)
  history  the range queries behind 리소스 추세 and the forecasts for all 1,000 servers
           (PrometheusTrends.trends on tonight's snapshot, in a child process)

Wall time is the median; CPU time (user + system) and peak RSS come from wait4(2), and
the CPU Prometheus spent answering from /proc (the machine is shared: CPU moves less). The
target (issue 11): Prometheus collection of 1,000 servers under 5 s on the 2-core machine.
It exits 1 when the target is missed or a server is lost.

Usage (after scripts/setup.sh --test):
  .venv/bin/python bench/prometheus_collect.py [--servers 1000] [--days 30] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.prometheus import (  # noqa: E402
    GIB,
    SyntheticFilesystem,
    SyntheticNode,
    load_openmetrics,
    start_prometheus,
    write_fleet,
)

CODEB = ROOT / ".venv" / "bin" / "codeb-report"
PYTHON = ROOT / ".venv" / "bin" / "python"
ROLES = ("app", "db", "cache", "worker")
TARGET_SECONDS = 5.0

HISTORY = """\
import sys, time
from pathlib import Path
from codeb_report.config import load_config
from codeb_report.history.settings import TrendSettings
from codeb_report.prometheus.sources import trend_source
from codeb_report.snapshot import load
config, snapshot = load_config(Path(sys.argv[1])), load(Path(sys.argv[2]))
started = time.perf_counter()
trends = trend_source(config).trends([snapshot], TrendSettings())
took = time.perf_counter() - started
assert trends.source == "prometheus", "trends did not come from Prometheus"
filled = sum(1 for s in trends.servers if any(v is not None for v in s.memory_pct[:-1]))
print(f"{took:.3f} {len(trends.times)} {filled} {len(trends.forecasts)}")
"""


def fleet(count: int) -> list[SyntheticNode]:
    """Servers of four roles; every 20th has a disk filling fast (5 % in trouble)."""
    nodes = []
    for i in range(count):
        filling = 40 * GIB if i % 20 == 0 else GIB // 8
        disks = [
            SyntheticFilesystem("/", "/dev/vda1", 80 * GIB, 20 * GIB, GIB // 50, reserved=4 * GIB),
            SyntheticFilesystem("/data", "/dev/vdb", 2048 * GIB, 600 * GIB, filling),
        ]
        if i % 3 == 0:
            disks.append(SyntheticFilesystem("/var/lib/docker", "/dev/vdc", 200 * GIB, 50 * GIB, 0))
        nodes.append(
            SyntheticNode(
                instance=f"10.{i // 250}.{i % 250}.10:9100",
                labels={"name": f"node-{i + 1:04d}", "role": ROLES[i % 4]},
                nodename=f"node-{i + 1:04d}",
                memory_total=(8 << (i % 3)) * GIB,
                memory_used_pct=15.0 + (i % 60),
                load=(0.1 + (i % 7) / 10, 0.2 + (i % 5) / 10, 0.15),
                cpus=2 << (i % 3),
                filesystems=disks,
            )
        )
    return nodes


def run_once(argv: list[str], stdout: Path | None = None) -> tuple[float, float, float]:
    """Wall time, CPU time and peak RSS (MB) of one child process."""
    out = str(stdout) if stdout else os.devnull
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ])  # fmt: skip
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 4):  # 4: partial is a result, not a crash
        raise SystemExit(f"bench: {' '.join(argv)} exited {code}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Prometheus answering the queries)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(argv: list[str], server: int, stdout: Path | None = None) -> tuple[float, ...]:
    """One run: wall, our CPU, our peak RSS, and the CPU Prometheus spent meanwhile."""
    before = cpu_seconds(server)
    wall, cpu, peak = run_once(argv, stdout)
    return wall, cpu, peak, cpu_seconds(server) - before


def row(name: str, samples: list[tuple[float, ...]], note: str) -> str:
    wall, cpu, prom = (statistics.median(s[i] for s in samples) for i in (0, 1, 3))
    peak = max(s[2] for s in samples)
    return (
        f"| {name} | {len(samples)} | {wall:.2f} s | {cpu:.2f} s | {prom:.2f} s "
        f"| {peak:.0f} MB | {note} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="codeb-prom-bench-") as tmp:
        work = Path(tmp)
        nodes = fleet(args.servers)
        started = time.perf_counter()
        write_fleet(work / "fleet.om", nodes, time.time(), days=args.days + 1, step=6 * 3600)
        size_mb = (work / "fleet.om").stat().st_size / 1e6
        written = time.perf_counter() - started
        load_openmetrics(work / "fleet.om", work / "data")
        loaded = time.perf_counter() - started - written
        print(f"fleet: {args.servers} targets x {args.days:g} days, OpenMetrics {size_mb:.0f} MB "
              f"written in {written:.1f} s, TSDB blocks in {loaded:.1f} s", flush=True)  # fmt: skip
        (work / "fleet.om").unlink()
        server = start_prometheus(
            work / "prometheus", data=work / "data", extra_args=["--query.lookback-delta=1h"]
        )
        try:
            return bench(work, server.url, server.process.pid, args)
        finally:
            server.stop()


def bench(work: Path, url: str, pid: int, args: argparse.Namespace) -> int:
    config = work / "fleet.toml"
    config.write_text(
        f'[prometheus]\nurl = "{url}"\nservers = \'up{{job="node"}}\'\n'
        f"scrape_interval = 600.0\nhistory_days = {args.days:g}\n"
        '[roles.app]\nlabel = "App Server"\n[roles.db]\nlabel = "DB Server"\n'
    )
    snapshot = work / "snapshot.json"
    collect = [str(CODEB), "collect", "--config", str(config), "-q", "-o", str(snapshot)]
    run_once(collect)  # warm-up: page cache, .pyc files, Prometheus' own caches
    collected = [measured(collect, pid) for _ in range(args.runs)]
    data = json.loads(snapshot.read_text())
    servers = data["servers"]
    ok = sum(1 for s in servers if s["reachable"])
    queries = data["prometheus"]["queries"]
    history = [str(PYTHON), "-c", HISTORY, str(config), str(snapshot)]
    out = work / "history.txt"
    run_once(history, out)
    histories, inner = [], []
    for _ in range(args.runs):
        histories.append(measured(history, pid, out))
        inner.append(out.read_text().split())
    took = statistics.median(float(i[0]) for i in inner)
    points, filled, forecasts = inner[-1][1:]
    print()
    print("| case | runs | median | CPU | Prometheus CPU | peak RSS | notes |")
    print("|------|-----:|-------:|----:|---------------:|---------:|-------|")
    print(row(f"collect {args.servers} servers", collected,
              f"{ok}/{len(servers)} collected, {queries} instant queries"))  # fmt: skip
    print(row(f"history {args.days:g} days", histories,
              f"range queries + series {took:.2f} s in-process; {points} points, "
              f"{filled} servers with history, {forecasts} forecasts"))  # fmt: skip
    median = statistics.median(s[0] for s in collected)
    lost = len(servers) != args.servers or ok != args.servers
    print()
    verdict = "met" if median < TARGET_SECONDS else "MISSED"
    print(f"collect median {median:.2f} s (target < {TARGET_SECONDS:g} s): {verdict}; "
          f"servers lost: {'yes' if lost else 'none'}")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0 if median < TARGET_SECONDS and not lost else 1


if __name__ == "__main__":
    sys.exit(main())
