"""The fleet configuration: a TOML file naming the servers, how to reach them and the report.

Every section is a pydantic model with unknown keys forbidden, so a typo is an error that
names the field (``fleet.toml: servers[n2].port: Input should be a valid integer``)
instead of a silently ignored setting. To add a section, define its model and add one
field to ``Config``.
"""

from __future__ import annotations

import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from codeb_report.collect.runner import MAX_OUTPUT
from codeb_report.errors import ConfigError
from codeb_report.history.settings import DiffSettings, TrendSettings
from codeb_report.inputs import InputProblem, check_tree, read_text, warn_if_shared
from codeb_report.mail.settings import MailSettings
from codeb_report.metrics.settings import MetricsSettings
from codeb_report.outputdir import OutputSettings
from codeb_report.probes.stack.settings import StackSettings
from codeb_report.prometheus.matchers import check_template
from codeb_report.prometheus.settings import PrometheusSettings
from codeb_report.provider.settings import VultrSettings
from codeb_report.thresholds import DETAIL_THRESHOLD, Thresholds
from codeb_report.validation import OneLine, OneWord, field_path

DEFAULT_TITLE = "CodeB 서버 인프라 현황 리포트"
MAX_CONFIG_BYTES = 2**20  # a fleet of 1,000 servers is about 100 KB
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Strict: `sudo = "yes"` or `parallel = "16"` is a named error, not silently converted
# (TOML has real booleans and numbers, so a quoted one is a mistake).
Flag = Annotated[bool, Strict()]
Port = Annotated[int, Strict(), Field(ge=1, le=65535)]
Seconds = Annotated[float, Strict(), Field(gt=0, le=86400)]  # at most a day
# Keys of a TOML table are always strings: a port number as a key is converted.
PortKey = Annotated[int, Field(ge=1, le=65535)]


class ServerConfig(Section):
    """One server. Unset port, user, identity file and jump come from ``~/.ssh/config``."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    host: Annotated[OneWord, Field(min_length=1)]
    port: Port | None = None
    user: OneWord | None = None
    role: OneLine = "server"
    identity_file: str | None = None
    tags: list[str] = Field(default_factory=list)
    # Wrap the probes in `sudo -n`: sudo must allow it without a password (NOPASSWD).
    sudo: Flag = False
    # A server name from this file, or an ssh ProxyJump spec: [user@]host[:port][,...]
    jump: OneWord | None = None
    # Label matchers for this server's node_exporter series, replacing [prometheus] match.
    prometheus: str | None = None

    @field_validator("prometheus")
    @classmethod
    def _matchers(cls, value: str | None) -> str | None:
        return None if value is None else check_template(value)


class SSHSettings(Section):
    parallel: Annotated[int, Strict(), Field(ge=1, le=256)] = 16
    connect_timeout: Seconds = 10.0
    # Everything for one server (connect, retries, probes) must finish within this.
    deadline: Seconds = 120.0
    # Attempts for connections dropped before the SSH banner (sshd MaxStartups).
    connect_attempts: Annotated[int, Strict(), Field(ge=1, le=20)] = 6
    # Read, and where --accept-new records new host keys.
    known_hosts: str = "~/.ssh/known_hosts"
    # Read as well: /etc/ssh/ssh_known_hosts is always read when it exists.
    extra_known_hosts: list[str] = Field(default_factory=list)
    config_file: str = "~/.ssh/config"
    use_agent: Flag = True
    # What one server's probes may print in all (MiB): past it the server is not
    # collected ("출력 초과"), so that one server printing without end costs nothing else.
    max_output_mib: Annotated[int, Strict(), Field(ge=1, le=1024)] = MAX_OUTPUT // 2**20

    @property
    def max_output(self) -> int:
        return self.max_output_mib * 2**20


class ReportSettings(Section):
    title: OneLine = DEFAULT_TITLE
    timezone: str = "Asia/Seoul"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    # More servers than this: section 1 by role, section 2 only servers needing attention.
    detail_threshold: Annotated[int, Strict(), Field(ge=0, le=100_000)] = DETAIL_THRESHOLD

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Seoul)") from None
        return value

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Descriptions(Section):
    """What the report's reader is told a port, unit or container is."""

    ports: dict[PortKey, str] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    containers: dict[str, str] = Field(default_factory=dict)


class RoleSettings(StackSettings):
    """What servers of one role run and keep (the stack probes' settings), and its label."""

    label: OneLine | None = None  # shown in the report, e.g. "App Server"


class Config(Section):
    report: ReportSettings = Field(default_factory=ReportSettings)
    ssh: SSHSettings = Field(default_factory=SSHSettings)
    # Required, unless [prometheus] servers finds them.
    servers: list[ServerConfig] = Field(default_factory=list)
    descriptions: Descriptions = Field(default_factory=Descriptions)
    roles: dict[str, RoleSettings] = Field(default_factory=dict)
    diff: DiffSettings = Field(default_factory=DiffSettings)  # 전일 대비 변경 사항
    trends: TrendSettings = Field(default_factory=TrendSettings)  # 리소스 추세
    output: OutputSettings = Field(default_factory=OutputSettings)  # dated folders, retention
    mail: MailSettings | None = None  # where `run --email` and `send` mail the PDF
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)  # node_exporter textfile
    vultr: VultrSettings | None = None  # the Vultr account: cost, plans, scaling
    # Figures and history from node_exporter's series (docs/prometheus.md).
    prometheus: PrometheusSettings | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if not self.servers and (self.prometheus is None or self.prometheus.servers is None):
            raise ValueError("servers: missing (required)")
        seen: set[str] = set()
        for server in self.servers:
            if server.name in seen:
                raise ValueError(f"servers: name {server.name!r} is used twice")
            seen.add(server.name)
        self._known_roles()
        names = {s.name: s for s in self.servers}
        for server in self.servers:
            hop, path = server, [server.name]
            while hop.jump in names:  # only jumps naming servers of this file can loop
                hop = names[hop.jump]
                if hop.name in path:
                    loop = " -> ".join([*path, hop.name])
                    raise ValueError(f"servers[{server.name}].jump: jump hosts loop ({loop})")
                path.append(hop.name)
        return self

    def _known_roles(self) -> None:
        """A mistyped role would silently drop the units and backups its servers are checked for.

        Only a role written in the file is checked: servers left at the default keep working
        when [roles] describes other servers.
        """
        if not self.roles:
            return
        for server in self.servers:
            if "role" in server.model_fields_set and server.role not in self.roles:
                known = ", ".join(sorted(self.roles))
                raise ValueError(
                    f"servers[{server.name}].role: unknown role {server.role!r} (known: {known})"
                )

    def server(self, name: str) -> ServerConfig | None:
        return next((s for s in self.servers if s.name == name), None)

    def role(self, server: ServerConfig) -> RoleSettings:
        return self.roles.get(server.role, RoleSettings())

    def role_label(self, server: ServerConfig) -> str:
        return self.role(server).label or server.role


def expand(path: str) -> Path:
    return Path(path).expanduser()


_VALUE_ERROR = re.compile(r"^(Value error|Assertion failed), ")


def parse_config(text: str, source: str) -> Config:
    """Validate TOML text; errors are one line naming ``source`` and the field."""
    try:
        data = tomllib.loads(text)
        check_tree(data)  # inf, nan and runaway nesting are never a setting
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not valid TOML: nested too deeply") from None
    except InputProblem as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except ValueError as exc:  # an integer past Python's 4,300 digits
        raise ConfigError(f"{source}: not valid TOML: {str(exc).split(':')[0]}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = _VALUE_ERROR.sub("", err["msg"])
        field = field_path(tuple(err["loc"]), data)
        if err["type"] == "missing":
            message = "missing (required)"
        elif err["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling)"
        where = f"{field}: " if field else ""
        extra = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{source}: {where}{message}{extra}") from None


def load_config(path: Path) -> Config:
    try:
        text = read_text(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except InputProblem as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_config(text, str(path))


def secret_problems(config: Config) -> list[str]:
    """Password sources that cannot be read now, each naming its field."""
    used = {server.role for server in config.servers}  # a role no server has reads nothing
    problems = [
        f"roles.{name}.{problem}"
        for name, role in config.roles.items()
        if name in used
        for problem in role.secret_problems()
    ]
    mail_problem = config.mail.password_problem() if config.mail else None
    prometheus_problem = config.prometheus.secret_problem() if config.prometheus else None
    vultr_problem = None
    if config.vultr is not None:
        from codeb_report.provider.key import key_problem

        vultr_problem = key_problem(config.vultr)
    return [p for p in (*problems, mail_problem, prometheus_problem, vultr_problem) if p]


def identity_problems(config: Config) -> list[str]:
    """Configured identity files that cannot be read now, each naming its field.

    Checked by check-config rather than on load: rendering with a configuration must
    work on a machine that has no SSH keys.
    """
    found = [
        _file_problem(f"servers[{server.name}].identity_file", expand(server.identity_file))
        for server in config.servers
        if server.identity_file is not None
    ]
    for path in {expand(s.identity_file) for s in config.servers if s.identity_file}:
        warn_if_shared(path, "private key")  # ssh refuses such a key; say it here first
    return [problem for problem in found if problem]


def known_hosts_problems(config: Config) -> list[str]:
    """``extra_known_hosts`` files that cannot be read now: a key thought to be trusted
    from there would otherwise be refused as unknown on every run, with no word why.
    (``known_hosts`` itself may be missing: ``--accept-new`` creates it.)"""
    found = (
        _file_problem(f"ssh.extra_known_hosts[{index}]", expand(path))
        for index, path in enumerate(config.ssh.extra_known_hosts)
    )
    return [problem for problem in found if problem]


def _file_problem(field: str, path: Path) -> str | None:
    if not path.exists():
        return f"{field}: {path}: no such file"
    if not path.is_file():
        return f"{field}: {path}: not a file"
    if not os.access(path, os.R_OK):
        return f"{field}: {path}: cannot read (permission denied)"
    return None


def example_config() -> str:
    """The commented configuration ``codeb-report init`` writes."""
    return resources.files("codeb_report").joinpath("config_example.toml").read_text("utf-8")
