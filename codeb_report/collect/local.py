"""Collect the machine codeb-report runs on, when no inventory is given."""

from __future__ import annotations

import socket
from collections.abc import Sequence

from codeb_report import __version__
from codeb_report.collect.batch import run_probes
from codeb_report.collect.runner import LocalRunner
from codeb_report.probes.base import Probe
from codeb_report.snapshot import Server, Snapshot, now

LOCAL_TIMEOUT = 120.0


def collect_local(probes: Sequence[Probe], name: str = "local", role: str = "Local") -> Snapshot:
    started = now()
    server = Server(
        name=name, host=socket.gethostname(), address="127.0.0.1", role=role, reachable=True
    )
    run_probes(LocalRunner(), probes, server, timeout=LOCAL_TIMEOUT)
    return Snapshot(collected_at=started, collector_version=__version__, servers=[server])
