"""The inventory snapshot: the contract between collecting, reporting and diffing.

A snapshot is written as JSON with sorted keys and canonically ordered lists, so two
snapshots of the same fleet differ as text exactly where the fleet differs.
Bump ``SCHEMA_VERSION`` on every incompatible change and add a migration for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from codeb_report.atomic import write_output
from codeb_report.bounds import (
    MAX_ITEMS,
    MAX_ROUTE_ITEMS,
    MAX_ROUTES,
    PATH_MAX,
    Address,
    Hostname,
    Message,
    Name,
    PathName,
    ShortText,
    Text,
    UnitName,
    Word,
    fit_stored,
    items,
)
from codeb_report.controls import ESCAPED_SURROGATE, LONE_SURROGATE, json_text
from codeb_report.errors import SnapshotError
from codeb_report.inputs import InputProblem, read_text
from codeb_report.provider.model import Provider
from codeb_report.provider.model import canonical as canonical_provider
from codeb_report.validation import field_path

SCHEMA_VERSION = 2
# A 1,000-server snapshot is about 3 MB; past this a file is not a snapshot of ours.
MAX_SNAPSHOT_BYTES = 64 * 2**20

# Impossible values are refused on load, so that a hand-edited or corrupted snapshot is
# named instead of turning into a report with negative disks or a 0-CPU server. Numbers
# are finite and bounded: an "inf" load or a 400-digit MemTotal from a server would
# otherwise break the report's arithmetic and charts on every night it stays in the trends.
MAX_INT = 2**63 - 1  # what every JSON reader with 64-bit integers holds
MAX_CPUS = 65536
MAX_LOAD = 4194304.0  # a load average counts tasks: Linux's largest pid_max
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Bytes = Annotated[int, Field(ge=0, le=MAX_INT)]
PortNumber = Annotated[int, Field(ge=0, le=65535)]
Finite = Annotated[float, Field(ge=0, le=MAX_INT, allow_inf_nan=False)]
LoadAverage = Annotated[float, Field(ge=0, le=MAX_LOAD, allow_inf_nan=False)]


class Model(BaseModel):
    """Base for every snapshot part: unknown fields are errors, not silently dropped, and
    no float is inf or nan (JSON has no such number; the report's arithmetic would fail).

    Assignments are validated too: probes store what they parsed by assigning it
    (``server.containers = ...``), and the bounds of codeb_report.bounds hold there."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)


class ProbeStatus(StrEnum):
    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"


class ProbeOutcome(Model):
    """What became of one probe on one server; ``reason`` says why it was skipped or failed.

    ``source`` is recorded when Prometheus is configured: "prometheus" where node_exporter's
    series gave the figures (system, memory, filesystems), "ssh" where the server was asked.
    """

    probe: str
    status: ProbeStatus
    reason: Message | None = None
    source: Literal["ssh", "prometheus"] | None = None


def _within_total(value: int, info: ValidationInfo) -> int:
    """A part of ``total`` (used, available, free) cannot be larger than it."""
    total = info.data.get("total")
    if total is not None and value > total:
        raise ValueError(f"{value} is larger than total ({total})")
    return value


class SystemInfo(Model):
    hostname: Hostname
    os: Text | None = None
    kernel: ShortText | None = None
    uptime_seconds: Count | None = None
    cpu_count: Annotated[int, Field(ge=1, le=MAX_CPUS)] | None = None
    load: tuple[LoadAverage, LoadAverage, LoadAverage] | None = None


class Memory(Model):
    """Bytes, as /proc/meminfo reports them (``used`` = total - available)."""

    total: Bytes
    used: Bytes
    available: Bytes

    _parts = field_validator("used", "available")(_within_total)


class Swap(Model):
    total: Bytes
    used: Bytes
    free: Bytes

    _parts = field_validator("used", "free")(_within_total)


class Filesystem(Model):
    mount: PathName
    device: PathName
    fstype: Word | None = None
    # Not checked against each other: reserved blocks make used + available < size, and
    # some filesystems (network, FUSE) report figures that do not add up at all.
    size: Bytes
    used: Bytes
    available: Bytes


class PortMapping(Model):
    """A published (or only exposed) port, or a range of ``range`` consecutive ports from
    ``host_port`` and ``container_port``: docker's ``0.0.0.0:49152-65535->49152-65535/udp``
    (a TURN server) is one mapping, not 16,384."""

    host_ip: Address | None = None
    host_port: PortNumber | None = None
    container_port: PortNumber
    protocol: Word = "tcp"
    range: Annotated[int, Field(ge=1, le=65536)] = 1

    @model_validator(mode="after")
    def _within_port_numbers(self) -> PortMapping:
        if max(self.container_port, self.host_port or 0) + self.range - 1 > 65535:
            raise ValueError(f"range of {self.range} ports runs past port 65535")
        return self

    def publishes(self, port: int) -> bool:
        """Is host ``port`` one this mapping publishes?"""
        return self.host_port is not None and self.host_port <= port < self.host_port + self.range


class Container(Model):
    runtime: Literal["docker", "podman"]
    name: Name
    image: Name
    state: Word
    status: Text | None = None
    ports: list[PortMapping] = items()
    started_at: AwareDatetime | None = None
    created_at: AwareDatetime | None = None


class Service(Model):
    unit: UnitName
    load: Word | None = None
    active: Word
    sub: Word
    description: Text | None = None
    active_since: AwareDatetime | None = None


class ListeningPort(Model):
    address: Address
    port: PortNumber
    protocol: Word = "tcp"
    process: Name | None = None
    pid: Count | None = None


class Centrifugo(Model):
    version: ShortText | None = None
    go_version: ShortText | None = None
    engine: Word | None = None
    port: PortNumber | None = None
    unit: UnitName | None = None
    active: Word | None = None
    active_since: AwareDatetime | None = None
    memory_bytes: Bytes | None = None
    cpu_seconds: Finite | None = None
    health: Text | None = None
    allowed_origins: Annotated[list[Name], Field(max_length=MAX_ITEMS)] | None = None
    endpoints: list[Name] = items()
    load: Word | None = None  # systemd LoadState: "not-found" when the unit is missing
    sub: Word | None = None  # systemd SubState, e.g. "running"
    config_path: PathName | None = None


class Database(Model):
    name: Name
    size: Bytes


class PostgreSQL(Model):
    running: bool
    runtime: Literal["host", "docker", "podman"] = "host"
    container: Name | None = None
    version: ShortText | None = None
    databases: Annotated[list[Database], Field(max_length=MAX_ITEMS)] | None = None
    connections: Count | None = None
    max_connections: Count | None = None
    error: Message | None = None


class Redis(Model):
    running: bool
    runtime: Literal["host", "docker", "podman"] = "host"
    container: Name | None = None
    version: ShortText | None = None
    auth_required: bool | None = None
    authenticated: bool | None = None
    memory_used: Bytes | None = None
    error: Message | None = None


class BackupDir(Model):
    path: str
    exists: bool
    files: Count = 0
    total_size: Bytes = 0
    newest_file: PathName | None = None
    newest_mtime: AwareDatetime | None = None
    max_age_hours: Finite | None = None
    error: Message | None = None  # e.g. "permission denied": files and size then unknown


class Watched(Model):
    """A unit or container the configuration lists, or a CI runner unit found by pattern.

    ``present`` is False when it does not exist, None when that could not be told (``error``).
    """

    kind: Literal["unit", "container"]
    name: str
    present: bool | None
    unit: UnitName | None = None  # the unit's full Id, e.g. codeb-watchdog.service
    runtime: Literal["docker", "podman"] | None = None
    state: Word | None = None  # ActiveState of a unit, State.Status of a container
    sub: Word | None = None
    since: AwareDatetime | None = None
    description: Text | None = None
    image: Name | None = None
    ci_runner: bool = False
    error: Message | None = None


class ProxyRoute(Model):
    """One ``reverse_proxy`` handler and where it sits: server, listen addresses, matchers."""

    server: Hostname  # the proxy's own name for the listening server, e.g. Caddy's "srv0"
    listen: list[Hostname] = items(MAX_ROUTE_ITEMS)  # ":443", "127.0.0.1:8080"
    hosts: list[Hostname] = items(MAX_ROUTE_ITEMS)  # host matchers; empty: any host
    paths: list[PathName] = items(MAX_ROUTE_ITEMS)  # path matchers; empty: any path
    upstreams: list[Hostname] = items(MAX_ROUTE_ITEMS)  # dial addresses, "localhost:4001"
    dynamic: bool = False  # upstreams found at run time (SRV, A records), not listed
    # Where the handler is in the admin API's configuration tree, e.g.
    # "apps/http/servers/srv0/routes/0/handle/0/routes/0/handle/0": POSTing an upstream
    # to <admin>/config/<handler>/upstreams adds it to the running proxy.
    handler: Annotated[str, Field(max_length=4 * PATH_MAX)] | None = None


class ReverseProxy(Model):
    """The reverse proxy a server runs, as its running configuration routes requests.

    ``source`` says where the configuration was read: the proxy's admin API, or its
    configuration file adapted (``admin_error`` then says why the API was not used).
    """

    software: Literal["caddy"] = "caddy"
    version: ShortText | None = None
    source: Literal["admin", "caddyfile"]
    origin: str  # the admin URL or the Caddyfile's path
    admin_error: Message | None = None
    routes: list[ProxyRoute] = items(MAX_ROUTES)
    truncated: bool = False  # more routes than the probe keeps


class Server(Model):
    name: str
    host: str
    address: str | None = None
    role: str
    tags: list[str] = Field(default_factory=list)
    reachable: bool
    error: Message | None = None
    system: SystemInfo | None = None
    memory: Memory | None = None
    swap: Swap | None = None
    filesystems: list[Filesystem] = items()
    containers: list[Container] = items()
    services: list[Service] = items()
    ports: list[ListeningPort] = items()
    centrifugo: Centrifugo | None = None
    postgresql: PostgreSQL | None = None
    redis: Redis | None = None
    backups: list[BackupDir] = items()
    watched: list[Watched] = items()
    proxy: ReverseProxy | None = None
    probes: list[ProbeOutcome] = Field(default_factory=list)

    def outcome(self, probe: str) -> ProbeOutcome | None:
        return next((p for p in self.probes if p.probe == probe), None)


class PrometheusSource(Model):
    """The Prometheus the figures were read from; ``error`` when it could not answer."""

    url: str  # without credentials (the configuration refuses them in the URL)
    queried_at: AwareDatetime
    error: Message | None = None
    discovered: Count = 0  # servers found by [prometheus] servers
    queries: Count = 0  # instant queries the collection made


def _version_required(schema: dict[str, Any]) -> None:
    """In a file ``schema_version`` is required (``parse`` refuses a file without it); in
    Python the model fills it in, hence the default."""
    schema["required"] = ["schema_version", *schema.get("required", [])]


class Snapshot(Model):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, json_schema_extra=_version_required
    )

    schema_version: Annotated[int, Field(strict=True, ge=1)] = SCHEMA_VERSION
    collected_at: AwareDatetime
    collector_version: str
    servers: list[Server] = Field(default_factory=list)
    # The cloud account the servers run in (``[vultr]`` in the configuration); None when
    # the configuration has no provider table.
    provider: Provider | None = None
    prometheus: PrometheusSource | None = None

    @field_validator("servers")
    @classmethod
    def _unique_names(cls, servers: list[Server]) -> list[Server]:
        # Reports, diffs and trends find a server by its name: a second one would be hidden.
        seen: set[str] = set()
        for server in servers:
            if server.name in seen:
                raise ValueError(f"duplicate server name {server.name}")
            seen.add(server.name)
        return servers

    def server(self, name: str) -> Server | None:
        return next((s for s in self.servers if s.name == name), None)


def _canonical(snapshot: Snapshot) -> Snapshot:
    """Sort every list by its natural key so equal fleets serialise identically."""
    servers = []
    for s in snapshot.servers:
        servers.append(
            s.model_copy(
                update={
                    "tags": sorted(s.tags),
                    "filesystems": sorted(s.filesystems, key=lambda f: f.mount),
                    "containers": sorted(s.containers, key=lambda c: (c.runtime, c.name)),
                    "services": sorted(s.services, key=lambda u: u.unit),
                    "ports": sorted(s.ports, key=lambda p: (p.protocol, p.port, p.address)),
                    "backups": sorted(s.backups, key=lambda b: b.path),
                    "watched": sorted(s.watched, key=lambda w: (w.kind, w.name)),
                    "probes": sorted(s.probes, key=lambda p: p.probe),
                }
            )
        )
    provider = None if snapshot.provider is None else canonical_provider(snapshot.provider)
    return snapshot.model_copy(
        update={"servers": sorted(servers, key=lambda s: s.name), "provider": provider}
    )


def _omit_unused(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out the Prometheus fields when Prometheus is not configured, so a snapshot
    collected without it reads as before."""
    if data.get("prometheus") is None:
        data.pop("prometheus", None)
    for server in data.get("servers", []):
        for outcome in server.get("probes", []):
            if outcome.get("source") is None:
                outcome.pop("source", None)
    return data


def dumps(snapshot: Snapshot) -> str:
    data = _omit_unused(_canonical(snapshot).model_dump(mode="json"))
    return json_text(data, sort_keys=True)


def save(snapshot: Snapshot, path: Path) -> None:
    """Write the snapshot to ``path`` (``-``: stdout) by ``write_output``'s rule."""
    write_output(path, dumps(snapshot))


def parse(text: str, source: str, servers: Collection[str] | None = None) -> Snapshot:
    """Validate snapshot JSON; errors name ``source`` and the offending field in one line.

    ``servers``: only the servers of these names are kept, and validated, and the provider
    part is left out (None: the whole snapshot). Dating a finding back reads the same few
    servers of up to 30 earlier nights; validating every server of every night was most
    of a diff's time. The JSON is still bounded as a whole."""
    try:
        data = json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{source}: not JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise SnapshotError(f"{source}: not a snapshot: nested too deeply") from None
    except ValueError as exc:  # InputProblem included
        raise SnapshotError(f"{source}: {exc}") from None
    if not isinstance(data, dict):
        raise SnapshotError(f"{source}: a snapshot is a JSON object")
    if ESCAPED_SURROGATE.search(text):
        try:
            where = _lone_surrogate(data)
        except RecursionError:
            raise SnapshotError(f"{source}: not a snapshot: nested too deeply") from None
        if where is not None:
            field = field_path(where, data) or "(top level)"
            raise SnapshotError(f"{source}: {field}: not text (a lone UTF-16 surrogate escape)")
    version = data.get("schema_version")
    if type(version) is not int:  # true is an int to Python, not a version
        raise SnapshotError(f"{source}: schema_version: missing or not an integer")
    if version > SCHEMA_VERSION:
        raise SnapshotError(
            f"{source}: schema_version: {version} is newer than this codeb-report "
            f"understands ({SCHEMA_VERSION}); upgrade codeb-report"
        )
    try:
        data = migrate(data)
    except SnapshotError as exc:
        raise SnapshotError(f"{source}: {exc.format_message()}") from None
    chosen, kept = (data, None) if servers is None else _only(data, servers)
    for _ in range(2):
        try:
            return Snapshot.model_validate(chosen)
        except ValidationError as exc:
            # Stored before the bounds: a name or list past its bound is cut, not refused;
            # once cut it is within its bound, so the next validation passes.
            if others := fit_stored(chosen, exc.errors()):
                raise _invalid(source, others[0], data, kept) from None
    try:
        return Snapshot.model_validate(chosen)
    except ValidationError as exc:
        raise _invalid(source, exc.errors()[0], data, kept) from None


def _lone_surrogate(node: Any, where: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    """Where in ``node`` a string or key holds half a surrogate pair, if anywhere (only a
    file with such an escape at all is searched: emoji written as escaped pairs are
    whole once parsed)."""
    if isinstance(node, str):
        return where if LONE_SURROGATE.search(node) else None
    items: Any = ()
    if isinstance(node, dict):
        for key in node:
            if LONE_SURROGATE.search(key):
                return (*where, key)
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    for key, value in items:
        if (found := _lone_surrogate(value, (*where, key))) is not None:
            return found
    return None


def _invalid(source: str, err: Any, data: dict[str, Any], kept: list[int] | None) -> SnapshotError:
    loc = tuple(err["loc"])
    if kept and loc[0] == "servers" and len(loc) > 1 and isinstance(loc[1], int):
        loc = ("servers", kept[loc[1]], *loc[2:])  # the entry's place in the file
    field = field_path(loc, data) or "(top level)"
    message = err["msg"].removeprefix("Value error, ")
    return SnapshotError(f"{source}: {field}: {message}")


def _only(data: dict[str, Any], names: Collection[str]) -> tuple[dict[str, Any], list[int]]:
    """``data`` with the servers named in ``names`` and no provider part, and where each
    kept server is in the file's list; an entry that is not a named server stays, for the
    model to name what is wrong with it."""
    listed = data.get("servers")
    if not isinstance(listed, list):
        return data, []
    kept = [i for i, one in enumerate(listed) if _named(one) in names or _named(one) is None]
    return {**data, "servers": [listed[i] for i in kept], "provider": None}, kept


def _named(server: Any) -> str | None:
    name = server.get("name") if isinstance(server, dict) else None
    return name if isinstance(name, str) else None


def _bounded_int(text: str) -> int:
    """A JSON integer, said in one line past Python's own limit (4,300 digits, whose error
    advises changing the interpreter); shorter ones reach the model, which names the field
    of one beyond ``MAX_INT``."""
    if len(text.lstrip("-")) > 4000:
        raise ValueError(f"number {text[:12]}… ({len(text)} digits) is too large")
    return int(text)


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older snapshot up to ``SCHEMA_VERSION``, one step at a time."""
    version = data["schema_version"]
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SnapshotError(f"schema_version: {version} is too old to read")
        data = step(data)
        if data.get("schema_version") != version + 1:
            # A step that does not advance would loop forever or skip a step.
            raise SnapshotError(
                f"schema_version: migration from {version} did not yield {version + 1}"
            )
        version = data["schema_version"]
    return data


# schema_version N -> a function taking the JSON data of version N (a dict) and returning
# it as version N+1, with "schema_version" set to N+1. Each step is tested on a recorded
# snapshot of version N under tests/fixtures/snapshots/ (see tests/test_migrations.py).
def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds optional parts (``provider`` and others), and port ranges: version 1
    wrote one mapping per port of a published range, joined back into one here.

    Only the path to each port list is copied, not the whole snapshot (a deep copy cost
    as much as validating it, for each of the nights a diff dates findings back over)."""
    servers = data.get("servers")
    if isinstance(servers, list):
        data = {**data, "servers": [_server_v2(server) for server in servers]}
    return {**data, "schema_version": 2}


def _server_v2(server: Any) -> Any:
    containers = server.get("containers") if isinstance(server, dict) else None
    if not isinstance(containers, list):
        return server
    return {**server, "containers": [_container_v2(one) for one in containers]}


def _container_v2(container: Any) -> Any:
    if isinstance(container, dict) and isinstance(container.get("ports"), list):
        return {**container, "ports": _joined_ranges(container["ports"])}
    return container


def _joined_ranges(ports: list[Any]) -> list[Any]:
    joined: list[Any] = []
    for port in ports:
        last = joined[-1] if joined else None
        if isinstance(last, dict) and isinstance(port, dict) and _continues(last, port):
            last["range"] = last.get("range", 1) + 1
        else:
            joined.append(dict(port) if isinstance(port, dict) else port)
    return joined


def _continues(run: dict[str, Any], port: dict[str, Any]) -> bool:
    """Is ``port`` the next port of ``run`` (same address and protocol, both numbers +1)?"""
    if set(port) - {"host_ip", "host_port", "container_port", "protocol"}:
        return False
    same = ("host_ip", "protocol")
    if any(run.get(key) != port.get(key) for key in same):
        return False
    count = run.get("range", 1)
    start, host = run.get("container_port"), run.get("host_port")
    if not all(isinstance(v, int) for v in (count, start, port.get("container_port"))):
        return False
    if port["container_port"] != start + count:
        return False
    if host is None or port.get("host_port") is None:
        return host is None and port.get("host_port") is None
    return isinstance(host, int) and port["host_port"] == host + count


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def load(path: Path, servers: Collection[str] | None = None) -> Snapshot:
    """Read and validate a snapshot file: a regular file of at most ``MAX_SNAPSHOT_BYTES``
    (a FIFO or ``/dev/zero`` is refused before a byte is read); ``servers`` as ``parse``."""
    try:
        text = read_text(path, MAX_SNAPSHOT_BYTES)
    except FileNotFoundError:
        raise SnapshotError(f"{path}: no such file") from None
    except InputProblem as exc:
        raise SnapshotError(f"{path}: {exc}") from None
    return parse(text, str(path), servers)


def now() -> datetime:
    return datetime.now().astimezone()


def json_schema() -> str:
    return json.dumps(Snapshot.model_json_schema(), indent=2, sort_keys=True) + "\n"
