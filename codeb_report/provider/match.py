"""Which instance is which configured server: by address, then label, then hostname.

Addresses are compared as addresses (``2001:db8::1`` equals ``2001:DB8:0::1``). Only
addresses already known are used: the configured ``host`` when it is an address, and the
address the SSH collection connected to (``Server.address``). No name is looked up here.
A criterion that points at two instances matches neither: a wrong match would put one
server's bill on another.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
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


def _address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(value.strip("[]").split("%")[0]).compressed
    except ValueError:
        return None


def _instance_addresses(instance: Instance) -> set[str]:
    found = (_address(a) for a in (instance.main_ip, instance.v6_main_ip, instance.internal_ip))
    return {a for a in found if a and a not in ("0.0.0.0", "::")}


Criterion = tuple[str, Callable[[ServerKeys, Instance], bool]]

CRITERIA: Sequence[Criterion] = (
    ("address", lambda s, i: bool(s.addresses & _instance_addresses(i))),
    ("label", lambda s, i: bool(i.label) and i.label.lower() in s.names),
    ("hostname", lambda s, i: bool(i.hostname) and i.hostname.lower() in s.names),
)


def match_servers(instances: Sequence[Instance], servers: Iterable[ServerKeys]) -> list[Instance]:
    """The instances with ``server``/``matched_by`` set; unmatched ones are kept as None."""
    assigned: dict[str, tuple[str, str]] = {}  # instance id -> (server, criterion)
    pending = list(servers)
    for criterion, test in CRITERIA:
        still: list[ServerKeys] = []
        for server in pending:
            found = [i for i in instances if i.id not in assigned and test(server, i)]
            if len(found) == 1:
                assigned[found[0].id] = (server.name, criterion)
            else:
                still.append(server)
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
