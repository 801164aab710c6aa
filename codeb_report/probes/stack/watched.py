"""The units and containers a role is expected to run, and the GitHub Actions runner.

Every configured name gets an entry, so a missing one is a fact the analysis can flag.
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta, timezone

from codeb_report.probes.base import Probe
from codeb_report.probes.services import LIST_UNITS
from codeb_report.probes.stack import systemd
from codeb_report.probes.stack.settings import CI_RUNNER_PATTERN, RuntimeChoice
from codeb_report.probes.stack.shell import SECTION, section, select_runtime, split_sections
from codeb_report.snapshot import Server, Watched

UNIT_PROPERTIES = "Id,LoadState,ActiveState,SubState,Description,ActiveEnterTimestamp"
INSPECT_FORMAT = "{{.State.Status}}|{{.State.StartedAt}}|{{.Config.Image}}"
# Docker: 2025-12-18T05:12:03.123456789Z; Podman: 2025-12-18 14:12:03.123456789 +0900 KST
CONTAINER_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?"
)
GO_ZERO_YEAR = "0001-"
# systemd's system unit search path (systemd.unit(5)): where `systemctl list-unit-files`
# finds unit files. A runner installed but neither enabled nor started is only there.
UNIT_DIRS = (
    "/etc/systemd/system.control", "/run/systemd/system.control", "/run/systemd/transient",
    "/run/systemd/generator.early", "/etc/systemd/system", "/etc/systemd/system.attached",
    "/run/systemd/system", "/run/systemd/system.attached", "/run/systemd/generator",
    "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system",
    "/run/systemd/generator.late",
)  # fmt: skip
UNIT_TYPES = (
    "service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer",
    "slice", "scope",
)  # fmt: skip


def _merge(server: Server, kind: str, items: list[Watched]) -> None:
    server.watched = [w for w in server.watched if w.kind != kind] + items


class WatchedUnits(Probe):
    """``systemctl show`` for the configured units and every ``actions.runner.*`` unit.

    Runner units are found among the loaded service units (the services probe's
    ``systemctl list-units``, read on stdin) and the installed unit files (systemd's
    unit directories, as ``systemctl list-unit-files`` reads them), listed once each by
    name; when a runner is expected (``ci_runner = true``) and none is there, that is an
    entry with present False. A unit that does not exist shows ``LoadState=not-found``:
    present is False.

    Sample output::

        == runners
        actions.runner.codeb-org.codeb-app-server.service
        == show
        Id=codeb-watchdog.service
        Description=CodeB Watchdog
        LoadState=loaded
        ActiveState=active
        SubState=running
        ActiveEnterTimestamp=Sat 2025-12-20 01:02:03 UTC

        Id=actions.runner.codeb-org.codeb-app-server.service
        ...
    """

    name = "watched.units"
    requires = ("systemctl",)

    def __init__(
        self,
        units: list[str],
        ci_runner: bool | None = None,
        unit_dirs: tuple[str, ...] = UNIT_DIRS,
    ) -> None:
        self.units = units
        self.ci_runner = ci_runner
        self.unit_dirs = unit_dirs

    def command(self) -> str:
        units = " ".join(shlex.quote(u) for u in self.units)
        find = self._find_runners() if self.ci_runner is not False else "r=\n"
        return (
            f"{find}set -f\n{section('runners')}; printf '%s\\n' $r\n"
            f"{section('show')}\n"
            f"set -- {units} $r\n"
            f'if [ $# -gt 0 ]; then {systemd.SHOW} -p {UNIT_PROPERTIES} -- "$@"; fi'
        )

    def input_command(self) -> str | None:
        return LIST_UNITS if self.ci_runner is not False else None

    def _find_runners(self) -> str:
        """Shell setting ``$r`` to the runner units' names, each once.

        Builtins only (each program costs the server about a millisecond): the unit
        files are globbed, the loaded units' listing is read from stdin with ``read``.
        """
        files = " ".join(f"{shlex.quote(d)}/{CI_RUNNER_PATTERN}" for d in self.unit_dirs)
        suffixes = "|".join(f"*.{t}" for t in UNIT_TYPES)
        return (
            "r=\n"
            # Each name once; unit names hold no spaces.
            '_cb_add() { case " $r " in *" $1 "*) ;; *) r="$r $1" ;; esac; }\n'
            # A drop-in folder (name.service.d) or a stray backup file is no unit file.
            f"for f in {files}; do case $f in {suffixes}) ;; *) continue ;; esac; "
            '[ ! -d "$f" ] && { [ -e "$f" ] || [ -L "$f" ]; } && _cb_add "${f##*/}"; done\n'
            # Older systemctl marks failed and not-found units with a bullet even in plain
            # output; LANG=C prints it as "*".
            'while read -r a b _; do case $a in "●"|"*") a=$b ;; esac; '
            f'case $a in {CI_RUNNER_PATTERN}) _cb_add "$a" ;; esac; done\n'
        )

    def parse(self, output: str) -> list[Watched]:
        parts = split_sections(output)
        runners = parts.get("runners", "").split()
        asked = [(u, False) for u in self.units] + [(r, True) for r in runners]
        found = systemd.records(parts.get("show", ""))
        if len(found) != len(asked):
            raise ValueError(f"asked for {len(asked)} units, systemctl described {len(found)}")
        items = [
            _unit(name, record, runner) for (name, runner), record in zip(asked, found, strict=True)
        ]
        # The configured units in their order, then the runners by name.
        items.sort(key=lambda w: (w.ci_runner, w.name if w.ci_runner else ""))
        if self.ci_runner is True and not runners:  # expected here, and not there
            items.append(
                Watched(kind="unit", name=CI_RUNNER_PATTERN, present=False, ci_runner=True)
            )
        return items

    def store(self, server: Server, value: list[Watched]) -> None:
        _merge(server, "unit", value)


def _unit(name: str, record: dict[str, str], runner: bool) -> Watched:
    load = systemd.value(record, "LoadState")
    return Watched(
        kind="unit",
        name=name,
        unit=record.get("Id") or name,
        present=load not in (None, "not-found"),
        state=systemd.value(record, "ActiveState"),
        sub=systemd.value(record, "SubState"),
        since=systemd.timestamp(record.get("ActiveEnterTimestamp")),
        description=systemd.value(record, "Description"),
        ci_runner=runner,
        error=None if load in (None, "loaded", "not-found") else f"LoadState={load}",
    )


class WatchedContainers(Probe):
    """``podman|docker container inspect`` for each configured name.

    Sample output (podman; docker prints ``2025-12-18T05:12:03.1Z`` times)::

        == runtime
        podman
        == codeb-postgres
        running|2025-12-18 14:12:03.527385329 +0900 KST|docker.io/library/postgres:16
        == codeb-old
        Error: no such container codeb-old
    """

    name = "watched.containers"

    def __init__(self, names: list[str], runtime: RuntimeChoice = "auto") -> None:
        self.names = names
        self.runtime = runtime
        if runtime != "auto":
            self.requires = (runtime,)

    def command(self) -> str:
        names = " ".join(shlex.quote(n) for n in self.names)
        return (
            f'{select_runtime(self.runtime)}{section("runtime")}; echo "$_rt"\n'
            f"for n in {names}; do printf '{SECTION}%s\\n' \"$n\"; "
            f'[ -n "$_rt" ] && "$_rt" container inspect --format '
            f'{shlex.quote(INSPECT_FORMAT)} -- "$n" 2>&1; done; exit 0'
        )

    def parse(self, output: str) -> list[Watched]:
        parts = split_sections(output)
        runtime = parts.get("runtime", "")
        if runtime not in ("podman", "docker"):
            raise ValueError("no container runtime: neither podman nor docker is installed")
        return [_container(n, runtime, parts.get(n, "")) for n in self.names]

    def store(self, server: Server, value: list[Watched]) -> None:
        _merge(server, "container", value)


def _container(name: str, runtime: str, text: str) -> Watched:
    base = {"kind": "container", "name": name, "runtime": runtime}
    line = next((x for x in text.splitlines() if x.count("|") >= 2), None)
    if line is None:
        error = " ".join(text.split())[:300] or "no answer"
        if "no such" in error.lower():
            return Watched(present=False, **base)
        return Watched(present=None, error=error, **base)
    state, started, image = line.split("|", 2)
    return Watched(present=True, state=state, since=container_time(started), image=image, **base)


def container_time(text: str) -> datetime | None:
    """Docker's RFC 3339 or Podman's Go time string; Go's zero time means never started."""
    match = CONTAINER_TIME.match(text.strip())
    if not match or text.startswith(GO_ZERO_YEAR):
        return None
    local = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}")
    zone = match.group(3) or "Z"
    if zone == "Z":
        return local.replace(tzinfo=UTC)
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return local.replace(tzinfo=timezone(offset if zone[0] == "+" else -offset))
