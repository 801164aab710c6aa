"""Collected strings and lists are bounded in the snapshot model (codeb_report.bounds):
a name past its bound fails its probe naming the field and the limit, a text is cut with
"…", a list past MAX_ITEMS fails its probe, and a stored snapshot is cut, not refused."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from codeb_report.analysis import analyse
from codeb_report.analysis.model import ServerAnalysis
from codeb_report.analysis.reasons import probe_reason
from codeb_report.analysis.status import server_state
from codeb_report.bounds import MAX_ITEMS, TEXT_MAX
from codeb_report.collect.batch import apply_run
from codeb_report.probes import default_probes
from codeb_report.probes.base import ProbeRun
from codeb_report.render.base import Report
from codeb_report.render.view.options import RenderOptions
from codeb_report.render.view.ports import first_publishers, port_rows
from codeb_report.render.view.server import MAX_ROWS
from codeb_report.render.view.services import service_rows
from codeb_report.snapshot import (
    Container,
    ListeningPort,
    PortMapping,
    ProbeOutcome,
    ProbeStatus,
    Server,
    Service,
    Watched,
    dumps,
    parse,
)

PROBES = {probe.name: probe for probe in default_probes()}
LONG = 2000  # characters: past every name's bound
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet-snapshot.json"


def _server() -> Server:
    return Server(name="n1", host="bounds-test", role="test", reachable=True)


def _docker(name: str = "web", image: str = "nginx:1.27") -> str:
    row = {"ID": "ab12", "Names": name, "Image": image, "State": "running", "Status": "Up"}
    return json.dumps(row) + "\n-- started\n"


def _df(mount: str = "/", device: str = "/dev/vda1") -> str:
    return (
        "Filesystem Type 1-blocks Used Available Capacity Mounted on\n"
        f"{device} ext4 1000 500 500 50% {mount}\n"
    )


def _ss(address: str = "0.0.0.0", process: str = "nginx") -> str:
    return (
        "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
        f'LISTEN 0 511 {address}:80 0.0.0.0:* users:(("{process}",pid=10,fd=6))\n'
    )


def _head(hostname: str = "vm", **files: str) -> str:
    """The system probe's output: head(1) of /proc/sys/kernel/hostname and others."""
    paths = {"osrelease": "/proc/sys/kernel/osrelease", "os-release": "/etc/os-release"}
    text = f"==> /proc/sys/kernel/hostname <==\n{hostname}\n"
    return text + "".join(f"\n==> {paths[name]} <==\n{v}\n" for name, v in files.items())


def _unit(unit: str = "cron.service", description: str = "cron daemon") -> str:
    return f"{unit} loaded active running {description}\n"


# (probe, output, field the reason names, its limit): a name past its bound.
NAMES = [
    ("system", _head(hostname="h" * LONG), "SystemInfo.hostname", 255),
    ("docker", _docker(name="c" * LONG), "Container.name", 512),
    ("docker", _docker(image="registry/" + "i" * LONG), "Container.image", 512),
    ("podman", json.dumps([{"Id": "1", "Names": ["p" * LONG]}]), "Container.name", 512),
    ("filesystems", _df(mount="/" + "m" * LONG), "Filesystem.mount", 1024),
    ("filesystems", _df(device="/dev/" + "d" * LONG), "Filesystem.device", 1024),
    ("ports", _ss(address="a" * LONG), "ListeningPort.address", 128),
    ("ports", _ss(process="p" * LONG), "ListeningPort.process", 512),
    ("services", _unit(unit="u" * LONG + ".service"), "Service.unit", 256),
]  # fmt: skip


@pytest.mark.parametrize(("probe", "output", "field", "limit"), NAMES)
def test_a_name_past_its_bound_fails_its_probe_naming_field_and_limit(
    probe: str, output: str, field: str, limit: int
) -> None:
    server = _server()
    outcome = apply_run(PROBES[probe], ProbeRun(output, "", 0), server)
    assert outcome.status is ProbeStatus.FAILED
    assert outcome.reason == (
        f"unreadable output: {field}: String should have at most {limit} characters"
    )
    reason = probe_reason(outcome.reason)
    assert reason is not None and reason.short == f"값이 너무 김 ({field}: 최대 {limit}자)"
    # Nothing of it was stored.
    assert (server.system, server.containers, server.filesystems) == (None, [], [])
    assert (server.ports, server.services) == ([], [])


def test_a_name_at_its_bound_is_kept() -> None:
    server = _server()
    outcome = apply_run(PROBES["docker"], ProbeRun(_docker(name="c" * 512), "", 0), server)
    assert outcome.status is ProbeStatus.OK and server.containers[0].name == "c" * 512


# (probe, output, where the text lands, its bound): shown only, cut with "…".
TEXTS = [
    ("services", _unit(description="d" * LONG), lambda s: s.services[0].description, TEXT_MAX),
    ("system", _head(osrelease="k" * LONG), lambda s: s.system.kernel, 128),
    (
        "system",
        _head(**{"os-release": f'PRETTY_NAME="{"o" * LONG}"'}),
        lambda s: s.system.os,
        TEXT_MAX,
    ),
    (
        "docker",
        json.dumps(
            {"ID": "1", "Names": "w", "Image": "x", "State": "running", "Status": "U" * LONG}
        )
        + "\n",
        lambda s: s.containers[0].status,
        TEXT_MAX,
    ),
]


@pytest.mark.parametrize(("probe", "output", "where", "limit"), TEXTS)
def test_a_text_past_its_bound_is_cut_with_an_ellipsis(
    probe: str, output: str, where: Callable[[Server], str], limit: int
) -> None:
    server = _server()
    outcome = apply_run(PROBES[probe], ProbeRun(output, "", 0), server)
    assert outcome.status is ProbeStatus.OK, outcome.reason
    text = where(server)
    assert text == text[0] * (limit - 1) + "…"


@pytest.mark.parametrize(
    ("probe", "line", "field"),
    [
        ("services", "u{i}.service loaded active running unit {i}\n", "Server.services"),
        ("ports", "LISTEN 0 5 10.{a}.{b}.{c}:80 0.0.0.0:*\n", "Server.ports"),
    ],
)
def test_a_list_past_max_items_fails_its_probe(probe: str, line: str, field: str) -> None:
    rows = [
        line.format(i=i, a=i // 65536, b=i // 256 % 256, c=i % 256) for i in range(MAX_ITEMS + 1)
    ]
    server = _server()
    outcome = apply_run(PROBES[probe], ProbeRun("".join(rows), "", 0), server)
    assert outcome.status is ProbeStatus.FAILED
    assert outcome.reason == (
        f"unreadable output: {field}: List should have at most {MAX_ITEMS} items "
        f"after validation, not {MAX_ITEMS + 1}"
    )
    reason = probe_reason(outcome.reason)
    assert reason is not None and reason.short == f"항목이 너무 많음 ({field}: 최대 {MAX_ITEMS}개)"


def test_a_long_error_reason_is_cut() -> None:
    server = _server()
    server.error = "x" * 5000  # assignments are validated like construction
    assert len(server.error) == 1000 and server.error.endswith("…")


def test_a_stored_snapshot_past_the_bounds_is_cut_on_load_not_refused() -> None:
    data = json.loads(EXAMPLE.read_text())
    server = data["servers"][0]
    server["system"]["hostname"] = "h" * LONG
    server["containers"][0]["name"] = "c" * LONG
    server["services"][0]["description"] = "d" * LONG
    container = server["containers"][0]
    server["containers"] = [{**container, "name": f"c{i:05d}"} for i in range(MAX_ITEMS + 5)] + [
        {**container, "name": "z" * LONG}
    ]
    snapshot = parse(json.dumps(data), "old.json")
    loaded = snapshot.servers[0]
    assert loaded.system.hostname == "h" * 254 + "…"
    assert len(loaded.containers) == MAX_ITEMS
    assert loaded.services[0].description == "d" * 255 + "…"
    # Written again, it loads as it is.
    assert parse(dumps(snapshot), "again.json") == snapshot


def test_a_stored_snapshot_with_a_name_cut_inside_a_list_loads() -> None:
    data = json.loads(EXAMPLE.read_text())
    data["servers"][2]["containers"][0]["name"] = "c" * LONG
    loaded = parse(json.dumps(data), "old.json").servers[2]
    assert "c" * 511 + "…" in [c.name for c in loaded.containers]
    # Also when only some servers are read (an earlier night, for a diff).
    name = data["servers"][2]["name"]
    [alone] = parse(json.dumps(data), "old.json", servers=[name]).servers
    assert "c" * 511 + "…" in [c.name for c in alone.containers]


def test_other_problems_are_still_refused_with_the_field() -> None:
    data = json.loads(EXAMPLE.read_text())
    data["servers"][0]["system"]["hostname"] = "h" * LONG
    data["servers"][0]["ports"][0]["port"] = 70000
    with pytest.raises(Exception, match=r"old.json: servers\[n1\]\.ports\[0\]\.port"):
        parse(json.dumps(data), "old.json")
    with pytest.raises(Exception, match=r"old.json: servers\[n1\]\.ports\[0\]\.port"):
        parse(json.dumps(data), "old.json", servers=["n1"])


def test_more_containers_than_max_items_fail_the_probe() -> None:
    """Each with its start time from `docker inspect`: matching the two took a scan per
    container (10,001 of them: 14 s here, quadratic: 8 MiB of output holds ~60,000), now
    a bisection (under a second for the whole test)."""
    rows = "".join(
        json.dumps({"ID": f"{i:06x}", "Names": f"c{i}", "Image": "x", "State": "running"}) + "\n"
        for i in range(MAX_ITEMS + 1)
    )
    started = "".join(f"{i:06x}{'0' * 58} 2026-11-27T03:35:17Z\n" for i in range(MAX_ITEMS + 1))
    server = _server()
    outcome = apply_run(PROBES["docker"], ProbeRun(f"{rows}-- started\n{started}", "", 0), server)
    assert outcome.reason == (
        f"unreadable output: Server.containers: List should have at most {MAX_ITEMS} items "
        f"after validation, not {MAX_ITEMS + 1}"
    )
    assert server.containers == []


def test_a_docker_line_that_is_not_an_object_fails_with_its_reason() -> None:
    outcome = apply_run(PROBES["docker"], ProbeRun('["x"]\n-- started\n', "", 0), _server())
    assert outcome.reason == (
        "unreadable output: ValueError: a line of docker ps is not a JSON object: '[\"x\"]'"
    )


def test_the_container_publishing_a_port_is_the_first_in_listing_order() -> None:
    """first_publishers agrees with asking every mapping in order, on overlapping ranges."""
    rng = random.Random(9)
    published = []
    for i in range(200):
        start, size = rng.randint(1, 300), rng.randint(1, 40)
        published.append((PortMapping(host_port=start, container_port=1, range=size), f"c{i}"))
    ports = {rng.randint(1, 400) for _ in range(150)}
    naive = {
        port: name
        for port in ports
        for name in [next((n for m, n in published if m.publishes(port)), None)]
        if name is not None
    }
    assert first_publishers(published, ports) == naive


def test_a_server_at_its_list_bounds_is_rendered_in_one_pass() -> None:
    """MAX_ITEMS listening ports and a container publishing MAX_ITEMS other ports: each
    port asked every mapping (10^8 questions, about half a minute here) before."""
    server = _server()
    server.ports = [ListeningPort(address="0.0.0.0", port=p) for p in range(1, MAX_ITEMS + 1)]
    mappings = [PortMapping(host_port=20000 + i, container_port=80) for i in range(MAX_ITEMS)]
    mappings[-1] = PortMapping(host_port=MAX_ITEMS, container_port=80)
    server.containers = [
        Container(runtime="docker", name="web", image="x", state="running", ports=mappings)
    ]
    rows = port_rows(server, RenderOptions())
    assert len(rows) == MAX_ITEMS and rows[-1].container == "web"
    assert [r.container for r in rows[:-1]] == [None] * (MAX_ITEMS - 1)


def test_thousands_of_runner_units_beside_thousands_of_services_render_in_one_pass() -> None:
    """Each watched unit looked through every service (10^8 comparisons at the bounds,
    35 s here); now by name. Each still gets its own listing's state."""
    server = _server()
    server.services = [
        Service(unit=f"actions.runner.r{i}.service", active="active", sub="running")
        for i in range(MAX_ITEMS - 1)
    ] + [Service(unit="actions.runner.r-down.service", active="failed", sub="failed")]
    server.watched = [
        Watched(kind="unit", name=f"actions.runner.r{i}", present=True, ci_runner=True)
        for i in range(MAX_ITEMS - 1)
    ] + [Watched(kind="unit", name="actions.runner.r-down", present=True, ci_runner=True)]
    judged = ServerAnalysis(name="n1", state=server_state(server))
    rows = service_rows(server, judged, RenderOptions())
    assert len(rows) == MAX_ITEMS
    assert {r.status.word for r in rows[:-1]} == {"Active"} and rows[-1].status.word == "Failed"


def test_a_value_past_its_bound_asks_to_look_at_what_the_server_printed() -> None:
    """Not "check the command and permissions": the command ran, its output was absurd."""
    snapshot = parse(EXAMPLE.read_text(), "example.json")
    reason = "unreadable output: SystemInfo.hostname: String should have at most 255 characters"
    snapshot.servers[0].probes = [
        ProbeOutcome(probe="system", status=ProbeStatus.FAILED, reason=reason)
    ]
    [found] = [f for f in analyse(snapshot).findings if f.rule == "probe.failed"]
    assert found.action == "서버가 출력한 값 확인 (수집 한도 초과, docs/snapshot.md)"
    assert found.step == "시스템 정보: 서버가 출력한 값 확인"


def _report_of(server: Server) -> str:
    snapshot = parse(EXAMPLE.read_text(), "example.json")
    snapshot.servers = [server]
    return Report(snapshot, analyse(snapshot), RenderOptions()).markdown


def test_a_server_with_thousands_of_rows_prints_the_first_hundreds_and_counts_the_rest() -> None:
    """Up to MAX_ITEMS of each is a valid snapshot, but not a readable report: each table
    shows MAX_ROWS rows, failed ones first, and says how many it left out."""
    server = parse(EXAMPLE.read_text(), "example.json").servers[0]
    server.watched = []
    server.services = [
        Service(unit=f"s{i:04d}.service", active="active", sub="running") for i in range(1000)
    ] + [Service(unit="zz-broken.service", active="failed", sub="failed")]
    server.ports = [ListeningPort(address="0.0.0.0", port=p) for p in range(1, 1001)]
    web = server.containers[0]
    server.containers = [web.model_copy(update={"name": f"web{i:04d}"}) for i in range(1000)]
    text = _report_of(server)
    assert text.count("| s0") == MAX_ROWS - 1  # the failed one takes the first row
    assert "| zz-broken | ❌" in text
    assert text.count("| web") == MAX_ROWS
    assert text.count("외 801개는 생략했습니다 (전체 목록: snapshot.json).") == 1  # services
    assert (
        text.count("외 800개는 생략했습니다 (전체 목록: snapshot.json).") == 2
    )  # containers, ports
    assert len(text.encode()) < 150_000


def test_a_table_at_max_rows_is_whole() -> None:
    server = parse(EXAMPLE.read_text(), "example.json").servers[0]
    server.ports = [ListeningPort(address="0.0.0.0", port=p) for p in range(1, MAX_ROWS + 1)]
    text = _report_of(server)
    assert f"| {MAX_ROWS} | 0.0.0.0 |" in text and "생략했습니다" not in text
