"""The real probes on the machine the tests run on, checked against the kernel's own figures."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codeb_report.collect.local import collect_local
from codeb_report.probes import default_probes
from codeb_report.probes.filesystems import PSEUDO_TYPES
from codeb_report.snapshot import ProbeStatus, Server, Snapshot, dumps, parse

MiB = 1024 * 1024


def _meminfo() -> dict[str, int]:
    values = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        values[key] = int(rest.split()[0]) * 1024
    return values


def _uptime() -> float:
    return float(Path("/proc/uptime").read_text().split()[0])


@pytest.fixture(scope="module")
def listeners() -> Iterator[list[socket.socket]]:
    """Listening sockets of this test process, on IPv4 and (where there is one) IPv6 loopback."""
    opened = []
    four = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    four.bind(("127.0.0.1", 0))
    four.listen()
    opened.append(four)
    if socket.has_ipv6:
        six = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            six.bind(("::1", 0))
            six.listen()
            opened.append(six)
        except OSError:
            six.close()
    yield opened
    for sock in opened:
        sock.close()


@pytest.fixture(scope="module")
def collected(listeners: list[socket.socket]) -> tuple[Snapshot, dict[str, Any]]:
    before: dict[str, Any] = {"uptime": _uptime(), "load": os.getloadavg()}
    snapshot = collect_local(default_probes())
    before["uptime_after"] = _uptime()
    before["load_after"] = os.getloadavg()
    return snapshot, before


@pytest.fixture(scope="module")
def server(collected: tuple[Snapshot, dict[str, Any]]) -> Server:
    return collected[0].servers[0]


def test_every_probe_has_one_outcome(server: Server) -> None:
    names = [p.name for p in default_probes()]
    assert sorted(o.probe for o in server.probes) == sorted(names)
    failed = {o.probe: o.reason for o in server.probes if o.status == ProbeStatus.FAILED}
    # The base facts come from /proc and coreutils, present on every Linux.
    assert not failed.keys() & {"system", "memory", "filesystems"}, failed


def test_system_matches_the_kernel(server: Server, collected: tuple[Snapshot, dict]) -> None:
    system = server.system
    assert system is not None
    assert system.hostname == os.uname().nodename
    assert system.kernel == os.uname().release
    assert system.cpu_count == os.cpu_count()
    assert system.os == platform.freedesktop_os_release()["PRETTY_NAME"]
    times = collected[1]
    assert system.uptime_seconds is not None
    assert int(times["uptime"]) <= system.uptime_seconds <= int(times["uptime_after"])
    assert system.load is not None
    # The load averages move while the probes run (fast on a busy machine): each lies
    # between what the kernel said before and after, give or take their 0.01 rounding.
    for seen, first, last in zip(system.load, times["load"], times["load_after"], strict=True):
        assert min(first, last) - 0.5 <= seen <= max(first, last) + 0.5


def test_memory_matches_proc_meminfo(server: Server) -> None:
    info = _meminfo()
    assert server.memory is not None and server.swap is not None
    assert server.memory.total == info["MemTotal"]
    assert server.memory.used == server.memory.total - server.memory.available
    assert abs(server.memory.available - info["MemAvailable"]) < 256 * MiB
    assert server.swap.total == info["SwapTotal"]
    assert server.swap.used == server.swap.total - server.swap.free


def test_filesystems_match_statvfs_and_mounts(server: Server) -> None:
    mounts = {}
    for line in Path("/proc/self/mounts").read_text().splitlines():
        device, mount, fstype = line.split()[:3]
        mounts[mount.replace("\\040", " ")] = (device, fstype)
    for fs in server.filesystems:
        assert fs.fstype not in PSEUDO_TYPES
        assert mounts[fs.mount][1] == fs.fstype
        stat = os.statvfs(fs.mount)
        assert fs.size == stat.f_blocks * stat.f_frsize
        assert abs(fs.available - stat.f_bavail * stat.f_frsize) < 256 * MiB
    root_type = mounts["/"][1]
    if root_type not in PSEUDO_TYPES:
        assert "/" in [fs.mount for fs in server.filesystems]


def _own_answer(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": "C", "LC_ALL": "C"}
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


@pytest.mark.parametrize("runtime", ["docker", "podman"])
def test_container_runtimes_say_what_their_cli_says(server: Server, runtime: str) -> None:
    outcome = server.outcome(runtime)
    assert outcome is not None
    if shutil.which(runtime) is None:
        assert (outcome.status, outcome.reason) == (ProbeStatus.SKIPPED, f"{runtime} not installed")
        return
    answer = _own_answer([runtime, "ps", "-a", "-q"])
    if answer.returncode != 0:
        # Here: a docker CLI without an engine. The probe fails with the CLI's own words.
        assert outcome.status == ProbeStatus.FAILED
        assert answer.stderr.strip().splitlines()[-1] in (outcome.reason or "")
    else:
        assert outcome.status == ProbeStatus.OK
        listed = [c for c in server.containers if c.runtime == runtime]
        assert len(listed) == len(answer.stdout.split())


def test_services_skipped_without_systemd_as_init(server: Server) -> None:
    outcome = server.outcome("services")
    assert outcome is not None
    if shutil.which("systemctl") is None:
        assert outcome.reason == "systemctl not installed"
    elif not Path("/run/systemd/system").is_dir():
        assert (outcome.status, outcome.reason) == (
            ProbeStatus.SKIPPED,
            "systemd is not the init system (PID 1)",
        )
        assert server.services == []
    else:
        assert outcome.status == ProbeStatus.OK
        assert server.services


def test_ports_show_this_process_listening(server: Server, listeners: list[socket.socket]) -> None:
    if shutil.which("ss") is None:
        pytest.skip("ss is not installed")
    comm = Path("/proc/self/comm").read_text().strip()
    found = {(p.address, p.port): p for p in server.ports}
    for sock in listeners:
        address, port = sock.getsockname()[:2]
        entry = found[(address, port)]
        assert (entry.process, entry.pid) == (comm, os.getpid())


def test_local_snapshot_round_trips(collected: tuple[Snapshot, dict]) -> None:
    snapshot = collected[0]
    text = dumps(snapshot)
    assert dumps(parse(text, "local")) == text
