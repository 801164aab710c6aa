"""The snapshot contract: lossless JSON round-trip, stable text, one-line load errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from codeb_report.errors import Exit, OutputError, SnapshotError
from codeb_report.snapshot import (
    SCHEMA_VERSION,
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
    dumps,
    json_schema,
    load,
    parse,
    save,
)

KST = timezone(timedelta(hours=9))
ROOT = Path(__file__).resolve().parent.parent


def _server(name: str, *, reverse: bool = False) -> Server:
    containers = [
        Container(
            runtime="docker",
            name=n,
            image=f"img/{n}:1",
            state="running",
            ports=[PortMapping(host_ip="0.0.0.0", host_port=3100, container_port=3000)],
            started_at=datetime(2025, 12, 19, 1, 0, tzinfo=UTC),
        )
        for n in ("b-web", "a-db")
    ]
    services = [Service(unit=u, active="active", sub="running") for u in ("z.service", "a.service")]
    ports = [
        ListeningPort(address=a, port=p, process="node", pid=10)
        for a, p in (("0.0.0.0", 3101), ("::", 22), ("127.0.0.1", 22))
    ]
    filesystems = [
        Filesystem(mount=m, device="/dev/vda1", size=100, used=10, available=90)
        for m in ("/var", "/")
    ]
    probes = [
        ProbeOutcome(probe="system", status=ProbeStatus.OK),
        ProbeOutcome(probe="docker", status=ProbeStatus.SKIPPED, reason="docker not installed"),
    ]
    if reverse:
        containers, services, ports, filesystems, probes = (
            x[::-1] for x in (containers, services, ports, filesystems, probes)
        )
    return Server(
        name=name,
        host=f"{name}.example",
        address="192.0.2.10",
        role="App Server",
        reachable=True,
        system=SystemInfo(
            hostname=f"{name}-host",
            os="Debian GNU/Linux 12 (bookworm)",
            kernel="6.1.0-18-amd64",
            uptime_seconds=6912000,
            cpu_count=4,
            load=(0.09, 0.05, 0.02),
        ),
        memory=Memory(total=16_000_000_000, used=1_600_000_000, available=14_400_000_000),
        filesystems=filesystems,
        containers=containers,
        services=services,
        ports=ports,
        probes=probes,
    )


def _snapshot(reverse: bool = False) -> Snapshot:
    servers = [_server("n2", reverse=reverse), _server("n1", reverse=reverse)]
    if reverse:
        servers.reverse()
    return Snapshot(
        collected_at=datetime(2025, 12, 20, 3, 0, tzinfo=KST),
        collector_version="0.1.0",
        servers=servers,
    )


def test_round_trip_is_lossless(tmp_path: Path) -> None:
    original = _snapshot()
    save(original, tmp_path / "s.json")
    loaded = load(tmp_path / "s.json")
    assert dumps(loaded) == dumps(original)
    assert loaded.collected_at == original.collected_at
    assert loaded.collected_at.utcoffset() == timedelta(hours=9)
    assert loaded.server("n1").memory.total == 16_000_000_000
    assert loaded.server("n1").system.load == (0.09, 0.05, 0.02)


def test_save_where_nothing_can_be_written_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    target = tmp_path / "a-file" / "sub" / "s.json"
    with pytest.raises(OutputError) as err:
        save(_snapshot(), target)
    assert err.value.format_message() == f"{target}: cannot write: Not a directory"
    assert err.value.exit_code == Exit.OUTPUT


def test_text_is_stable_whatever_the_collection_order() -> None:
    first, second = dumps(_snapshot()), dumps(_snapshot(reverse=True))
    assert first == second
    data = json.loads(first)
    assert [s["name"] for s in data["servers"]] == ["n1", "n2"]
    n1 = data["servers"][0]
    assert [c["name"] for c in n1["containers"]] == ["a-db", "b-web"]
    assert [u["unit"] for u in n1["services"]] == ["a.service", "z.service"]
    assert [(p["port"], p["address"]) for p in n1["ports"]] == [
        (22, "127.0.0.1"),
        (22, "::"),
        (3101, "0.0.0.0"),
    ]
    assert [f["mount"] for f in n1["filesystems"]] == ["/", "/var"]
    assert list(data) == sorted(data)


def test_malformed_field_is_named_with_the_server(tmp_path: Path) -> None:
    data = json.loads(dumps(_snapshot()))
    data["servers"][1]["memory"]["total"] = "lots"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError) as err:
        load(path)
    message = err.value.format_message()
    assert message.startswith(f"{path}: servers[n2].memory.total: ")
    assert "\n" not in message
    assert err.value.exit_code == Exit.INPUT


def test_some_servers_alone_are_read_and_validated(tmp_path: Path) -> None:
    """What dating a finding back reads of an earlier night: the servers named, validated
    as ever; the others are bounded JSON but not judged, and the provider part is left out."""
    data = json.loads(dumps(_snapshot()))
    data["servers"][1]["memory"]["total"] = "lots"  # n2's
    data["servers"].append({"name": "n2"})  # a second n2, unfinished
    path = tmp_path / "night.json"
    path.write_text(json.dumps(data))
    only = load(path, {"n1"})
    assert [s.name for s in only.servers] == ["n1"] and only.provider is None
    assert only.server("n1") == parse(dumps(_snapshot()), "whole").server("n1")
    with pytest.raises(SnapshotError, match=r"night.json: servers\[n2\]\.memory\.total: "):
        load(path, {"n2"})
    data["servers"].append(["not", "a", "server"])
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError, match=r"night.json: servers\[3\]: "):
        load(path, {"n1"})  # an entry without a name stays, to be named


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    data = json.loads(dumps(_snapshot()))
    data["servers"][0]["colour"] = "blue"
    with pytest.raises(SnapshotError, match=r"x\.json: servers\[n1\]\.colour: Extra inputs"):
        parse(json.dumps(data), "x.json")


def test_naive_time_is_rejected() -> None:
    data = json.loads(dumps(_snapshot()))
    data["collected_at"] = "2025-12-20T03:00:00"
    with pytest.raises(SnapshotError, match=r"^s\.json: collected_at: .*timezone"):
        parse(json.dumps(data), "s.json")


def _set(data: dict, path: str, value: object) -> None:
    """``_set(data, "servers.0.memory.total", -5)``: change one field of the JSON data."""
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value


IMPOSSIBLE = [
    ("servers.0.memory.total", -5, "servers[n1].memory.total: Input should be greater than or"),
    ("servers.0.memory.used", 16_000_000_001, "servers[n1].memory.used: 16000000001 is larger"),
    ("servers.0.memory.available", 17_000_000_000, "servers[n1].memory.available: 17000000000"),
    ("servers.0.filesystems.0.size", -1, "servers[n1].filesystems[0].size: Input should be"),
    ("servers.0.filesystems.1.used", -1, "servers[n1].filesystems[1].used: Input should be"),
    ("servers.0.system.cpu_count", 0, "servers[n1].system.cpu_count: Input should be greater"),
    ("servers.0.system.uptime_seconds", -1, "servers[n1].system.uptime_seconds: Input should"),
    ("servers.0.system.load", [0.1, -0.2, 0.0], "servers[n1].system.load[1]: Input should be"),
    ("servers.1.ports.0.port", 70000, "servers[n2].ports[0].port: Input should be less than"),
    ("servers.1.ports.0.pid", -10, "servers[n2].ports[0].pid: Input should be greater than"),
    (
        "servers.1.containers.0.ports.0.host_port",
        -1,
        "servers[n2].containers[a-db].ports[0].host_port: Input should be greater",
    ),
    ("servers.1.name", "n1", "servers: duplicate server name n1"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), IMPOSSIBLE, ids=[p for p, _, _ in IMPOSSIBLE]
)
def test_impossible_values_are_named(path: str, value: object, message: str) -> None:
    data = json.loads(dumps(_snapshot()))
    _set(data, path, value)
    with pytest.raises(SnapshotError) as err:
        parse(json.dumps(data), "s.json")
    text = err.value.format_message()
    assert text.startswith(f"s.json: {message}")
    assert "\n" not in text
    assert err.value.exit_code == Exit.INPUT


def test_filesystem_figures_that_do_not_add_up_still_load() -> None:
    data = json.loads(dumps(_snapshot()))
    # ext4 with 5 % reserved blocks: used + available < size, as df reports it.
    _set(
        data,
        "servers.0.filesystems.0",
        {"mount": "/", "device": "/dev/vda1", "size": 100, "used": 40, "available": 55},
    )
    assert parse(json.dumps(data), "s.json").server("n1").filesystems[0].available == 55


@pytest.mark.parametrize(
    "path",
    [
        ROOT / "examples" / "fleet-snapshot.json",
        *sorted((ROOT / "tests" / "fixtures" / "snapshots").glob("*.json")),
    ],
    ids=lambda p: p.name,
)
def test_committed_snapshots_pass_the_constraints(path: Path) -> None:
    assert load(path).servers


def test_newer_schema_version_is_refused() -> None:
    data = json.loads(dumps(_snapshot()))
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(
        SnapshotError,
        match=rf"^new\.json: schema_version: {SCHEMA_VERSION + 1} "
        r"is newer than this codeb-report understands",
    ):
        parse(json.dumps(data), "new.json")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", r"^f\.json: not JSON: "),
        ("[]", r"^f\.json: a snapshot is a JSON object$"),
        ('{"servers": []}', r"^f\.json: schema_version: missing or not an integer$"),
    ],
)
def test_unreadable_documents(text: str, expected: str) -> None:
    with pytest.raises(SnapshotError, match=expected):
        parse(text, "f.json")


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"nope\.json: no such file"):
        load(tmp_path / "nope.json")


def test_committed_json_schema_is_current() -> None:
    committed = (ROOT / "docs" / "snapshot.schema.json").read_text(encoding="utf-8")
    assert committed == json_schema(), "run scripts/gen-schema.py and commit the result"
