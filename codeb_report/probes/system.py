"""The machine itself: hostname, OS, kernel, uptime, CPUs, load, memory and swap."""

from __future__ import annotations

import shlex
from typing import NamedTuple

from codeb_report.probes.base import Probe, ProbeRun
from codeb_report.probes.numbers import finite
from codeb_report.snapshot import Memory, Server, Swap, SystemInfo

# The files the system probe reads, by what they hold. getconf _NPROCESSORS_ONLN reads
# the online CPUs from the same file (glibc); uname -n and -r print the first two.
FILES = {
    "/proc/sys/kernel/hostname": "hostname",
    "/proc/sys/kernel/osrelease": "kernel",
    "/proc/uptime": "uptime",
    "/proc/loadavg": "loadavg",
    "/sys/devices/system/cpu/online": "cpus",
    # os-release(5): /etc first, /usr/lib where /etc has none.
    "/etc/os-release": "os-release",
    "/usr/lib/os-release": "usr-os-release",
}
# head(1) reads at most this many lines of each: an os-release has about ten.
MAX_LINES = 64
# What head(1) exits with when one of its files could not be read: it reads the others.
UNREADABLE_FILE_EXIT = 1


def split_files(output: str) -> dict[str, list[str]]:
    """Lines after each ``==> path <==`` header of head(1), by what the file holds.

    The first header of each file counts: a file's own text cannot add one.
    """
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        path = line[4:-4] if line.startswith("==> ") and line.endswith(" <==") else None
        name = FILES.get(path) if path is not None else None
        if name is not None and name not in sections:
            current = sections[name] = []
        elif current is not None:
            current.append(line)
    return sections


def os_pretty_name(lines: list[str]) -> str | None:
    """PRETTY_NAME from os-release, else NAME and VERSION; values are shell-quoted."""
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            continue
        try:
            words = shlex.split(value, comments=True)
        except ValueError:
            words = [value.strip().strip("\"'")]
        fields[key.strip()] = " ".join(words)
    if fields.get("PRETTY_NAME"):
        return fields["PRETTY_NAME"]
    name = " ".join(v for v in (fields.get("NAME"), fields.get("VERSION")) if v)
    return name or None


def cpu_list_count(text: str) -> int:
    """``0-3,6,8-9`` (the kernel's CPU list format) -> 7."""
    count = 0
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        low, high = int(first), int(last or first)
        if high < low:
            raise ValueError(f"unreadable CPU list {text[:80]!r}")
        count += high - low + 1
    return count


def _first(lines: list[str] | None) -> str | None:
    for line in lines or ():
        if line.strip():
            return line.strip()
    return None


def _load(line: str | None) -> tuple[float, float, float] | None:
    if not line:
        return None
    one, five, fifteen = (finite(x) for x in line.split()[:3])
    return (one, five, fifteen)


class SystemProbe(Probe):
    """Hostname, OS pretty name, kernel release, uptime, online CPUs and load averages.

    One ``head`` of the kernel's files and os-release, each under its header. A file
    that cannot be read (no os-release on an old system) is left out and the others are
    kept; without the hostname the probe fails.

    Sample output::

        ==> /proc/sys/kernel/hostname <==
        vm

        ==> /proc/sys/kernel/osrelease <==
        6.18.44-fc-v595

        ==> /proc/uptime <==
        21237.43 6621.67

        ==> /proc/loadavg <==
        0.35 5.60 7.81 1/81 8561

        ==> /sys/devices/system/cpu/online <==
        0-1

        ==> /etc/os-release <==
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
    """

    name = "system"
    timeout = None  # files of the kernel and os-release: nothing to wait for

    def command(self) -> str:
        return f"head -n {MAX_LINES} {' '.join(FILES)}"

    def failure(self, run: ProbeRun) -> str | None:
        # Some file could not be read: what was read is kept if the hostname is in it.
        if run.exit_code == UNREADABLE_FILE_EXIT and "hostname" in split_files(run.stdout):
            return None
        return super().failure(run)

    def parse(self, output: str) -> SystemInfo:
        files = split_files(output)
        hostname = _first(files.get("hostname"))
        if not hostname:
            raise ValueError("no hostname in output")
        uptime = _first(files.get("uptime"))
        cpus = _first(files.get("cpus"))
        load = _first(files.get("loadavg"))
        os_release = files.get("os-release") or files.get("usr-os-release") or []
        return SystemInfo(
            hostname=hostname,
            os=os_pretty_name(os_release),
            kernel=_first(files.get("kernel")),
            uptime_seconds=int(finite(uptime.split()[0])) if uptime else None,
            cpu_count=cpu_list_count(cpus) if cpus else None,
            load=_load(load),
        )

    def store(self, server: Server, value: SystemInfo) -> None:
        server.system = value


class MemoryReading(NamedTuple):
    memory: Memory
    swap: Swap


def meminfo_bytes(output: str) -> dict[str, int]:
    """/proc/meminfo as bytes by field; the kernel's "kB" means KiB."""
    values: dict[str, int] = {}
    for line in output.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if not sep or not parts or not parts[0].isdigit():
            continue
        unit = 1024 if len(parts) > 1 and parts[1] == "kB" else 1
        values[key.strip()] = int(parts[0]) * unit
    return values


class MemoryProbe(Probe):
    """Memory and swap in bytes from /proc/meminfo; used memory = MemTotal - MemAvailable.

    Kernels before 3.14 have no MemAvailable; MemFree + Buffers + Cached + SReclaimable
    is the estimate ``free`` used there.

    Sample output::

        MemTotal:        4025712 kB
        MemFree:         2697848 kB
        MemAvailable:    3154120 kB
        Buffers:           32964 kB
        Cached:           622588 kB
        SwapTotal:        998396 kB
        SwapFree:         998396 kB
    """

    name = "memory"
    timeout = None  # a file of the kernel: nothing to wait for

    def command(self) -> str:
        return "cat /proc/meminfo"

    def parse(self, output: str) -> MemoryReading:
        info = meminfo_bytes(output)
        total = info["MemTotal"]
        available = info.get("MemAvailable")
        if available is None:
            parts = ("MemFree", "Buffers", "Cached", "SReclaimable")
            available = min(total, sum(info.get(k, 0) for k in parts))
        swap_total = info.get("SwapTotal", 0)
        swap_free = info.get("SwapFree", 0)
        return MemoryReading(
            memory=Memory(total=total, used=total - available, available=available),
            swap=Swap(total=swap_total, used=swap_total - swap_free, free=swap_free),
        )

    def store(self, server: Server, value: MemoryReading) -> None:
        server.memory, server.swap = value.memory, value.swap
