"""Containers of Docker and Podman, read from their JSON output."""

from __future__ import annotations

import bisect
import re
from datetime import UTC, datetime
from typing import Any

from codeb_report.probes.base import Probe, ProbeRun
from codeb_report.probes.numbers import json_loads
from codeb_report.snapshot import Container, PortMapping, Server

STARTED_MARKER = "-- started"

# One published or exposed port as `docker ps` prints it:
# 0.0.0.0:3100->3000/tcp, :::3100->3000/tcp, [::]:80->80/tcp, 0.0.0.0:8000-8001->8000-8001/tcp,
# 5432/tcp (exposed only).
DOCKER_PORT = re.compile(
    r"^(?:(?P<ip>.*):(?P<host>\d+)(?:-(?P<host_end>\d+))?->)?"
    r"(?P<cport>\d+)(?:-(?P<cport_end>\d+))?/(?P<proto>\w+)$"
)

DOCKER_STATES = (
    ("Up ", "running"),
    ("Exited", "exited"),
    ("Created", "created"),
    ("Restarting", "restarting"),
    ("Removal In Progress", "removing"),
    ("Dead", "dead"),
)


def docker_ports(text: str) -> list[PortMapping]:
    """`docker ps`'s Ports column, one mapping per item: a range stays one mapping."""
    mappings: list[PortMapping] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = DOCKER_PORT.match(item)
        if not match:
            raise ValueError(f"unreadable port mapping {item!r}")
        ip = match["ip"]
        if ip is not None and ip.startswith("[") and ip.endswith("]"):
            ip = ip[1:-1]
        first = int(match["cport"])
        count = int(match["cport_end"] or first) - first + 1
        host = int(match["host"]) if match["host"] else None
        if host is not None and int(match["host_end"] or host) - host + 1 != count:
            raise ValueError(f"port mapping {item!r}: host and container ranges differ")
        if count < 1:
            raise ValueError(f"port mapping {item!r}: the range ends before it starts")
        mappings.append(
            PortMapping(
                host_ip=ip,
                host_port=host,
                container_port=first,
                protocol=match["proto"],
                range=count,
            )
        )
    return mappings


def docker_state(row: dict[str, Any]) -> str:
    """Older Docker prints no State field; its Status text says the same."""
    if row.get("State"):
        return str(row["State"])
    status = str(row.get("Status", ""))
    if "(Paused)" in status:
        return "paused"
    return next((state for prefix, state in DOCKER_STATES if status.startswith(prefix)), "unknown")


def docker_time(text: str | None) -> datetime | None:
    """`2024-02-11 17:42:33 +0100 CET` (ps) or RFC 3339 with nanoseconds (inspect)."""
    if not text or text.startswith("0001-01-01"):
        return None
    if re.match(r"\d{4}-\d\d-\d\dT", text):
        stamp = re.sub(r"(\.\d{6})\d+", r"\1", text.strip())
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    date, clock, offset = text.split()[:3]
    clock = clock.split(".")[0]  # Podman 1 adds microseconds
    return datetime.strptime(f"{date} {clock} {offset}", "%Y-%m-%d %H:%M:%S %z")


class DockerProbe(Probe):
    """Docker containers, running or not, from ``docker ps --format '{{json .}}'``.

    `docker ps` does not say when a container started, so ``docker inspect`` adds one
    "ID StartedAt" line per container after a ``-- started`` line. A daemon that is down
    makes `docker ps` fail, and the probe with it.

    Sample output (Docker 28.2, shortened where "…")::

        {"Command":"\\"httpd -f -p 3000\\"","CreatedAt":"2026-11-27 03:35:17 +0000 UTC",
         "ID":"f0dbdf9c08b5…","Image":"local/busybox:1.35",…,"Names":"codeb-dashboard",…,
         "Ports":"0.0.0.0:3100-\\u003e3000/tcp, [::]:3100-\\u003e3000/tcp",…,
         "State":"running","Status":"Up 8 seconds"}
        -- started
        f0dbdf9c08b5… 2026-11-27T03:35:17.392487574Z
    """

    name = "docker"
    requires = ("docker",)

    def command(self) -> str:
        return (
            # podman-docker installs a `docker` script that runs podman: the podman probe
            # already lists those containers, in podman's own format.
            # (its first bytes, read by the shell: no grep; the shell drops NUL bytes).
            'd=$(command -v docker); case $(head -c 256 "$d" 2>/dev/null) in *podman*)'
            ' echo "docker is podman ($d)" >&2; exit 3 ;; esac\n'
            # No DOCKER_HOST, no client configuration and no socket: there is no daemon to
            # ask, so the answer is known without starting the CLI (a Go binary, ~10 ms).
            'if [ -z "$DOCKER_HOST" ] && [ ! -e "$HOME/.docker/config.json" ]'
            " && [ ! -S /var/run/docker.sock ]; then echo 'Cannot connect to the Docker"
            " daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2;"
            " exit 1; fi\n"
            "out=$(docker ps -a --no-trunc --format '{{json .}}') || exit\n"
            '[ -z "$out" ] || printf \'%s\\n\' "$out"\n'
            f"echo '{STARTED_MARKER}'\n"
            # The IDs come from the listing itself rather than from a second `docker ps`.
            'ids=$(printf \'%s\\n\' "$out" | sed -n \'s/.*"ID":"\\([0-9a-f]*\\)".*/\\1/p\')\n'
            '[ -n "$ids" ] || exit 0\n'
            # A container removed since the listing only costs its start time.
            "docker inspect --format '{{.Id}} {{.State.StartedAt}}' $ids 2>/dev/null\n"
            "exit 0\n"
        )

    def skip_reason(self, run: ProbeRun) -> str | None:
        if run.exit_code == 3 and run.stderr.startswith("docker is podman"):
            return "docker is podman's docker command (podman-docker)"
        return None

    def parse(self, output: str) -> list[Container]:
        listing, _, started_part = ("\n" + output).partition(f"\n{STARTED_MARKER}\n")
        started: dict[str, str] = {}
        for line in started_part.splitlines():
            cid, _, stamp = line.strip().partition(" ")
            if cid:
                started[cid] = stamp
        ids = sorted(started)
        containers = []
        for line in listing.splitlines():
            if line.strip():
                row = json_loads(line)
                if not isinstance(row, dict):
                    raise ValueError(f"a line of docker ps is not a JSON object: {line[:80]!r}")
                containers.append(self._container(row, started, ids))
        return containers

    @staticmethod
    def _container(row: dict[str, Any], started: dict[str, str], ids: list[str]) -> Container:
        cid = str(row.get("ID", ""))
        # ps may print short IDs (without --no-trunc); inspect always prints full ones.
        # The full ID is found by bisection: a scan per container made thousands of them
        # (8 MiB of output holds ~60,000) take minutes.
        at = bisect.bisect_left(ids, cid)
        found = cid and at < len(ids) and ids[at].startswith(cid)
        stamp = started[ids[at]] if found else None
        names = str(row["Names"]).split(",")
        name = next((n for n in names if "/" not in n), names[0])
        return Container(
            runtime="docker",
            name=name,
            image=str(row["Image"]),
            state=docker_state(row),
            status=row.get("Status") or None,
            ports=docker_ports(str(row.get("Ports") or "")),
            started_at=docker_time(stamp),
            created_at=docker_time(row.get("CreatedAt")),
        )

    def store(self, server: Server, value: list[Container]) -> None:
        server.containers = [*server.containers, *value]


def podman_time(value: Any) -> datetime | None:
    """Podman 2+ gives Unix seconds (a never-started container: negative); older, text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC) if value > 0 else None
    if isinstance(value, str) and value:
        return docker_time(value)
    return None


def podman_ports(ports: list[dict[str, Any]] | None) -> list[PortMapping]:
    """Podman 4+ writes host_ip/host_port/container_port/range; 2 and 3 camelCase."""
    mappings: list[PortMapping] = []
    for port in ports or []:
        host_port = port.get("host_port", port.get("hostPort"))
        container_port = port.get("container_port", port.get("containerPort"))
        host_ip = port.get("host_ip", port.get("hostIP")) or None
        mappings.append(
            PortMapping(
                host_ip=host_ip,
                host_port=int(host_port) if host_port else None,
                container_port=int(container_port),
                protocol=port.get("protocol") or "tcp",
                range=int(port.get("range") or 1),
            )
        )
    return mappings


class PodmanProbe(Probe):
    """Podman containers, running or not, from ``podman ps -a --format json``.

    Only the containers of the user the collector runs as: rootless containers of other
    users live in their own storage.

    An empty host_ip (every address) is kept as None.

    Sample output (Podman 4.3, shortened where "…")::

        [
          {
            "Id": "00a0267a8512…", "Image": "localhost/busybox:1.35",
            "Names": ["codeb-redis"], "State": "running", "Status": "Up 4 seconds ago",
            "Ports": [{"host_ip": "127.0.0.1", "container_port": 6379, "host_port": 6379,
                       "range": 1, "protocol": "tcp"}, …],
            "StartedAt": 1795750561, "Created": 1795750561, …
          }
        ]
    """

    name = "podman"
    requires = ("podman",)

    def command(self) -> str:
        return "podman ps -a --format json"

    def parse(self, output: str) -> list[Container]:
        rows = json_loads(output) if output.strip() else []
        return [self._container(row) for row in rows or []]

    @staticmethod
    def _container(row: dict[str, Any]) -> Container:
        names = row.get("Names")
        name = names[0] if isinstance(names, list) and names else str(names or row["Id"][:12])
        state = row.get("State")
        if not isinstance(state, str) or not state:
            state = docker_state({"Status": row.get("Status", "")})
        created = row.get("Created")
        if isinstance(created, str) and not created[:4].isdigit():
            created = row.get("CreatedAt")  # Podman 1: Created is "3 hours ago"
        return Container(
            runtime="podman",
            name=name,
            image=str(row.get("Image", "")),
            state=state.lower(),
            status=row.get("Status") or None,
            ports=podman_ports(row.get("Ports")),
            started_at=podman_time(row.get("StartedAt")),
            created_at=podman_time(created),
        )

    def store(self, server: Server, value: list[Container]) -> None:
        server.containers = [*server.containers, *value]
