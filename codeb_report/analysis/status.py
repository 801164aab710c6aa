"""Judging single figures: the 상태 column of every table, and the 리소스 현황 rows."""

from __future__ import annotations

from codeb_report import units
from codeb_report.analysis.model import Level, Resource, Status
from codeb_report.analysis.reasons import connection_reason
from codeb_report.snapshot import Container, Filesystem, Server, Service
from codeb_report.thresholds import LoadBands, SwapBands, Thresholds, UsageBands


def ok(word: str) -> Status:
    return Status(level=Level.OK, word=word)


def warn(word: str) -> Status:
    return Status(level=Level.WARN, word=word)


def crit(word: str) -> Status:
    return Status(level=Level.CRIT, word=word)


def share(used: float, total: float) -> float:
    """Exact percent in use; thresholds compare this, the report prints it rounded."""
    return 100 * used / total if total > 0 else 0.0


def usage_status(pct: float, bands: UsageBands) -> Status:
    if pct >= bands.crit_at:
        return crit("위험")
    if pct >= bands.warn_at:
        return warn("주의")
    if pct < bands.very_free_below:
        return ok("매우 여유")
    return ok("여유")


def swap_status(pct: float, bands: SwapBands) -> Status:
    if pct >= bands.crit_at:
        return crit("위험")
    if pct >= bands.warn_at:
        return warn("주의")
    return ok("정상")


def load_per_cpu(server: Server) -> float | None:
    """The 5-minute load per CPU (see ``LoadBands`` for why the 5-minute one)."""
    system = server.system
    if system is None or system.load is None:
        return None
    return system.load[1] / max(system.cpu_count or 1, 1)


def load_status(per_cpu: float, bands: LoadBands) -> tuple[str, Status]:
    """(사용률 word, 상태): ``("거의 없음", ✅ 유휴)``."""
    if per_cpu >= bands.crit_at:
        return "과부하", crit("위험")
    if per_cpu >= bands.warn_at:
        return "높음", warn("주의")
    if per_cpu < bands.idle_below:
        return "거의 없음", ok("유휴")
    if per_cpu < bands.very_low_below:
        return "매우 낮음", ok("안정")
    if per_cpu < bands.low_below:
        return "낮음", ok("안정")
    return "보통", ok("안정")


def container_status(container: Container) -> Status:
    state = container.state.lower()
    if state in ("running", "up"):
        return ok("Up")
    if state in ("paused", "restarting", "created", "starting"):
        return warn(state.capitalize())
    return crit(state.capitalize() or "Unknown")


def service_status(service: Service) -> Status:
    active = service.active.lower()
    if active == "active":
        return ok("Active")
    if active == "failed":
        return crit("Failed")
    return warn(active.capitalize() or "Unknown")


def server_state(server: Server) -> Status:
    """Table 1's 상태 cell: a short Korean reason only; section 2 shows the original."""
    if server.reachable:
        return ok("Active")
    reason = connection_reason(server.error)
    # An error without Korean words is all English: it is shown in section 2 instead.
    return crit(f"연결 실패: {reason.short}" if server.error and reason.known else "연결 실패")


def root_filesystem_first(filesystems: list[Filesystem]) -> list[Filesystem]:
    return sorted(filesystems, key=lambda f: (f.mount != "/", f.mount))


# Space neither used nor available beyond this share of the disk is more than ext4's usual
# 5% reserve for root: the value column then says what is left, so its figures add up.
HIDDEN_SPACE_SHOWN_ABOVE = 0.10


def disk_value(fs: Filesystem) -> str:
    """``300GB``, or ``251GB (여유 78GB)`` when used + available falls well short of the size
    (a large reserve, a thin pool): df's percentage is then not used ÷ size."""
    hidden = fs.size - fs.used - fs.available
    if fs.size > 0 and hidden > HIDDEN_SPACE_SHOWN_ABOVE * fs.size:
        return f"{units.size(fs.size)} (여유 {units.size(fs.available)})"
    return units.size(fs.size)


def disk_share(fs: Filesystem) -> float:
    """Percent in use as ``df`` counts it: of the space users can have (root's reserve excluded)."""
    return share(fs.used, fs.used + fs.available)


def resources(server: Server, thresholds: Thresholds) -> list[Resource]:
    """The 리소스 현황 rows: Memory, Disk (one per filesystem), Load Average, Swap if any."""
    rows: list[Resource] = []
    if (mem := server.memory) is not None:
        pct = share(mem.used, mem.total)
        rows.append(
            Resource(
                item="Memory",
                value=f"{units.size(mem.total)} (Total)",
                usage=f"{units.size(mem.used)} 사용 ({units.percent(mem.used, mem.total)}%)",
                status=usage_status(pct, thresholds.memory),
            )
        )
    for fs in root_filesystem_first(server.filesystems):
        pct = disk_share(fs)
        shown = units.percent(fs.used, fs.used + fs.available)
        rows.append(
            Resource(
                item="Disk" if fs.mount == "/" else f"Disk ({fs.mount})",
                value=disk_value(fs),
                usage=f"{units.size(fs.used)} 사용 ({shown}%)",
                status=usage_status(pct, thresholds.disk),
            )
        )
    per_cpu = load_per_cpu(server)
    if per_cpu is not None and server.system and server.system.load:
        word, status = load_status(per_cpu, thresholds.load)
        rows.append(
            Resource(
                item="Load Average", value=units.load(server.system.load), usage=word, status=status
            )
        )
    if (swap := server.swap) is not None and swap.total > 0:
        rows.append(
            Resource(
                item="Swap",
                value=units.size(swap.total),
                usage=f"{units.size(swap.used)} 사용 ({units.percent(swap.used, swap.total)}%)",
                status=swap_status(share(swap.used, swap.total), thresholds.swap),
            )
        )
    return rows
