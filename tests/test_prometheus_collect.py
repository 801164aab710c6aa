"""Figures for a fleet from a real Prometheus reading a synthetic TSDB.

The fleet is written as OpenMetrics text, turned into blocks by promtool and served by
Debian's prometheus on loopback (tests/servers/prometheus.py): the queries, the label
matching, the naming rule and the stale / missing / down cases run against the real API.
Prometheus runs with a 1 h look-back so the fleet's last samples stay current for the
whole module; the configuration's stale limit is 600 s x 3 = 30 min.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers.prometheus import (
    GIB,
    LocalPrometheus,
    SyntheticFilesystem,
    SyntheticNode,
    load_openmetrics,
    start_prometheus,
    write_fleet,
)

from codeb_report.analysis import analyse
from codeb_report.analysis.reasons import connection_reason, probe_reason
from codeb_report.collect.fleet import collection_exit
from codeb_report.config import parse_config
from codeb_report.errors import Exit
from codeb_report.nightly.run import outcome
from codeb_report.prometheus.collect import Target, read_fleet
from codeb_report.prometheus.matchers import fill_template
from codeb_report.prometheus.settings import PrometheusSettings
from codeb_report.prometheus.sources import ONLY, collect_with_prometheus
from codeb_report.snapshot import ProbeStatus, Snapshot, dumps, parse

DAY = 86400.0
WEB = 20


@dataclass
class SyntheticFleet:
    prometheus: LocalPrometheus
    nodes: dict[str, SyntheticNode]
    end: float


def web(i: int) -> SyntheticNode:
    return SyntheticNode(
        instance=f"10.1.0.{i}:9100",
        labels={"name": f"web{i:02d}", "role": "app" if i % 2 else "db"},
        nodename=f"web{i:02d}.internal",
        memory_total=(8 + i) * GIB,
        memory_used_pct=10.0 + i,
        load=(0.1 * i, 0.05 * i, 0.02 * i),
        cpus=2 + i % 3,
        filesystems=[
            SyntheticFilesystem("/", "/dev/vda1", 100 * GIB, 20 * GIB, GIB // 4, reserved=5 * GIB),
            SyntheticFilesystem("/data", "/dev/vdb", 500 * GIB, 100 * GIB, i * GIB),
            SyntheticFilesystem("/run", "tmpfs", GIB, 0, 0, fstype="tmpfs"),
        ],
    )


def fleet_nodes() -> list[SyntheticNode]:
    root = [SyntheticFilesystem("/", "/dev/sda1", 50 * GIB, 10 * GIB, 0)]
    return [
        *(web(i) for i in range(1, WEB + 1)),
        # No name label: named after its instance without the port; no role label either.
        SyntheticNode(instance="10.2.0.1:9100", nodename="bare", filesystems=root),
        # One name on two instances: the second becomes twin@10.2.0.3.
        SyntheticNode(instance="10.2.0.2:9100", labels={"name": "twin"}, filesystems=root),
        SyntheticNode(instance="10.2.0.3:9100", labels={"name": "twin"}, filesystems=root),
        # One instance under a second job: one server.
        SyntheticNode(instance="10.1.0.1:9100", labels={"name": "web01", "job": "node-dup"}),
        # Last sampled 40 min ago: within Prometheus' look-back, over the stale limit.
        SyntheticNode(instance="10.3.0.1:9100", labels={"name": "stale"}, last_seen=2400),
        # Silent for 5 hours: no current series at all.
        SyntheticNode(instance="10.3.0.2:9100", labels={"name": "gone"}, last_seen=5 * 3600),
        # Its exporter stopped answering: up = 0.
        SyntheticNode(instance="10.3.0.3:9100", labels={"name": "down"}, up=0),
    ]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> SyntheticFleet:
    work: Path = tmp_path_factory.mktemp("prometheus-fleet")
    end = time.time()
    nodes = fleet_nodes()
    write_fleet(work / "fleet.om", nodes, end, days=30, step=6 * 3600)
    load_openmetrics(work / "fleet.om", work / "data")
    server = start_prometheus(work, data=work / "data", extra_args=["--query.lookback-delta=1h"])
    yield SyntheticFleet(server, {n.labels.get("name", n.instance): n for n in nodes}, end)
    server.stop()


def settings(url: str, **extra: object) -> PrometheusSettings:
    return PrometheusSettings(url=url, scrape_interval=600.0, stale_after=3.0, **extra)


def config_text(url: str, extra: str = "") -> str:
    return (
        f'[prometheus]\nurl = "{url}"\nservers = \'up{{job=~"node.*"}}\'\n'
        "scrape_interval = 600.0\nstale_after = 3.0\n"
        '[roles.app]\nlabel = "App Server"\n[roles.db]\nlabel = "DB Server"\n' + extra
    )


def discovered(url: str) -> Snapshot:
    config = parse_config(config_text(url), "fleet.toml")
    return collect_with_prometheus(config, lambda *_: pytest.fail("no server is SSH's"))


def test_configured_servers_get_their_figures(fleet: SyntheticFleet) -> None:
    s = settings(fleet.prometheus.url)
    targets = [Target(f"web{i:02d}", fill_template(s.match, f"10.1.0.{i}", "x")) for i in (1, 2, 7)]
    reading = read_fleet(s, targets)
    assert reading.error is None
    assert reading.queries == 3  # figures, CPUs, last sample: not one per server or figure
    node = fleet.nodes["web07"]
    got = reading.readings["web07"]
    assert got.error is None and got.problems == {}
    assert got.system is not None and got.memory is not None and got.swap is not None
    assert (got.system.hostname, got.system.kernel, got.system.os) == (
        "web07.internal",
        node.release,
        node.pretty_name,
    )
    assert got.system.cpu_count == node.cpus == 3
    assert got.system.load == pytest.approx(node.load)
    assert abs(got.system.uptime_seconds - 40 * DAY) < 60
    assert got.memory.total == node.memory_total
    assert got.memory.used == pytest.approx(node.memory_total * 0.17, abs=1)
    assert (got.swap.total, got.swap.used) == (2 * GIB, 0)
    # df's view: used = size - free, available without root's reserve; tmpfs left out.
    mounts = {f.mount: f for f in got.filesystems or []}
    assert sorted(mounts) == ["/", "/data"]
    root = mounts["/"]
    assert root.size == 100 * GIB and root.used + root.available + 5 * GIB == root.size
    assert mounts["/data"].used == pytest.approx(100 * GIB + 7 * GIB * 30, rel=0.01)
    assert got.provided() == {"system", "memory", "filesystems"}


def test_a_server_prometheus_does_not_know_is_named(fleet: SyntheticFleet) -> None:
    s = settings(fleet.prometheus.url)
    ghost = Target("ghost", fill_template(s.match, "10.9.9.9", "ghost"))
    reading = read_fleet(s, [ghost, Target("web01", fill_template(s.match, "10.1.0.1", "web01"))])
    assert reading.readings["ghost"].error == (
        'prometheus: no series matching {instance="10.9.9.9:9100"}'
    )
    assert reading.readings["ghost"].provided() == set()
    assert reading.readings["web01"].error is None
    assert connection_reason(reading.readings["ghost"].error).short == (
        "Prometheus에 node_exporter 시계열 없음"
    )


def test_discovered_servers_named_by_the_documented_rule(fleet: SyntheticFleet) -> None:
    snapshot = discovered(fleet.prometheus.url)
    names = [s.name for s in snapshot.servers]
    expected = {f"web{i:02d}" for i in range(1, WEB + 1)}
    expected |= {"10.2.0.1", "twin", "twin@10.2.0.3", "stale", "gone", "down"}
    assert sorted(names) == sorted(expected)  # web01 under two jobs is one server
    by_name = {s.name: s for s in snapshot.servers}
    assert by_name["web03"].role == "App Server" and by_name["web04"].role == "DB Server"
    assert by_name["10.2.0.1"].role == "server"  # no role label: default_role
    assert (by_name["twin"].host, by_name["twin@10.2.0.3"].host) == (
        "10.2.0.2:9100",
        "10.2.0.3:9100",
    )
    assert (by_name["twin"].address, by_name["10.2.0.1"].address) == ("10.2.0.2", "10.2.0.1")
    assert snapshot.prometheus is not None
    assert (snapshot.prometheus.discovered, snapshot.prometheus.error) == (len(expected), None)
    assert snapshot.prometheus.queries <= 5
    good = by_name["web05"]
    assert good.reachable and good.memory is not None and good.memory.total == 13 * GIB
    assert {(p.probe, p.status, p.source) for p in good.probes} == {
        ("system", ProbeStatus.OK, "prometheus"),
        ("memory", ProbeStatus.OK, "prometheus"),
        ("filesystems", ProbeStatus.OK, "prometheus"),
        ("docker", ProbeStatus.SKIPPED, "prometheus"),
        ("services", ProbeStatus.SKIPPED, "prometheus"),
        ("ports", ProbeStatus.SKIPPED, "prometheus"),
    }
    # The report says what was not collected where its rows would be, not "none found".
    skipped = analyse(snapshot).server("web05").skipped
    assert sorted(skipped) == [f"{p}: {ONLY}" for p in ("docker", "ports", "services")]
    assert probe_reason(ONLY).short == "Prometheus 전용 서버" and probe_reason(ONLY).detail is None
    # The snapshot carries it all through a save and a load.
    assert parse(dumps(snapshot), "snapshot.json") == parse(dumps(snapshot), "again")


def test_stale_missing_and_down_servers_show_no_figures(fleet: SyntheticFleet) -> None:
    snapshot = discovered(fleet.prometheus.url)
    by_name = {s.name: s for s in snapshot.servers}
    for name in ("stale", "gone", "down"):
        server = by_name[name]
        assert not server.reachable, name
        assert server.memory is None and server.system is None and not server.filesystems
    assert by_name["stale"].error.startswith("prometheus: stale: last sample 24")
    assert by_name["gone"].error.startswith("prometheus: stale: last sample 18")
    assert by_name["down"].error.startswith("prometheus: target down (up=0)")
    words = {n: connection_reason(by_name[n].error).short for n in ("stale", "gone", "down")}
    assert words == {
        "stale": "Prometheus 수치 오래됨 (마지막 수집 40분 전)",
        "gone": "Prometheus 수치 오래됨 (마지막 수집 5시간 전)",
        "down": "node_exporter 응답 없음 (up=0)",
    }
    assert collection_exit(snapshot) == Exit.PARTIAL == outcome(snapshot)
    findings = analyse(snapshot).findings
    unreachable = {f.server: f for f in findings if f.rule == "server.unreachable"}
    assert set(unreachable) == {"stale", "gone", "down"}
    assert unreachable["down"].action == "서버 상태 및 node_exporter·Prometheus 수집 확인"
    notes = analyse(snapshot).server("web01").notes
    assert any("Prometheus(node_exporter)에서만 수집" in "".join(s.text for s in n) for n in notes)


def test_per_server_matcher_replaces_the_template(fleet: SyntheticFleet) -> None:
    s = settings(fleet.prometheus.url, match='instance="{host}:9999"')
    targets = [
        Target("web02", fill_template('name="web02", job="node"', "ignored", "web02")),
        Target("web03", fill_template(s.match, "10.1.0.3", "web03")),
    ]
    reading = read_fleet(s, targets)
    assert reading.readings["web02"].memory.total == 10 * GIB
    assert reading.readings["web03"].error.startswith("prometheus: no series")


def test_two_targets_for_one_server_are_not_guessed(fleet: SyntheticFleet) -> None:
    s = settings(fleet.prometheus.url)
    reading = read_fleet(s, [Target("twin", fill_template('name="twin"', "h", "twin"))])
    error = reading.readings["twin"].error
    assert error.startswith('prometheus: {name="twin"} matches 2 targets')
    assert connection_reason(error).short == "Prometheus 대상 2개와 일치 (라벨 확인 필요)"


def test_a_target_a_configured_server_selects_is_not_found_twice(fleet: SyntheticFleet) -> None:
    from codeb_report.prometheus.client import PrometheusClient
    from codeb_report.prometheus.discover import discover

    s = settings(fleet.prometheus.url, servers='up{job="node"}')
    mine = Target("my-web", fill_template(s.match, "10.1.0.3", "my-web"))
    with PrometheusClient(s) as client:
        found = discover(client, s, time.time(), [mine])
    names = {f.target.name for f in found}
    assert "web03" not in names and "web04" in names  # left to the [[servers]] entry
    # Of the fleet's 27 series of up, 26 have job="node": all but web03 are found.
    assert len(found) == 25 and {"twin", "twin@10.2.0.3"} <= names


def test_check_config_names_the_selector(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "fleet.toml"
    path.write_text(config_text("http://127.0.0.1:9"))
    code = "from codeb_report.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "check-config", str(path)], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (
        0,
        f'{path}: ok, servers Prometheus finds by up{{job=~"node.*"}}\n',
    )
