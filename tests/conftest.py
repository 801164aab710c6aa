"""Shared fixtures: real servers on 127.0.0.1 live in tests/servers/, one module each."""

from servers.caddy import caddy_server  # noqa: F401  (fixture)
from servers.postgres import postgres_server  # noqa: F401  (fixture)
from servers.prometheus import (  # noqa: F401  (fixtures)
    canned_http,
    full_node_exporter,
    node_exporter,
    prometheus_server,
)
from servers.redis import redis_server  # noqa: F401  (fixture)
from servers.smtp import smtp_ca  # noqa: F401  (fixture)
from servers.sshd import sshd_factory  # noqa: F401  (fixture)
from servers.vultr import vultr_api  # noqa: F401  (fixture)
