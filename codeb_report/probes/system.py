"""The machine itself: hostname, OS, kernel, uptime, CPUs, load, memory and swap."""

from __future__ import annotations

import shlex
from typing import NamedTuple

from codeb_report.probes.base import Probe
from codeb_report.probes.numbers import finite
from codeb_report.snapshot import Memory, Server, Swap, SystemInfo

SECTIONS = ("hostname", "os-release", "kernel", "uptime", "cpus", "loadavg")


def split_sections(output: str) -> dict[str, list[str]]:
    """Lines after each ``== name`` marker line, by name."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        name = line[3:].strip() if line.startswith("== ") else None
        if name in SECTIONS and name not in sections:
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

    Sample output::

        == hostname
        vm
        == os-release
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
        == kernel
        6.18.44-fc-v669
        == uptime
        6665.08 13098.03
        == cpus
        2
        == loadavg
        1.31 0.54 0.22 4/137 24926
    """

    name = "system"

    def command(self) -> str:
        return (
            "echo '== hostname'; uname -n\n"
            "echo '== os-release'; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release\n"
            "echo '== kernel'; uname -r\n"
            "echo '== uptime'; cat /proc/uptime\n"
            "echo '== cpus'; getconf _NPROCESSORS_ONLN 2>/dev/null"
            " || grep -c '^processor' /proc/cpuinfo\n"
            "echo '== loadavg'; cat /proc/loadavg\n"
        )

    def parse(self, output: str) -> SystemInfo:
        sections = split_sections(output)
        hostname = _first(sections.get("hostname"))
        if not hostname:
            raise ValueError("no hostname in output")
        uptime = _first(sections.get("uptime"))
        cpus = _first(sections.get("cpus"))
        load = _first(sections.get("loadavg"))
        return SystemInfo(
            hostname=hostname,
            os=os_pretty_name(sections.get("os-release", [])),
            kernel=_first(sections.get("kernel")),
            uptime_seconds=int(finite(uptime.split()[0])) if uptime else None,
            cpu_count=int(cpus) if cpus else None,
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
