"""Centrifugo: version and Go runtime, systemd state, health endpoint, configuration facts.

Four small probes, each filling its part of ``server.centrifugo``, so that one missing
tool (curl, systemctl) or an unreadable config file costs only its own facts.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import tomllib
from typing import Any

from codeb_report.probes.base import Probe
from codeb_report.probes.numbers import json_loads, toml_loads
from codeb_report.probes.stack import systemd
from codeb_report.probes.stack.settings import CentrifugoSettings
from codeb_report.probes.stack.shell import split_sections
from codeb_report.snapshot import Centrifugo, Server

DEFAULT_PORT = 8000
VERSION = re.compile(r"Centrifugo v?(\S+) \(Go version: go?([^)\s]+)\)")
UNIT_PROPERTIES = (
    "Id,LoadState,ActiveState,SubState,ActiveEnterTimestamp,MemoryCurrent,CPUUsageNSec,MainPID"
)


def centrifugo_of(server: Server) -> Centrifugo:
    if server.centrifugo is None:
        server.centrifugo = Centrifugo()
    return server.centrifugo


class CentrifugoVersion(Probe):
    """``centrifugo version``; the format is the same from v2 to v6.

    Sample output::

        Centrifugo v5.4.9 (Go version: go1.23.4)
    """

    name = "centrifugo.version"

    def __init__(self, settings: CentrifugoSettings) -> None:
        self.binary = settings.binary
        self.requires = (settings.binary,)

    def command(self) -> str:
        return f"{shlex.quote(self.binary)} version"

    def parse(self, output: str) -> tuple[str, str]:
        match = VERSION.search(output)
        if not match:
            raise ValueError("no 'Centrifugo vX (Go version: goY)' line")
        return match.group(1), match.group(2)

    def store(self, server: Server, value: tuple[str, str]) -> None:
        info = centrifugo_of(server)
        info.version, info.go_version = value


class CentrifugoUnit(Probe):
    """The systemd unit: state, active since, memory, CPU time.

    Sample output (``TZ=UTC`` makes the timestamp's zone known)::

        MainPID=5821
        MemoryCurrent=95318016
        CPUUsageNSec=203456789000
        Id=centrifugo.service
        LoadState=loaded
        ActiveState=active
        SubState=running
        ActiveEnterTimestamp=Thu 2025-12-18 14:12:03 UTC
    """

    name = "centrifugo.unit"
    requires = ("systemctl",)

    def __init__(self, settings: CentrifugoSettings) -> None:
        self.unit = settings.unit

    def command(self) -> str:
        return f"{systemd.SHOW} -p {UNIT_PROPERTIES} -- {shlex.quote(self.unit)}"

    def parse(self, output: str) -> dict[str, Any]:
        found = systemd.records(output)
        if not found:
            raise ValueError("no properties in systemctl show output")
        record = found[0]
        cpu = systemd.number(record, "CPUUsageNSec")
        return {
            "unit": record.get("Id") or self.unit,
            "load": systemd.value(record, "LoadState"),
            "active": systemd.value(record, "ActiveState"),
            "sub": systemd.value(record, "SubState"),
            "active_since": systemd.timestamp(record.get("ActiveEnterTimestamp")),
            "memory_bytes": systemd.number(record, "MemoryCurrent"),
            "cpu_seconds": cpu / 1e9 if cpu is not None else None,
        }

    def store(self, server: Server, value: dict[str, Any]) -> None:
        info = centrifugo_of(server)
        for key, item in value.items():
            setattr(info, key, item)


# ``health`` when /health answers 404 and the configuration does not enable it: the
# endpoint is off (Centrifugo v3-v6 default), which says nothing about the server.
HEALTH_DISABLED = "disabled"
# Numbers and IP literals after the keys that place the health endpoint, in JSON or TOML.
# The shell only gathers candidates; parse reads the configuration and picks the URL.
_PORTS = '(^|[^A-Za-z_])(internal_)?port"?[[:space:]]*[:=][[:space:]]*"?[0-9]{1,5}'
_ADDRESSES = '(^|[^A-Za-z_])(internal_)?address"?[[:space:]]*[:=][[:space:]]*"[0-9a-fA-F.:]+"'


class CentrifugoHealth(Probe):
    """``GET /health`` on the server itself; Centrifugo answers ``{}`` with 200 when healthy.

    Without ``health_url``, the URL comes from the server's configuration file: the
    internal port (or else the port, 8000 by default) and address, as v2-v5 name them
    at the top level and v6 under ``http_server``. The script prints the file and asks
    every candidate URL the file mentions; parse reads the file and keeps the answer of
    the right one. The endpoint is off unless ``"health": true`` (v6:
    ``health.enabled``), so a 404 then is ``disabled``, not a failure. A refused
    connection or another status is a fact (``health``), not a failure.

    Sample output::

        == config
        {"port": "9000", "health": true}
        == http://127.0.0.1:8000/health
        code=000
        rc=7
        error=curl: (7) Failed to connect to 127.0.0.1 port 8000 after 0 ms: ...
        == http://127.0.0.1:9000/health
        {}
        code=200
        rc=0
        error=
    """

    name = "centrifugo.health"
    requires = ("curl",)

    def __init__(self, settings: CentrifugoSettings) -> None:
        self.settings = settings

    def command(self) -> str:
        get = (
            "printf '== %s\\n' \"$u\"; "
            'b=$(curl -sS -m 5 -w \'\\ncode=%{http_code}\' "$u" 2>"$e"); '
            'rc=$?; printf \'%s\\nrc=%s\\nerror=%s\\n\' "$b" "$rc" "$(head -c 300 "$e")"'
        )
        path = shlex.quote(self.settings.config_path)
        if self.settings.health_url:
            urls = f"urls={shlex.quote(self.settings.health_url)}\n"
        else:
            urls = (
                f"p=$(printf '%s\\n' \"$c\" | grep -oE '{_PORTS}' | grep -oE '[0-9]+$')\n"
                f"h=$(printf '%s\\n' \"$c\" | grep -oE '{_ADDRESSES}' "
                "| grep -oE '[0-9a-fA-F.:]+\"$' | tr -d '\"')\n"
                'urls=$(for a in 127.0.0.1 $h; do case $a in *:*) a="[$a]";; esac; '
                f'for n in {DEFAULT_PORT} $p; do echo "http://$a:$n/health"; done; done '
                "| sort -u | head -n 16)\n"
            )
        # read, not for: a URL may hold glob characters ("?", "[::1]").
        return (
            f"c=$(cat -- {path} 2>/dev/null)\n"
            "printf '== config\\n%s\\n' \"$c\"\n"
            f"{urls}"
            "e=$(mktemp) || exit 1\n"
            f"printf '%s\\n' \"$urls\" | while read -r u; do {get}; done\n"
            'rm -f "$e"'
        )

    def parse(self, output: str) -> str:
        parts = split_sections(output)
        try:
            data: dict[str, Any] | None = _load(
                parts.get("config", ""), toml=self.settings.config_path.endswith(".toml")
            )
        except ValueError:
            data = None  # unreadable: the default URL, and no telling whether it is on
        url = self.settings.health_url or health_url(data or {})
        answer = _answer(parts.get(url, ""))
        if answer == "HTTP 404" and data is not None and not _health_enabled(data):
            return HEALTH_DISABLED
        return answer

    def store(self, server: Server, value: str) -> None:
        centrifugo_of(server).health = value


def _answer(text: str) -> str:
    fields = dict(
        line.split("=", 1) for line in text.splitlines() if re.match(r"^(code|rc|error)=", line)
    )
    code, error = fields.get("code", ""), fields.get("error", "").strip()
    if code == "200":
        return "ok"
    if code and code != "000":
        return f"HTTP {code}"
    return f"unreachable: {error or 'no answer'}"[:300]


def health_url(data: dict[str, Any]) -> str:
    """Where /health listens: the internal port and address if set, else the main ones."""
    server = _section(data, "http_server") or data  # v6 nests them, v2-v5 do not
    port = _number(server.get("internal_port")) or _number(server.get("port")) or DEFAULT_PORT
    address = server.get("internal_address") or server.get("address")
    return f"http://{_host(address)}:{port}/health"


def _number(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 65536 else None


def _host(address: Any) -> str:
    """A concrete IP address as configured; else (all interfaces, a name) the loopback."""
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError:
        return "127.0.0.1"
    if ip.is_unspecified:
        return "127.0.0.1"
    return f"[{ip}]" if ip.version == 6 else str(ip)


def _health_enabled(data: dict[str, Any]) -> bool:
    flag = data.get("health")
    if isinstance(flag, dict):  # v6: "health": {"enabled": true}
        flag = flag.get("enabled")
    return flag is True or str(flag).lower() == "true"


class CentrifugoConfig(Probe):
    """The configuration file (JSON, or TOML by its suffix): engine, port, allowed origins.

    v4/v5 keep ``allowed_origins``, ``engine`` and ``port`` at the top level; v6 nests
    them (``client.allowed_origins``, ``engine.type``, ``http_server.port``). The file
    also holds secrets (API key, token keys): parse keeps only the facts named here.

    Sample output (v5)::

        {
          "token_hmac_secret_key": "...",
          "api_key": "...",
          "allowed_origins": ["*"],
          "engine": "memory",
          "port": "8000"
        }
    """

    name = "centrifugo.config"

    def __init__(self, settings: CentrifugoSettings) -> None:
        self.path = settings.config_path

    def command(self) -> str:
        return f"cat -- {shlex.quote(self.path)}"

    def parse(self, output: str) -> dict[str, Any]:
        data = _load(output, toml=self.path.endswith(".toml"))
        return {
            "allowed_origins": _origins(data),
            "engine": _engine(data),
            "port": _port(data),
            "endpoints": _endpoints(data),
            "config_path": self.path,
        }

    def store(self, server: Server, value: dict[str, Any]) -> None:
        info = centrifugo_of(server)
        for key, item in value.items():
            setattr(info, key, item)


def _load(text: str, toml: bool) -> dict[str, Any]:
    # Error messages name the position only: the file's text holds secrets.
    try:
        data = toml_loads(text) if toml else json_loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON (line {exc.lineno}, column {exc.colno})") from None
    except tomllib.TOMLDecodeError:
        raise ValueError("not TOML") from None
    if not isinstance(data, dict):
        raise ValueError("the configuration is not an object")
    return data


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _origins(data: dict[str, Any]) -> list[str]:
    client = _section(data, "client")
    origins = client.get("allowed_origins", data.get("allowed_origins", []))
    if isinstance(origins, str):  # as environment variables give it: space separated
        origins = origins.split()
    return [str(o) for o in origins] if isinstance(origins, list) else []


def _engine(data: dict[str, Any]) -> str:
    engine = data.get("engine")
    if isinstance(engine, dict):
        engine = engine.get("type")
    return str(engine) if engine else "memory"


def _port(data: dict[str, Any]) -> int:
    port = _section(data, "http_server").get("port", data.get("port", DEFAULT_PORT))
    try:
        return int(port)
    except (TypeError, ValueError):
        return DEFAULT_PORT


def _disabled(data: dict[str, Any], v5_flag: str, v6_section: str) -> bool:
    return bool(data.get(v5_flag)) or bool(_section(data, v6_section).get("disabled"))


def _endpoints(data: dict[str, Any]) -> list[str]:
    endpoints = []
    if not _disabled(data, "websocket_disable", "websocket"):
        endpoints.append("/connection/websocket")
    if not _disabled(data, "api_disable", "http_api"):
        endpoints.append("/api")
    return endpoints
