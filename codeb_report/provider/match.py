"""Which instance is which configured server: by address, then label, then hostname.

Addresses are compared as addresses (``2001:db8::1`` equals ``2001:DB8:0::1``). Only
addresses already known are used: the configured ``host`` when it is an address, and the
address the SSH collection connected to (``Server.address``). No name is looked up here.
A criterion that points at two instances matches neither: a wrong match would put one
server's bill on another.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from codeb_report.provider.model import Instance


@dataclass(frozen=True)
class ServerKeys:
    """What a configured server is known by."""

    name: str
    host: str
    address: str | None = None  # where SSH connected, when it got that far
    hostname: str | None = None  # the server's own hostname, as collected

    @property
    def addresses(self) -> set[str]:
        return {a for a in (_address(self.host), _address(self.address)) if a}

    @property
    def names(self) -> set[str]:
        return {n.lower() for n in (self.name, self.host, self.hostname) if n}


IPV4 = re.compile(
    r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$"
)


def _address(value: str | None) -> str | None:
    if not value:
        return None
    if IPV4.match(value):  # already canonical: skip ipaddress for the common case
        return value
    try:
        return ipaddress.ip_address(value.strip("[]").split("%")[0]).compressed
    except ValueError:
        return None


def _instance_addresses(instance: Instance) -> set[str]:
    found = (_address(a) for a in (instance.main_ip, instance.v6_main_ip, instance.internal_ip))
    return {a for a in found if a and a not in ("0.0.0.0", "::")}


def _candidates(
    server: ServerKeys, instances: Sequence[Instance], addresses: dict[str, set[str]]
) -> Iterator[tuple[str, list[Instance]]]:
    """The instances each criterion points at, in the criteria's order."""
    mine, names = server.addresses, server.names
    yield "address", [i for i in instances if mine & addresses[i.id]]
    yield "label", [i for i in instances if i.label and i.label.lower() in names]
    yield "hostname", [i for i in instances if i.hostname and i.hostname.lower() in names]


def match_servers(instances: Sequence[Instance], servers: Iterable[ServerKeys]) -> list[Instance]:
    """The instances with ``server``/``matched_by`` set; unmatched ones are kept as None."""
    addresses = {i.id: _instance_addresses(i) for i in instances}  # parsed once, not per server
    criteria = {
        s.name: list(_candidates(s, instances, addresses)) for s in servers
    }  # server -> [(criterion, instances)]
    assigned: dict[str, tuple[str, str]] = {}  # instance id -> (server, criterion)
    pending = list(criteria)
    for step in range(3):  # address first for every server, then label, then hostname
        still = []
        for name in pending:
            criterion, found = criteria[name][step]
            free = [i for i in found if i.id not in assigned]
            if len(free) == 1:
                assigned[free[0].id] = (name, criterion)
            else:
                still.append(name)
        pending = still
    return [
        i.model_copy(
            update={
                "server": assigned.get(i.id, (None, None))[0],
                "matched_by": assigned.get(i.id, (None, None))[1],
            }
        )
        for i in instances
    ]
