"""Per-role settings of the stack probes, as the ``[roles.NAME]`` tables of the TOML file hold them.

Example::

    [roles.storage]
    units = ["codeb-watchdog"]
    containers = ["codeb-postgres", "codeb-redis"]
    backups = [{ path = "/opt/codeb/backups", max_age_hours = 26 }]
    redis = { container = "codeb-redis", password_env = "CODEB_REDIS_PASSWORD" }
    postgresql = { container = "codeb-postgres", user = "postgres", password_file = "~/.pgpass-n3" }

    [roles.app.caddy]
    caddyfile = "/etc/caddy/Caddyfile"

    [roles.streaming.centrifugo]
    config_path = "/etc/centrifugo/config.json"

Passwords are named, never written: ``password_env`` (an environment variable of the
machine codeb-report runs on) or ``password_file`` (a file there, first line). They are
resolved on that machine and reach the server only on the script's stdin.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from codeb_report.inputs import InputProblem, first_line_secret
from codeb_report.logs import register_secret

Port = Annotated[int, Field(ge=1, le=65535, strict=True)]
Runtime = Literal["podman", "docker"]
RuntimeChoice = Literal["auto", "podman", "docker"]
# "auto": podman when the server has it, else docker.
DEFAULT_RUNTIME: RuntimeChoice = "auto"
CI_RUNNER_PATTERN = "actions.runner.*"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackupFolder(Section):
    path: Annotated[str, Field(pattern=r"^/")]
    max_age_hours: Annotated[float, Field(gt=0, le=24 * 3650)] = 26.0


class Secret(Section):
    """Where a database password comes from; at most one of the two."""

    password_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    password_file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        if self.password_env and self.password_file:
            raise ValueError("give password_env or password_file, not both")
        return self

    def resolve(self) -> tuple[str | None, str | None]:
        """(password, problem): the password, or why it could not be read; (None, None) if unset."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if not value:
                return None, f"password_env: environment variable {self.password_env} is not set"
            return _one_line(value, f"password_env {self.password_env}")
        if self.password_file:
            path = Path(self.password_file).expanduser()
            try:
                line = first_line_secret(path)
            except InputProblem as exc:
                return None, f"password_file: {path}: {exc}"
            return _one_line(line, f"password_file {path}")
        return None, None


def _one_line(value: str, source: str) -> tuple[str | None, str | None]:
    # The password travels as one line of the script's stdin.
    if "\n" in value or "\r" in value or "\0" in value:
        return None, f"{source}: a password must be a single line"
    register_secret(value)  # from now on the log writes it as ***
    return value, None


class DatabaseTarget(Secret):
    """A host service (``host``/``port``) or a container probed through ``exec``."""

    container: str | None = None
    runtime: RuntimeChoice = DEFAULT_RUNTIME
    host: str | None = None
    port: Port | None = None


class RedisSettings(DatabaseTarget):
    """Redis: ``redis-cli`` on the host, or inside ``container``.

    ``port`` is as seen from where redis-cli runs: inside a container, the container port.
    """

    host: str | None = "127.0.0.1"
    port: Port | None = 6379


class PostgresSettings(DatabaseTarget):
    """PostgreSQL: ``psql`` on the host, or inside ``container``.

    No ``host`` means the local socket (peer or trust authentication often allow
    ``user = "postgres"`` there, without a password).
    """

    port: Port | None = 5432
    user: str = "postgres"
    database: str = "postgres"


class CentrifugoSettings(Section):
    config_path: Annotated[str, Field(pattern=r"^/")] = "/etc/centrifugo/config.json"
    unit: str = "centrifugo"
    binary: str = "centrifugo"
    # Default: built from the server's config_path (internal port or port, and address;
    # 127.0.0.1:8000 when unset); set it only where that file does not say where it is.
    health_url: Annotated[str, Field(pattern=r"^https?://")] | None = None


class CaddySettings(Section):
    """Where Caddy's running configuration is read: its admin API, else its Caddyfile."""

    admin_url: Annotated[str, Field(pattern=r"^https?://[^\s]+$")] = "http://localhost:2019"
    caddyfile: Annotated[str, Field(pattern=r"^/")] = "/etc/caddy/Caddyfile"
    binary: str = "caddy"


class StackSettings(Section):
    """What the servers of one role run and keep, for the stack probes."""

    units: list[str] = Field(default_factory=list)
    containers: list[str] = Field(default_factory=list)
    container_runtime: RuntimeChoice = DEFAULT_RUNTIME
    # GitHub Actions self-hosted runner units (actions.runner.*): reported when found;
    # true: one is expected here (none is a fact to flag); false: not looked for.
    ci_runner: Annotated[bool, Field(strict=True)] | None = None
    backups: list[BackupFolder] = Field(default_factory=list)
    centrifugo: CentrifugoSettings | None = None
    postgresql: PostgresSettings | None = None
    redis: RedisSettings | None = None
    caddy: CaddySettings | None = None  # the reverse proxy in front of the app servers

    def secret_problems(self) -> list[str]:
        """Unreadable passwords, for ``check-config``: ``redis.password_env: ...``."""
        problems = []
        for field in ("postgresql", "redis"):
            target: DatabaseTarget | None = getattr(self, field)
            if target is not None and (problem := target.resolve()[1]):
                problems.append(f"{field}.{problem}")
        return problems
