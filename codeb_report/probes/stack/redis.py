"""Redis: running, version, whether AUTH is required, memory in use (with a password)."""

from __future__ import annotations

import re
import shlex

from codeb_report.probes.stack.database import DatabaseProbe
from codeb_report.probes.stack.settings import RedisSettings
from codeb_report.probes.stack.shell import run_in, section, select_runtime, split_sections
from codeb_report.snapshot import Redis, Server

PASSWORD_VAR = "CB_REDIS_PASSWORD"
# Answers that prove a Redis server is listening, whatever it thinks of us.
ALIVE = ("PONG", "NOAUTH", "WRONGPASS", "LOADING", "ERR", "MASTERDOWN", "BUSY")


class RedisProbe(DatabaseProbe):
    """Redis through ``redis-cli`` on the host or inside a Podman/Docker container.

    ``redis-cli`` exits 0 on NOAUTH, so the answer's text decides. Without a password,
    NOAUTH is a fact (auth required, not authenticated), not a failure; the version
    then comes from the ``redis-server`` binary beside it. The password, when one is
    configured, reaches redis-cli as ``REDISCLI_AUTH`` from the script's stdin.

    Sample output (password given)::

        == runtime
        podman
        == ping
        NOAUTH Authentication required.
        == auth-ping
        PONG
        == info
        # Server
        redis_version:7.0.15
        ...
        used_memory:992328
        == binary
        Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0
    """

    name = "redis"

    client = "redis-cli"
    password_var = PASSWORD_VAR
    settings: RedisSettings

    def command(self) -> str:
        s = self.settings
        # Every configured value reaches the remote shell quoted: a host is one argument.
        where = f"-h {shlex.quote(s.host)} " if s.host else ""
        cli = f"redis-cli {where}-p {shlex.quote(str(s.port or 6379))}"
        auth = {"REDISCLI_AUTH": f'"${PASSWORD_VAR}"'}
        plain = run_in(s.container, cli)
        authed = run_in(s.container, cli, auth)
        runtime = select_runtime(s.runtime) if s.container else ""
        return (
            f'{runtime}{section("runtime")}; echo "${{_rt:-host}}"\n'
            f"p=$({plain} PING 2>&1); {section('ping')}; printf '%s\\n' \"$p\"\n"
            f'a=; if [ -n "${PASSWORD_VAR}" ]; then a=$({authed} PING 2>&1); '
            f"{section('auth-ping')}; printf '%s\\n' \"$a\"; fi\n"
            f'case "$p" in PONG*) {section("info")}; {plain} INFO 2>&1;; '
            f'*) case "$a" in *PONG*) {section("info")}; {authed} INFO 2>&1;; esac;; esac\n'
            f"{section('binary')}; {run_in(s.container, 'redis-server --version')} 2>&1\n"
            "exit 0"
        )

    def parse(self, output: str) -> Redis:
        parts = split_sections(output)
        ping = parts.get("ping", "")
        auth_ping = parts.get("auth-ping")
        info = _info(parts.get("info", ""))
        running = ping.startswith(ALIVE) or (auth_ping or "").endswith("PONG")
        auth_required = ping.startswith("NOAUTH") if running else None
        authenticated = None
        if auth_required:
            authenticated = bool(auth_ping and auth_ping.endswith("PONG"))
        return Redis(
            running=running,
            runtime=self._runtime(parts.get("runtime", "host")),
            container=self.settings.container,
            version=info.get("redis_version")
            or (_binary_version(parts.get("binary", "")) if running else None),
            auth_required=auth_required,
            authenticated=authenticated,
            memory_used=int(info["used_memory"]) if "used_memory" in info else None,
            error=self._error(running, ping, auth_required, authenticated, auth_ping),
        )

    def _runtime(self, text: str) -> str:
        return text if text in ("podman", "docker") and self.settings.container else "host"

    def _error(
        self,
        running: bool,
        ping: str,
        auth_required: bool | None,
        authenticated: bool | None,
        auth_ping: str | None,
    ) -> str | None:
        if not running:
            return _first_line(ping) or "no answer"
        if auth_required and not authenticated:
            if self.password_problem:
                return self.password_problem
            if auth_ping is None:
                return "AUTH required; no password configured"
            return _first_line(auth_ping)
        return None

    def store(self, server: Server, value: Redis) -> None:
        server.redis = value


def _info(text: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _binary_version(text: str) -> str | None:
    match = re.search(r"\bv=(\d+\.\d+(?:\.\d+)?)", text) or re.search(
        r"Redis server version (\d+\.\d+(?:\.\d+)?)", text
    )
    return match.group(1) if match else None


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else ""
