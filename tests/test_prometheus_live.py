"""A live node_exporter scraped by a live Prometheus, beside a live sshd: the default
label match on real metric names, and which source gave which figure.

Prometheus relabels the exporter's target to ``instance="127.0.0.1:9100"``, so the
default template (``instance="{host}:9100"``) finds the configured server
``host = "127.0.0.1"``; SSH reaches the same machine through the test sshd. Disk figures
are compared on a loop filesystem of the test's own: others write to / between any two
readings (379 MB once, on a loaded machine).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers.prometheus import LocalPrometheus, NodeExporter, start_prometheus
from servers.sshd import Sshd, SshdFactory

from codeb_report.analysis import analyse
from codeb_report.collect.fleet import collection_exit
from codeb_report.config import parse_config
from codeb_report.errors import Exit
from codeb_report.pipeline import collect_snapshot
from codeb_report.probes.system import meminfo_bytes
from codeb_report.prometheus.collect import FS_AVAIL, FS_FREE, FS_SIZE
from codeb_report.snapshot import ProbeStatus


@pytest.fixture(scope="module")
def scraping(
    tmp_path_factory: pytest.TempPathFactory, full_node_exporter: NodeExporter
) -> Iterator[LocalPrometheus]:
    work: Path = tmp_path_factory.mktemp("prometheus-live")
    config = (
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: node\n    static_configs:\n"
        f"      - targets: ['{full_node_exporter.target}']\n        labels: {{role: app}}\n"
        "    relabel_configs:\n      - target_label: instance\n"
        "        replacement: '127.0.0.1:9100'\n"
    )
    server = start_prometheus(work, config)
    try:
        deadline = time.monotonic() + 30
        while not _answers(server.url, 'node_uname_info{instance="127.0.0.1:9100"}'):
            assert time.monotonic() < deadline, server.log.read_text()[-2000:]
            time.sleep(0.2)
        yield server
    finally:
        server.stop()


def _answers(url: str, query: str) -> bool:
    form = urllib.parse.urlencode({"query": query}).encode()
    with urllib.request.urlopen(f"{url}/api/v1/query", form, timeout=5) as answer:
        return bool(json.load(answer)["data"]["result"])


@pytest.fixture(scope="module")
def sshd(sshd_factory: SshdFactory) -> Sshd:
    return sshd_factory.start("prom-live")


def _samples(url: str, query: str) -> list[int]:
    """The raw values of a range-vector query's series, oldest first."""
    form = urllib.parse.urlencode({"query": query}).encode()
    with urllib.request.urlopen(f"{url}/api/v1/query", form, timeout=5) as answer:
        result = json.load(answer)["data"]["result"]
    return [int(float(value)) for series in result for _, value in series["values"]]


@pytest.fixture
def quiet_filesystem(tmp_path: Path) -> Iterator[Path]:
    """An ext4 filesystem of the test's own (a 16 MiB loop image) that nothing else
    writes to: its figures stay put between node_exporter's reading and the test's."""
    image, mount = tmp_path / "quiet.img", tmp_path / "quiet"
    mount.mkdir()
    with image.open("wb") as out:
        out.truncate(16 * 1024**2)
    mkfs = shutil.which("mkfs.ext4", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if mkfs is None:
        pytest.skip("mkfs.ext4 is not installed (Debian e2fsprogs)")
    # Inode tables and journal written now, not by a kernel thread while the test reads.
    options = "lazy_itable_init=0,lazy_journal_init=0"
    subprocess.run([mkfs, "-q", "-F", "-E", options, str(image)], check=True, capture_output=True)
    mounted = subprocess.run(
        ["mount", "-o", "loop", str(image), str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a loop image (root and /dev/loop* needed): {mounted.stderr}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def fleet_toml(base: Path, url: str, factory: SshdFactory, sshd: Sshd) -> str:
    known = base / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    server = (
        f'host = "127.0.0.1"\nport = {sshd.port}\nuser = "root"\n'
        f'identity_file = "{factory.client_key.private}"\n'
    )
    return (
        f'[ssh]\nknown_hosts = "{known}"\nconfig_file = "{base / "none"}"\nuse_agent = false\n'
        f'[prometheus]\nurl = "{url}"\nscrape_interval = 1.0\nstale_after = 10.0\n'
        f'[[servers]]\nname = "both"\n{server}'
        f'[[servers]]\nname = "ssh-only"\n{server}prometheus = \'instance="nowhere:9100"\'\n'
    )


def test_figures_from_prometheus_the_rest_over_ssh(
    scraping: LocalPrometheus, sshd_factory: SshdFactory, sshd: Sshd, tmp_path: Path
) -> None:
    config = parse_config(fleet_toml(tmp_path, scraping.url, sshd_factory, sshd), "fleet.toml")
    snapshot = collect_snapshot(config)
    both, ssh_only = snapshot.server("both"), snapshot.server("ssh-only")
    assert both is not None and ssh_only is not None
    assert both.reachable and ssh_only.reachable, (both.error, ssh_only.error)
    sources = {p.probe: p.source for p in both.probes}
    assert {k: sources[k] for k in ("system", "memory", "filesystems")} == dict.fromkeys(
        ("system", "memory", "filesystems"), "prometheus"
    )
    assert {p.status for p in both.probes if p.source == "prometheus"} == {ProbeStatus.OK}
    assert sources["services"] == sources["ports"] == "ssh"  # run, or skipped, over SSH
    assert [p.probe for p in both.probes].count("memory") == 1  # not asked over SSH too
    # The same machine either way: Prometheus' figures are this machine's.
    uname = os.uname()
    assert both.system.hostname == uname.nodename and both.system.kernel == uname.release
    assert both.system.cpu_count == os.cpu_count()
    assert both.system.os == ssh_only.system.os
    mem_total = meminfo_bytes(Path("/proc/meminfo").read_text())["MemTotal"]
    assert both.memory.total == mem_total == ssh_only.memory.total
    df = subprocess.run(["df", "-PB1", "/"], capture_output=True, text=True).stdout.split()
    root = next(f for f in both.filesystems if f.mount == "/")
    assert root.size == int(df[-5])
    # Others write to / between any two readings: used is df's (size - free) of a sample
    # Prometheus holds, and a filesystem nobody writes to is compared with df below.
    series = '{instance="127.0.0.1:9100",mountpoint="/"}[10m]'
    assert root.used in {root.size - free for free in _samples(scraping.url, FS_FREE + series)}
    assert root.available in _samples(scraping.url, FS_AVAIL + series)
    # The server Prometheus has no series for: SSH gave everything, and the hole is said.
    outcomes = {p.probe: p for p in ssh_only.probes}
    assert outcomes["memory"].source == "ssh" and outcomes["memory"].status is ProbeStatus.OK
    assert outcomes["prometheus"].status is ProbeStatus.FAILED
    assert outcomes["prometheus"].reason == (
        'prometheus: no series matching {instance="nowhere:9100"}'
    )
    assert collection_exit(snapshot) == Exit.PARTIAL
    failed = {
        (f.server, "".join(s.text for s in f.description))
        for f in analyse(snapshot).findings
        if f.rule == "probe.failed" and f.description[0].text.startswith("Prometheus")
    }
    assert failed == {("ssh-only", "Prometheus 수치: Prometheus에 node_exporter 시계열 없음")}
    assert snapshot.prometheus is not None and snapshot.prometheus.error is None


def test_a_quiet_filesystem_has_the_same_figures_from_prometheus_ssh_and_statvfs(
    scraping: LocalPrometheus,
    sshd_factory: SshdFactory,
    sshd: Sshd,
    quiet_filesystem: Path,
    tmp_path: Path,
) -> None:
    mount = str(quiet_filesystem)
    stat = os.statvfs(mount)
    size, free, available = (
        n * stat.f_frsize for n in (stat.f_blocks, stat.f_bfree, stat.f_bavail)
    )
    assert size - free > 0 and available < free  # used, free and root's reserve all count
    deadline = time.monotonic() + 30
    while not _answers(scraping.url, f'{FS_SIZE}{{mountpoint="{mount}"}}'):
        assert time.monotonic() < deadline, "node_exporter never reported the loop filesystem"
        time.sleep(0.2)
    config = parse_config(fleet_toml(tmp_path, scraping.url, sshd_factory, sshd), "fleet.toml")
    snapshot = collect_snapshot(config)
    assert os.statvfs(mount) == stat  # nothing wrote to it meanwhile
    for name, source in (("both", "prometheus"), ("ssh-only", "ssh")):
        server = snapshot.server(name)
        assert server is not None and server.reachable, name
        assert {p.probe: p.source for p in server.probes}["filesystems"] == source
        [quiet] = [f for f in server.filesystems if f.mount == mount]
        assert quiet.fstype == "ext4" and quiet.device.startswith("/dev/loop")
        assert (quiet.size, quiet.used, quiet.available) == (size, size - free, available), name
