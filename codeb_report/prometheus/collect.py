"""The fleet's figures from node_exporter's series, in a handful of instant queries.

Whatever the fleet's size, one collection asks Prometheus four things at one instant:

1. the figures: memory, swap, filesystems, load, boot and exporter time, OS and kernel
   info and ``up``, as one selector over those metric names;
2. the CPU count: ``count without (cpu, mode) (node_cpu_seconds_total{mode="idle"})``;
3. when each target's ``node_uname_info`` was last sampled (``timestamp()``), to tell
   current figures from stale ones;
4. only for servers none of that found: ``last_over_time(node_time_seconds[1d])``, whose
   value is the exporter's clock at its last scrape, to say how long it has been silent.

All four are narrowed to the fleet by one label (see ``matchers.fleet_filter``), and each
series is handed to the server whose matchers it satisfies. A server whose figures are
older than ``scrape_interval`` x ``stale_after`` gets none of them: its reason says how
old they are, so no stale figure is ever shown as current.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pydantic import ValidationError

from codeb_report.collect.batch import invalid_value
from codeb_report.probes.filesystems import PSEUDO_TYPES, one_per_device
from codeb_report.prometheus.client import Labels, PrometheusClient, PrometheusError, Sample
from codeb_report.prometheus.matchers import Index, Matcher, fleet_filter, selector
from codeb_report.prometheus.settings import PrometheusSettings
from codeb_report.snapshot import (
    MAX_CPUS,
    MAX_INT,
    MAX_LOAD,
    Filesystem,
    Memory,
    Swap,
    SystemInfo,
)

MEMORY = ("node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes")
SWAP = ("node_memory_SwapTotal_bytes", "node_memory_SwapFree_bytes")
LOAD = ("node_load1", "node_load5", "node_load15")
FS_SIZE, FS_FREE, FS_AVAIL = (
    "node_filesystem_size_bytes",
    "node_filesystem_free_bytes",
    "node_filesystem_avail_bytes",
)
UNAME, OS_INFO, BOOT, CLOCK = (
    "node_uname_info",
    "node_os_info",
    "node_boot_time_seconds",
    "node_time_seconds",
)
FIGURES = (*MEMORY, *SWAP, *LOAD, FS_SIZE, FS_FREE, FS_AVAIL, UNAME, OS_INFO, BOOT, CLOCK, "up")
SILENT_WINDOW = "1d"
# The probes whose part of the snapshot Prometheus fills (memory includes swap).
PROVIDES = ("system", "memory", "filesystems")


@dataclass(frozen=True)
class Target:
    """A server as Prometheus knows it: its series are those its matchers select."""

    name: str
    matchers: tuple[Matcher, ...]

    def describe(self) -> str:
        return ",".join(m.promql() for m in self.matchers)


@dataclass
class Reading:
    """What Prometheus said about one server. ``error`` set: nothing current was found;
    ``problems`` names each figure group (probe name) that is missing."""

    system: SystemInfo | None = None
    memory: Memory | None = None
    swap: Swap | None = None
    filesystems: list[Filesystem] | None = None
    address: str | None = None  # the instance label
    error: str | None = None
    problems: dict[str, str] = field(default_factory=dict)

    def provided(self) -> set[str]:
        """The probes this reading stands in for."""
        if self.error:
            return set()
        return {p for p in PROVIDES if p not in self.problems}


@dataclass
class FleetReading:
    at: float
    readings: dict[str, Reading]
    error: str | None = None  # Prometheus itself could not answer
    queries: int = 0


@dataclass
class _Series:
    """One server's samples of the figure query, by metric name."""

    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def first(self, metric: str) -> Sample | None:
        found = self.samples.get(metric)
        return found[0] if found else None

    def value(self, metric: str) -> float | None:
        sample = self.first(metric)
        return sample.value if sample else None


def read_fleet(
    settings: PrometheusSettings,
    targets: Sequence[Target],
    at: float | None = None,
    client: PrometheusClient | None = None,
) -> FleetReading:
    """Every target's figures at ``at`` (now); a Prometheus failure is recorded, not raised."""
    at = time.time() if at is None else at
    if not targets:
        return FleetReading(at=at, readings={})
    own = client is None
    try:
        client = client or PrometheusClient(settings)
    except PrometheusError as exc:
        return failed_reading(targets, at, str(exc))
    try:
        return _read(client, settings, targets, at)
    except PrometheusError as exc:
        return failed_reading(targets, at, str(exc))
    finally:
        if own:
            client.close()


def failed_reading(targets: Sequence[Target], at: float, error: str) -> FleetReading:
    readings = {t.name: Reading(error=f"prometheus unavailable: {error}") for t in targets}
    return FleetReading(at=at, readings=readings, error=error)


def _read(
    client: PrometheusClient, settings: PrometheusSettings, targets: Sequence[Target], at: float
) -> FleetReading:
    narrow = fleet_filter(t.matchers for t in targets)
    index = Index({t.name: t.matchers for t in targets}, narrow[0].label if narrow else None)
    names = "|".join(FIGURES)
    pseudo = "|".join(sorted(PSEUDO_TYPES))
    figures_q = selector("", (Matcher("__name__", "=~", names), *narrow))
    # Missing labels read as "": only filesystem series have an fstype to exclude.
    figures_q = figures_q[:-1] + f',fstype!~"{pseudo}"}}'
    idle = selector("node_cpu_seconds_total", (Matcher("mode", "=", "idle"), *narrow))
    cpu_q = f"count without (cpu, mode) ({idle})"
    seen_q = f"timestamp({selector(UNAME, narrow)})"
    queries = [figures_q, cpu_q, seen_q]
    with ThreadPoolExecutor(max_workers=len(queries), thread_name_prefix="prometheus") as pool:
        figures, cpus, seen = pool.map(lambda q: client.query(q, at), queries)
    by_server: dict[str, _Series] = {t.name: _Series() for t in targets}
    _assign(
        figures,
        index,
        lambda s, name: (
            by_server[name].samples.setdefault(s.labels.get("__name__", ""), []).append(s)
        ),
    )
    cpu_count: dict[str, int] = {}
    _assign(cpus, index, lambda s, name: cpu_count.setdefault(name, int(s.value)))
    last_seen: dict[str, float] = {}
    _assign(seen, index, lambda s, name: last_seen.setdefault(name, s.value))
    readings = {
        t.name: _reading(
            t, by_server[t.name], cpu_count.get(t.name), last_seen.get(t.name), at, settings
        )
        for t in targets
    }
    silent = [t for t in targets if readings[t.name].error == _NO_SERIES]
    queries_made = 3
    if silent:
        queries_made += 1
        _silent_since(client, silent, readings, at)
    for t in targets:
        if readings[t.name].error == _NO_SERIES:
            readings[t.name].error = f"prometheus: no series matching {{{t.describe()}}}"
    return FleetReading(at=at, readings=readings, queries=queries_made)


def _assign(samples: list[Sample], index: Index, put: Callable[[Sample, str], None]) -> None:
    for sample in samples:
        for name in index.owners(sample.labels):
            put(sample, name)


_NO_SERIES = "no series"


def _reading(
    target: Target,
    series: _Series,
    cpus: int | None,
    seen: float | None,
    at: float,
    settings: PrometheusSettings,
) -> Reading:
    uname = series.samples.get(UNAME, [])
    up = series.first("up")
    first = uname[0] if uname else up
    reading = Reading(address=first.labels.get("instance") if first else None)
    instances = sorted({s.labels.get("instance", "") for s in uname})
    if len(instances) > 1:
        listed = ", ".join(instances[:5])
        reading.error = (
            f"prometheus: {{{target.describe()}}} matches {len(instances)} targets ({listed})"
        )
        return reading
    if up is not None and up.value == 0:
        reading.error = "prometheus: target down (up=0): node_exporter did not answer"
        return reading
    if not uname or seen is None:
        reading.error = _NO_SERIES
        return reading
    limit = settings.scrape_interval * settings.stale_after
    if at - seen > limit:
        reading.error = _stale(at - seen, limit)
        return reading
    try:
        reading.system = _system(uname[0].labels, series, cpus)
    except ValidationError as exc:  # a label past the snapshot's bounds, e.g. the nodename
        reading.problems["system"] = f"unreadable series: {invalid_value(exc)}"
    _memory(reading, series)
    try:
        _filesystems(reading, series)
    except ValidationError as exc:
        reading.problems["filesystems"] = f"unreadable series: {invalid_value(exc)}"
    return reading


def _stale(age: float, limit: float) -> str:
    return f"prometheus: stale: last sample {age:.0f} s ago (limit {limit:g} s)"


def _system(uname: Labels, series: _Series, cpus: int | None) -> SystemInfo:
    os_labels = series.first(OS_INFO).labels if series.first(OS_INFO) else {}
    pretty = os_labels.get("pretty_name") or " ".join(
        v for v in (os_labels.get("name"), os_labels.get("version")) if v
    )
    boot, clock = series.value(BOOT), series.value(CLOCK)
    uptime = _bytes(max(clock - boot, 0)) if boot is not None and clock is not None else None
    one, five, fifteen = (series.value(m) for m in LOAD)
    load = None
    if one is not None and five is not None and fifteen is not None:
        # The snapshot's bounds: an impossible figure is left out, not a failed collection.
        load = (
            (one, five, fifteen)
            if 0 <= min(one, five, fifteen) <= max(one, five, fifteen) <= MAX_LOAD
            else None
        )
    return SystemInfo(
        hostname=uname.get("nodename") or uname.get("instance", "?"),
        os=pretty or None,
        kernel=uname.get("release") or None,
        uptime_seconds=uptime,
        cpu_count=cpus if cpus and 0 < cpus <= MAX_CPUS else None,
        load=load,
    )


def _bytes(value: float | None) -> int | None:
    """A count as the snapshot holds it; None when negative or past a 64-bit integer."""
    return int(value) if value is not None and 0 <= value <= MAX_INT else None


def _memory(reading: Reading, series: _Series) -> None:
    total, available = (_bytes(series.value(m)) for m in MEMORY)
    if total is None or available is None:
        reading.problems["memory"] = "no node_memory_MemTotal_bytes/MemAvailable_bytes series"
        return
    available = min(available, total)
    reading.memory = Memory(total=total, used=total - available, available=available)
    swap_total, swap_free = (_bytes(series.value(m)) for m in SWAP)
    if swap_total is not None and swap_free is not None:
        swap_free = min(swap_free, swap_total)
        reading.swap = Swap(total=swap_total, used=swap_total - swap_free, free=swap_free)


def _filesystems(reading: Reading, series: _Series) -> None:
    """df's figures: used = size - free, available = what non-root users may still use."""
    parts: dict[str, dict[str, float]] = {}
    meta: dict[str, Labels] = {}
    for metric in (FS_SIZE, FS_FREE, FS_AVAIL):
        for sample in series.samples.get(metric, []):
            mount = sample.labels.get("mountpoint", "")
            parts.setdefault(mount, {})[metric] = sample.value
            meta[mount] = sample.labels
    found = []
    for mount, values in parts.items():
        size, free, avail = (_bytes(values.get(m)) for m in (FS_SIZE, FS_FREE, FS_AVAIL))
        if not mount.startswith("/") or size is None or free is None or avail is None or size == 0:
            continue
        labels = meta[mount]
        found.append(
            Filesystem(
                mount=mount,
                device=labels.get("device", "?"),
                fstype=labels.get("fstype") or None,
                size=size,
                used=max(size - free, 0),
                available=avail,
            )
        )
    if not found:
        reading.problems["filesystems"] = "no node_filesystem_*_bytes series"
        return
    reading.filesystems = one_per_device(found)


def _silent_since(
    client: PrometheusClient, silent: list[Target], readings: dict[str, Reading], at: float
) -> None:
    """For servers with no current series: when did their exporter last answer?"""
    narrow = fleet_filter(t.matchers for t in silent)
    index = Index({t.name: t.matchers for t in silent}, narrow[0].label if narrow else None)
    query = f"last_over_time({selector(CLOCK, narrow)}[{SILENT_WINDOW}])"
    last: dict[str, float] = {}
    _assign(client.query(query, at), index, lambda s, name: last.setdefault(name, s.value))
    for target in silent:
        if target.name in last:
            readings[
                target.name
            ].error = f"prometheus: stale: last sample {max(at - last[target.name], 0):.0f} s ago"
