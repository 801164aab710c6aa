"""systemd service units and their states."""

from __future__ import annotations

from codeb_report.probes.base import Probe, ProbeRun
from codeb_report.snapshot import Server, Service

# What systemctl says when PID 1 is another init (containers, WSL, SysV hosts).
NOT_BOOTED = "System has not been booted with systemd"

# Every service unit systemd has loaded, one per line (the CI-runner lookup reads it too).
LIST_UNITS = "systemctl list-units --type=service --all --no-legend --plain --no-pager"

# Older systemctl marks failed and not-found units with a leading bullet even in plain
# output; LANG=C prints it as "*".
BULLETS = ("●", "*")


class ServicesProbe(Probe):
    """Service units known to systemd, from ``systemctl list-units --type=service --all``.

    Units systemd only knows by reference (load state "not-found") are left out: nothing
    is installed for them. Without systemd as PID 1 the probe is skipped, not failed.

    Sample output (systemd 252)::

        cron.service                       loaded active running Regular background program processing daemon
        networking.service                 loaded active exited  Raise network interfaces
        postgresql@15-main.service         loaded active running PostgreSQL Cluster 15-main
        qemu-guest-agent.service           loaded active running QEMU Guest Agent
    """  # noqa: E501

    name = "services"
    requires = ("systemctl",)

    def command(self) -> str:
        return LIST_UNITS

    def skip_reason(self, run: ProbeRun) -> str | None:
        if run.exit_code != 0 and NOT_BOOTED in run.stderr:
            return "systemd is not the init system (PID 1)"
        return None

    def parse(self, output: str) -> list[Service]:
        services = []
        for line in output.splitlines():
            fields = line.split(None, 4)
            if fields and fields[0] in BULLETS:
                fields = line.split(None, 5)[1:]
            # Only unit rows: headers and legends (when a systemctl ignores --no-legend)
            # name no .service unit.
            if len(fields) < 4 or not fields[0].endswith(".service") or fields[1] == "not-found":
                continue
            unit, load, active, sub = fields[:4]
            description = fields[4].strip() if len(fields) > 4 else ""
            services.append(
                Service(
                    unit=unit, load=load, active=active, sub=sub, description=description or None
                )
            )
        return services

    def store(self, server: Server, value: list[Service]) -> None:
        server.services = value
