"""Section 2's systemd rows: the configured units, else every notable one."""

from __future__ import annotations

from dataclasses import dataclass

from codeb_report.analysis.model import Level, ServerAnalysis, Status
from codeb_report.analysis.reasons import probe_reason
from codeb_report.analysis.status import service_status
from codeb_report.render.view.options import RenderOptions
from codeb_report.snapshot import Server, Service, Watched


@dataclass(frozen=True)
class ServiceRow:
    unit: str
    status: Status
    description: str | None


# Service states worth a row when no units are configured to watch: not the dozens of
# inactive units every machine has.
NOTABLE_STATES = ("active", "activating", "deactivating", "reloading", "failed")


def service_rows(
    server: Server, judged: ServerAnalysis, options: RenderOptions
) -> list[ServiceRow]:
    """The configured units (and CI runner) when there are any, else every notable unit;
    a failed unit is always shown."""
    watched = [w for w in server.watched if w.kind == "unit"]
    # Each unit's first listing, by name: looking each watched unit up in the whole list
    # took seconds for thousands of CI runner units beside thousands of services.
    listed: dict[str, Service] = {}
    for u in server.services:
        listed.setdefault(u.unit, u)
    rows = [_watched_unit(w, listed, judged, options) for w in watched]
    shown = {w.unit or w.name for w in watched} | {w.name for w in watched}
    for u in server.services:
        if u.unit in shown or u.unit.removesuffix(".service") in shown:
            continue
        if u.active == "failed" or (not watched and u.active in NOTABLE_STATES):
            rows.append(_service(u, judged, options))
    return rows


def _unit_description(unit: str, fallback: str | None, options: RenderOptions) -> str | None:
    short = unit.removesuffix(".service")
    return options.units.get(short) or options.units.get(unit) or fallback


def _service(u: Service, judged: ServerAnalysis, options: RenderOptions) -> ServiceRow:
    status = judged.service_states.get(u.unit) or service_status(u)
    short = u.unit.removesuffix(".service")
    return ServiceRow(short, status, _unit_description(u.unit, u.description, options))


def _watched_unit(
    w: Watched, services: dict[str, Service], judged: ServerAnalysis, options: RenderOptions
) -> ServiceRow:
    unit = w.unit or w.name
    listed = services.get(unit) or services.get(f"{w.name}.service")
    if listed is not None and w.present is not False:
        return _service(listed, judged, options)
    if w.present is False:
        status = Status(level=Level.CRIT, word="없음")
    elif w.present is None:
        status = Status(level=Level.WARN, word="확인 불가")
    elif (w.state or "") == "active":
        status = Status(level=Level.OK, word="Active")
    else:
        level = Level.CRIT if w.state == "failed" else Level.WARN
        status = Status(level=level, word=(w.state or "unknown").capitalize())
    error = probe_reason(w.error)
    description = _unit_description(unit, w.description or (error and error.short), options)
    return ServiceRow(unit.removesuffix(".service"), status, description)
