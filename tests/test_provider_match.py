"""Instances to configured servers: address first, then label, then hostname."""

from __future__ import annotations

from codeb_report.provider.match import ServerKeys, match_servers
from codeb_report.provider.model import Instance


def inst(n: int, label: str = "", hostname: str = "", ip: str | None = None, **kw: str) -> Instance:
    return Instance(
        id=f"id-{n}", label=label, hostname=hostname, main_ip=ip, region="icn", plan="p", **kw
    )


def matched(instances: list[Instance], servers: list[ServerKeys]) -> dict[str, tuple]:
    return {i.id: (i.server, i.matched_by) for i in match_servers(instances, servers)}


def test_address_wins_over_a_label_naming_another_server() -> None:
    instances = [inst(1, label="n2", ip="192.0.2.1"), inst(2, label="other", ip="192.0.2.2")]
    servers = [ServerKeys("n1", "192.0.2.1"), ServerKeys("n2", "n2.example")]
    assert matched(instances, servers) == {"id-1": ("n1", "address"), "id-2": (None, None)}


def test_ipv6_and_the_address_ssh_connected_to() -> None:
    instances = [
        inst(1, v6_main_ip="2001:db8::1"),
        inst(2, ip="0.0.0.0", internal_ip="10.0.0.2"),
    ]
    servers = [
        ServerKeys("a", "[2001:DB8:0::1]"),
        ServerKeys("b", "b.example", address="10.0.0.2"),
    ]
    assert matched(instances, servers) == {"id-1": ("a", "address"), "id-2": ("b", "address")}


def test_label_then_hostname_case_insensitive() -> None:
    instances = [inst(1, label="App-1"), inst(2, hostname="db-host")]
    servers = [ServerKeys("n1", "app-1"), ServerKeys("n2", "x", hostname="DB-HOST")]
    assert matched(instances, servers) == {"id-1": ("n1", "label"), "id-2": ("n2", "hostname")}


def test_an_ambiguous_label_matches_neither() -> None:
    instances = [inst(1, label="web"), inst(2, label="web")]
    assert matched(instances, [ServerKeys("web", "web.example")]) == {
        "id-1": (None, None),
        "id-2": (None, None),
    }


def test_one_instance_goes_to_one_server() -> None:
    instances = [inst(1, label="n1", hostname="n2")]
    servers = [ServerKeys("n1", "h1"), ServerKeys("n2", "h2")]
    assert matched(instances, servers) == {"id-1": ("n1", "label")}
