"""Published port ranges stay ranges: in the probes' parse, the snapshot (schema 2, joined
back from version 1's one-per-port lists) and the report; IPv4/IPv6 and tcp/udp apart."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from codeb_report.errors import SnapshotError
from codeb_report.probes.containers import docker_ports, podman_ports
from codeb_report.render.view.containers import ports_text
from codeb_report.snapshot import Container, PortMapping, Server, Snapshot, dumps, parse

# A TURN server as `docker ps` lists it (Docker 20.10 and later: IPv6 as ::: or [::]).
TURN = (
    "0.0.0.0:3478->3478/tcp, :::3478->3478/tcp, 0.0.0.0:3478->3478/udp, :::3478->3478/udp, "
    "0.0.0.0:49152-65535->49152-65535/udp, :::49152-65535->49152-65535/udp"
)
FIXTURES = Path(__file__).parent / "fixtures"


def test_a_docker_range_is_one_mapping() -> None:
    ports = docker_ports(TURN)
    assert len(ports) == 6
    assert ports[4] == PortMapping(
        host_ip="0.0.0.0", host_port=49152, container_port=49152, protocol="udp", range=16384
    )


def test_the_whole_port_space_parses_at_once() -> None:
    tracemalloc.start()
    try:
        [mapping] = docker_ports("0.0.0.0:1-65535->1-65535/tcp")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (mapping.host_port, mapping.range) == (1, 65535)
    assert peak < 1024**2  # never one object per port (65,535 mappings take 34 MB)


@pytest.mark.parametrize(
    "item",
    ["0.0.0.0:8000-8002->80-81/tcp", "0.0.0.0:9000-8000->9000-8000/tcp", "65535-65536/tcp"],
)
def test_impossible_ranges_are_refused(item: str) -> None:
    with pytest.raises(ValueError):
        docker_ports(item)


def test_a_podman_range_is_one_mapping() -> None:
    row = {"host_ip": "", "container_port": 49152, "host_port": 49152, "range": 16384}
    [mapping] = podman_ports([{**row, "protocol": "udp"}])
    assert (mapping.host_ip, mapping.host_port, mapping.range, mapping.protocol) == (
        None,
        49152,
        16384,
        "udp",
    )


def test_the_report_shows_ranges_protocols_and_families_apart() -> None:
    assert ports_text(docker_ports(TURN)) == (
        "3478→3478, 3478→3478/udp, 49152-65535→49152-65535/udp"
    )
    only_v6 = docker_ports("[::]:8080->80/tcp, 0.0.0.0:9090->90/tcp, :::9090->90/tcp")
    assert ports_text(only_v6) == "8080→80 (IPv6), 9090→90"
    local = docker_ports("127.0.0.1:6379->6379/tcp, [::1]:6379->6379/tcp, 5432/tcp")
    assert ports_text(local) == "127.0.0.1:6379→6379, [::1]:6379→6379, 5432"


def _snapshot(ports: list[PortMapping]) -> Snapshot:
    container = Container(
        runtime="docker", name="turn", image="coturn", state="running", ports=ports
    )
    server = Server(name="n1", host="h", role="r", reachable=True, containers=[container])
    return Snapshot(
        collected_at=datetime(2026, 1, 1, tzinfo=UTC), collector_version="0", servers=[server]
    )


def test_a_range_is_one_entry_in_the_snapshot() -> None:
    text = dumps(_snapshot(docker_ports(TURN)))
    assert len(json.loads(text)["servers"][0]["containers"][0]["ports"]) == 6
    assert len(text) < 4000


def test_a_range_past_port_65535_is_refused_on_load() -> None:
    text = dumps(_snapshot([PortMapping(host_port=65535, container_port=65535)]))
    bad = text.replace('"range": 1', '"range": 2')
    with pytest.raises(SnapshotError, match="runs past port 65535"):
        parse(bad, "s.json")


def test_version_1_lists_of_single_ports_are_joined_into_ranges() -> None:
    v1 = json.loads((FIXTURES / "snapshots" / "v1-2025-12-06.json").read_text(encoding="utf-8"))
    v1["servers"][0]["containers"] = [
        {
            "runtime": "docker",
            "name": "turn",
            "image": "coturn",
            "state": "running",
            "ports": [
                {"host_ip": ip, "host_port": p, "container_port": p, "protocol": "udp"}
                for ip in ("0.0.0.0", "::")
                for p in range(49152, 65536)
            ]
            + [{"host_ip": "0.0.0.0", "host_port": 8080, "container_port": 80, "protocol": "tcp"}],
        }
    ]
    loaded = parse(json.dumps(v1), "v1.json")
    ports = loaded.servers[0].containers[0].ports
    assert [(p.host_ip, p.host_port, p.range, p.protocol) for p in ports] == [
        ("0.0.0.0", 49152, 16384, "udp"),
        ("::", 49152, 16384, "udp"),
        ("0.0.0.0", 8080, 1, "tcp"),
    ]
