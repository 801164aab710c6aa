"""The probes codeb-report runs on every server, one module per subject."""

from __future__ import annotations

from codeb_report.probes.base import Probe
from codeb_report.probes.containers import DockerProbe, PodmanProbe
from codeb_report.probes.filesystems import FilesystemsProbe
from codeb_report.probes.ports import PortsProbe
from codeb_report.probes.services import ServicesProbe
from codeb_report.probes.system import MemoryProbe, SystemProbe

__all__ = ["Probe", "default_probes"]


def default_probes() -> list[Probe]:
    """Every probe of a server's base facts, in the order they are run."""
    return [
        SystemProbe(),
        MemoryProbe(),
        FilesystemsProbe(),
        DockerProbe(),
        PodmanProbe(),
        ServicesProbe(),
        PortsProbe(),
    ]
