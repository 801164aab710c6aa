"""Stack probes on recorded outputs (tests/fixtures/probes/*/*.json, sources in the README).

Each case names the probe's settings, what its command must contain, the output, and the
facts stored (the snapshot part as JSON, ``None`` fields left out) or the parse error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
from codeb_report.probes.stack.settings import (
    BackupFolder,
    CaddySettings,
    CentrifugoSettings,
    PostgresSettings,
    RedisSettings,
)
from codeb_report.probes.stack.watched import WatchedContainers, WatchedUnits
from codeb_report.snapshot import Server

FIXTURES = Path(__file__).parent / "fixtures" / "probes"


def _dump(value: Any) -> Any:
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value.model_dump(mode="json", exclude_none=True) if value is not None else None


PROBES: dict[str, tuple[Callable[[dict[str, Any]], Probe], Callable[[Server], Any]]] = {
    "centrifugo.version": (
        lambda s: CentrifugoVersion(CentrifugoSettings(**s)),
        lambda v: v.centrifugo,
    ),
    "centrifugo.unit": (lambda s: CentrifugoUnit(CentrifugoSettings(**s)), lambda v: v.centrifugo),
    "centrifugo.health": (
        lambda s: CentrifugoHealth(CentrifugoSettings(**s)),
        lambda v: v.centrifugo,
    ),
    "centrifugo.config": (
        lambda s: CentrifugoConfig(CentrifugoSettings(**s)),
        lambda v: v.centrifugo,
    ),
    "backups": (
        lambda s: BackupsProbe([BackupFolder(**f) for f in s["folders"]]),
        lambda v: v.backups,
    ),
    "watched.units": (lambda s: WatchedUnits(**s), lambda v: v.watched),
    "watched.containers": (lambda s: WatchedContainers(**s), lambda v: v.watched),
    "redis": (lambda s: RedisProbe(RedisSettings(**s)), lambda v: v.redis),
    "postgresql": (lambda s: PostgresProbe(PostgresSettings(**s)), lambda v: v.postgresql),
    "caddy": (lambda s: CaddyProbe(CaddySettings(**s)), lambda v: v.proxy),
}

CASES = sorted(FIXTURES.glob("*/*.json"))
CASES = [c for c in CASES if c.parent.name in PROBES]


def test_every_probe_has_recorded_cases() -> None:
    assert {c.parent.name for c in CASES} == set(PROBES)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_output(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    make, part = PROBES[path.parent.name]
    probe = make(case["settings"])
    assert probe.name == path.parent.name
    command = probe.command()
    for fragment in case.get("command_contains", []):
        assert fragment in command
    if "raises" in case:
        with pytest.raises(ValueError, match="^" + re.escape(case["raises"])):
            probe.parse(case["output"])
        return
    server = Server(name="n2", host="h", role="streaming", reachable=True)
    probe.store(server, probe.parse(case["output"]))
    assert _dump(part(server)) == case["expected"]
