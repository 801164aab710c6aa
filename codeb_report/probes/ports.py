"""Listening TCP sockets and the processes that own them."""

from __future__ import annotations

import re

from codeb_report.probes.base import Probe
from codeb_report.snapshot import ListeningPort, Server

# users:(("nginx",pid=1201,fd=6),("nginx",pid=1200,fd=6)). A process name is the
# kernel's comm and may hold spaces, quotes or parentheses.
USER = re.compile(r'\("((?:[^"]|"(?!,pid=))*)",pid=(\d+),')


def split_address(local: str) -> tuple[str, int]:
    """``[::1]:631``, ``*:80``, ``127.0.0.53%lo:53``, ``:::22`` -> (address, port)."""
    address, _, port = local.rpartition(":")
    if address.startswith("["):
        inner, _, scope = address[1:].partition("]")
        address = inner + scope  # [fe80::1]%eth0 -> fe80::1%eth0
    return address, int(port)


def owner(users: str) -> tuple[str | None, int | None]:
    """The process with the lowest pid: a forking server's parent, not its worker.

    PID 1 only when nothing else holds the socket: with socket activation systemd keeps a
    copy of every socket it hands to a service, and the service is the answer.
    """
    found = [(int(pid), name) for name, pid in USER.findall(users)]
    if not found:
        return None, None
    pid, name = min([f for f in found if f[0] != 1] or found)
    return name, pid


class PortsProbe(Probe):
    """Listening TCP ports with the owning process (``ss -tlnp``).

    Process names need root; without it they are empty. One socket per address and port
    is kept (SO_REUSEPORT servers open several).

    Sample output (iproute2 6.1)::

        State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
        LISTEN 0      511        127.0.0.1:16379      0.0.0.0:*    users:(("redis-server",pid=7795,fd=6))
        LISTEN 0      16      127.0.0.1%lo:18084      0.0.0.0:*    users:(("worker",pid=24140,fd=7),("web app api",pid=23956,fd=7))
        LISTEN 0      16                 *:18082            *:*    users:(("worker",pid=24140,fd=5),("web app api",pid=23956,fd=5))
        LISTEN 0      16             [::1]:18083         [::]:*    users:(("worker",pid=24140,fd=6),("web app api",pid=23956,fd=6))
    """  # noqa: E501

    name = "ports"
    requires = ("ss",)

    def command(self) -> str:
        # No -H: iproute2 before 4.13 (CentOS 7) rejects it; the header is skipped below.
        return "ss -tlnp"

    def parse(self, output: str) -> list[ListeningPort]:
        ports: dict[tuple[str, int], ListeningPort] = {}
        for line in output.splitlines():
            fields = line.split(None, 5)
            if fields and fields[0] in ("tcp", "tcp6"):  # Netid column of `ss -a`-style output
                fields = line.split(None, 6)[1:]
            if len(fields) < 5 or fields[0] != "LISTEN":
                continue
            address, port = split_address(fields[3])
            process, pid = owner(fields[5]) if len(fields) > 5 else (None, None)
            found = ListeningPort(address=address, port=port, process=process, pid=pid)
            seen = ports.get((address, port))
            if seen is None or (seen.pid is None and pid is not None):
                ports[(address, port)] = found
        return sorted(ports.values(), key=lambda p: (p.port, p.address))

    def store(self, server: Server, value: list[ListeningPort]) -> None:
        server.ports = value
