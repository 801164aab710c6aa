"""The ``[prometheus]`` table: where node_exporter's figures and their history are read.

    [prometheus]
    url = "https://prometheus.example:9090"
    username = "report"                       # basic auth, with password_env or password_file
    password_env = "CODEB_PROMETHEUS_PASSWORD"
    # token_env = "CODEB_PROMETHEUS_TOKEN"    # or a bearer token (token_env or token_file)
    ca_file = "/etc/codeb-report/prometheus-ca.pem"
    match = 'instance="{host}:9100"'          # a server's series; per server: prometheus = '…'
    servers = 'up{job="node"}'                # optional: every matching target is a server

Secrets are read when Prometheus is first asked and registered with the log's redaction
filter; the URL may not carry them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from codeb_report.probes.stack.settings import Secret
from codeb_report.prometheus.matchers import DEFAULT_TEMPLATE, check_template
from codeb_report.validation import http_url

EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Positive = Annotated[float, Strict(), Field(gt=0, le=86400)]  # seconds, at most a day
Label = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class PrometheusSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=1)]
    username: str | None = None
    password_env: EnvName | None = None
    password_file: str | None = None
    token_env: EnvName | None = None
    token_file: str | None = None
    # CA bundle to verify an https URL against instead of the system's (a private CA).
    ca_file: str | None = None
    # Seconds for each query, given to Prometheus too so it stops evaluating in time.
    timeout: Positive = 30.0
    # Label matchers for a configured server's node_exporter series; {host} and {name}
    # are the server's. A server's own `prometheus = '…'` replaces it.
    match: str = DEFAULT_TEMPLATE
    # How often Prometheus scrapes node_exporter, and how many intervals a figure may be
    # old before it counts as stale (not shown as current).
    scrape_interval: Positive = 60.0
    stale_after: Annotated[float, Strict(), Field(ge=1, le=1000)] = 3.0
    # A selector whose every series is a server of its own (collected from Prometheus
    # alone), e.g. 'up{job="node"}'. Name: the first of name_labels present, else the
    # instance without its port; role: role_label's value, else default_role.
    servers: str | None = None
    name_labels: list[Label] = Field(default_factory=lambda: ["name", "nodename"])
    role_label: Label = "role"
    default_role: Annotated[str, Field(min_length=1)] = "server"
    # History for 리소스 추세 and the disk-full forecasts: range queries over this many
    # days, with about this many points per chart.
    history_days: Annotated[float, Strict(), Field(gt=0, le=3650)] = 30.0
    history_points: Annotated[int, Strict(), Field(ge=10, le=2000)] = 120
    # Bound on one answer, so a runaway selector cannot exhaust memory.
    max_response_mb: Annotated[int, Strict(), Field(ge=1, le=4096)] = 512

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value, "http://127.0.0.1:9090", "use username and password_env")

    @field_validator("match")
    @classmethod
    def _template(cls, value: str) -> str:
        return check_template(value)

    @model_validator(mode="after")
    def _one_login(self) -> PrometheusSettings:
        if self.password_env and self.password_file:
            raise ValueError("set password_env or password_file, not both")
        if self.token_env and self.token_file:
            raise ValueError("set token_env or token_file, not both")
        password = self.password_env or self.password_file
        if self.username and not password:
            raise ValueError("username is set: also set password_env or password_file")
        if password and not self.username:
            raise ValueError("a password needs a username (basic auth)")
        if self.username and (self.token_env or self.token_file):
            raise ValueError("set basic auth (username) or a bearer token, not both")
        if self.servers is not None:
            from codeb_report.prometheus.matchers import parse_selector

            parse_selector(self.servers)
        return self

    def secrets(self) -> tuple[str | None, str | None, str | None]:
        """(password, token, problem): read now, registered for redaction; problem names
        the field when a configured secret cannot be read."""
        if self.username:
            password, problem = Secret(
                password_env=self.password_env, password_file=self.password_file
            ).resolve()
            return password, None, f"prometheus.{problem}" if problem else None
        if self.token_env or self.token_file:
            token, problem = Secret(
                password_env=self.token_env, password_file=self.token_file
            ).resolve()
            if problem:
                problem = "prometheus." + problem.replace("password", "token")
            return None, token, problem
        return None, None, None

    def secret_problem(self) -> str | None:
        return self.secrets()[2]
