"""Rules on the figures of 리소스 현황: disk, memory, swap and load beyond their thresholds."""

from __future__ import annotations

from collections.abc import Iterator

from codeb_report import units
from codeb_report.analysis.model import Level, Priority, Status, code, text
from codeb_report.analysis.rules.base import Hit, reachable, rule
from codeb_report.analysis.status import (
    disk_share,
    load_per_cpu,
    load_status,
    root_filesystem_first,
    share,
    swap_status,
    usage_status,
)
from codeb_report.snapshot import Snapshot
from codeb_report.thresholds import Thresholds


def _load_summary(word: str, load5: float) -> str:
    """``CPU 과부하 (Load 6.92)``: the 5-minute load, the one the judgement used."""
    what = "CPU 과부하" if word == "과부하" else f"CPU 부하 {word}"
    return f"{what} (Load {load5:.2f})"


def _priority(status: Status) -> Priority:
    return Priority.HIGH if status.level == Level.CRIT else Priority.MEDIUM


@rule("disk.high")
def disk_high(snapshot: Snapshot, t: Thresholds) -> Iterator[Hit]:
    for server in reachable(snapshot):
        for fs in root_filesystem_first(server.filesystems):
            status = usage_status(disk_share(fs), t.disk)
            if status.level == Level.OK:
                continue
            pct = units.percent(fs.used, fs.used + fs.available)
            disk = "디스크" if fs.mount == "/" else f"{fs.mount} 디스크"
            yield Hit(
                priority=_priority(status),
                server=server.name,
                title="디스크 사용량",
                description=text(
                    code(fs.mount),
                    f" {pct}% 사용 ({units.size(fs.used)} 사용, 여유 {units.size(fs.available)})",
                ),
                action="불필요한 파일 정리 또는 디스크 증설",
                level=status.level,
                step=f"{disk} 정리 또는 증설",
                summary=f"{disk} {pct}% 사용",
            )


@rule("memory.high")
def memory_high(snapshot: Snapshot, t: Thresholds) -> Iterator[Hit]:
    for server in reachable(snapshot):
        if (mem := server.memory) is None:
            continue
        status = usage_status(share(mem.used, mem.total), t.memory)
        if status.level == Level.OK:
            continue
        pct = units.percent(mem.used, mem.total)
        yield Hit(
            priority=_priority(status),
            server=server.name,
            title="메모리 사용량",
            description=text(f"{pct}% 사용 ({units.size(mem.used)} / {units.size(mem.total)})"),
            action="메모리 사용 프로세스 점검 또는 증설",
            level=status.level,
            step="메모리 사용 프로세스 점검",
            summary=f"메모리 {pct}% 사용",
        )


@rule("swap.high")
def swap_high(snapshot: Snapshot, t: Thresholds) -> Iterator[Hit]:
    for server in reachable(snapshot):
        if (swap := server.swap) is None or swap.total <= 0:
            continue
        status = swap_status(share(swap.used, swap.total), t.swap)
        if status.level == Level.OK:
            continue
        pct = units.percent(swap.used, swap.total)
        yield Hit(
            priority=_priority(status),
            server=server.name,
            title="Swap 사용량",
            description=text(f"{pct}% 사용 ({units.size(swap.used)} / {units.size(swap.total)})"),
            action="메모리 부족 여부 점검",
            level=status.level,
            step="Swap 사용 원인 점검",
            summary=f"Swap {pct}% 사용",
        )


@rule("load.high")
def load_high(snapshot: Snapshot, t: Thresholds) -> Iterator[Hit]:
    for server in reachable(snapshot):
        per_cpu = load_per_cpu(server)
        if per_cpu is None or server.system is None or server.system.load is None:
            continue
        word, status = load_status(per_cpu, t.load)
        if status.level == Level.OK:
            continue
        cpus = server.system.cpu_count or 1
        yield Hit(
            priority=_priority(status),
            server=server.name,
            title="CPU 부하",
            description=text(
                "Load Average ", code(units.load(server.system.load)), f" (CPU {cpus}개)"
            ),
            action="부하 원인 프로세스 점검",
            level=status.level,
            step="부하 원인 프로세스 점검",
            summary=_load_summary(word, server.system.load[1]),
        )
