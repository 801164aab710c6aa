"""Centrifugo: version and Go runtime, systemd state, health endpoint, configuration facts.

Four small probes, each filling its part of ``server.centrifugo``, so that one missing
tool (curl, systemctl) or an unreadable config file costs only its own facts.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from typing import Any

from codeb_report.probes.base import Probe
from codeb_report.probes.stack import systemd
from codeb_report.probes.stack.settings import CentrifugoSettings
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


class CentrifugoHealth(Probe):
    """``GET /health`` on the server itself; Centrifugo answers ``{}`` with 200 when healthy.

    A refused connection or another status is a fact (``health``), not a failure.

    Sample output::

        {}
        code=200
        rc=0
        error=
    """

    name = "centrifugo.health"
    requires = ("curl",)

    def __init__(self, settings: CentrifugoSettings) -> None:
        self.url = settings.health_url or f"http://127.0.0.1:{DEFAULT_PORT}/health"

    def command(self) -> str:
        return (
            "e=$(mktemp) || exit 1; "
            f"b=$(curl -sS -m 5 -w '\\ncode=%{{http_code}}' {shlex.quote(self.url)} 2>\"$e\"); "
            'rc=$?; printf \'%s\\nrc=%s\\nerror=%s\\n\' "$b" "$rc" "$(head -c 300 "$e")"; '
            'rm -f "$e"'
        )

    def parse(self, output: str) -> str:
        fields = dict(
            line.split("=", 1)
            for line in output.splitlines()
            if re.match(r"^(code|rc|error)=", line)
        )
        code, error = fields.get("code", ""), fields.get("error", "").strip()
        if code == "200":
            return "ok"
        if code and code != "000":
            return f"HTTP {code}"
        return f"unreachable: {error or 'no answer'}"[:300]

    def store(self, server: Server, value: str) -> None:
        centrifugo_of(server).health = value


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
        data = tomllib.loads(text) if toml else json.loads(text)
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
