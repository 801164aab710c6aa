"""Probes of what a server's role runs: Centrifugo, PostgreSQL, Redis, Caddy, backups, units.

``stack_probes(settings)`` gives the probes for one role's settings; the collector adds
them to the base probes of every server of that role.
"""

from __future__ import annotations

from codeb_report.probes.base import Probe
from codeb_report.probes.stack.backups import BackupsProbe
from codeb_report.probes.stack.caddy import CaddyProbe
from codeb_report.probes.stack.centrifugo import (
    CentrifugoConfig,
    CentrifugoHealth,
    CentrifugoUnit,
    CentrifugoVersion,
)
from codeb_report.probes.stack.postgresql import PostgresProbe
from codeb_report.probes.stack.redis import RedisProbe
from codeb_report.probes.stack.settings import StackSettings
from codeb_report.probes.stack.watched import WatchedContainers, WatchedUnits

__all__ = ["StackSettings", "stack_probes"]


def stack_probes(settings: StackSettings) -> list[Probe]:
    """The probes one role's settings ask for; CI runners are looked for unless turned off."""
    probes: list[Probe] = []
    if settings.units or settings.ci_runner is not False:
        probes.append(WatchedUnits(settings.units, ci_runner=settings.ci_runner))
    if settings.containers:
        probes.append(WatchedContainers(settings.containers, settings.container_runtime))
    if settings.backups:
        probes.append(BackupsProbe(settings.backups))
    if settings.centrifugo is not None:
        c = settings.centrifugo
        probes += [
            CentrifugoVersion(c),
            CentrifugoUnit(c),
            CentrifugoHealth(c),
            CentrifugoConfig(c),
        ]
    if settings.postgresql is not None:
        probes.append(PostgresProbe(settings.postgresql))
    if settings.redis is not None:
        probes.append(RedisProbe(settings.redis))
    if settings.caddy is not None:
        probes.append(CaddyProbe(settings.caddy))
    return probes
