"""API answers -> model objects, field by chosen field.

Only the fields named here are read; everything else the API sends (``default_password``,
``kvm``, a startup script's body, fields added in later API versions) is dropped. Values
of the wrong type become None rather than failing the whole account; strings are cut to
the model's bounds and numbers must be finite. An item the model refuses (no ``id``, an
instance without ``region`` or ``plan``, a plan without a valid price, a number out of
bounds) is a ``BadItem``: ``items`` skips it and keeps a note naming it and the field, so
one bad item costs only itself. Nested items (node pools, a load balancer's rules and
health check) are skipped the same way, their notes added to their parent's list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from codeb_report.provider.model import (
    MAX_TAGS,
    Account,
    AccountBandwidth,
    BackupSchedule,
    BandwidthPeriod,
    BlockStorage,
    ForwardingRule,
    HealthCheck,
    Instance,
    InstanceBandwidth,
    KubernetesCluster,
    LoadBalancer,
    NodePool,
    OperatingSystem,
    Plan,
    ProviderModel,
    Region,
    StartupScript,
)

TEXT = 256
Json = dict[str, Any]
Notes = list[str]  # one line per skipped item: "plan vc2-x: monthly_cost: missing or invalid"
SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # an id that can go into a log line as it is


class BadItem(ValueError):
    """An item the model cannot hold; the message names the field, never a value."""


def text(data: Json, key: str, limit: int = TEXT) -> str | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)[:limit]


def integer(data: Json, key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and math.isfinite(value) and value >= 0 and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def number(data: Json, key: str, signed: bool = False) -> float | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value) if signed or value >= 0 else None


def flag(data: Json, key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def texts(data: Json, key: str, limit: int = 100) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [str(v)[:TEXT] for v in value if isinstance(v, str | int) and not isinstance(v, bool)][
        :limit
    ]


def when(data: Json, key: str) -> datetime | None:
    """ISO-8601 with offset, or ``YYYY-MM-DD HH:MM:SS`` (taken as UTC); else None."""
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def obj(data: Json, key: str) -> Json:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


M = TypeVar("M", bound=ProviderModel)


def build(model: type[M], fields: Json, what: str) -> M:
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        # The readers above turn a value of the wrong type, sign or finiteness into None.
        said = "missing or not valid" if err["type"] == "missing" else err["msg"]
        raise BadItem(f"{named(what, fields.get('id'))}: {where}: {said}") from None


def named(what: str, ident: object) -> str:
    """``plan vc2-1c-1gb``; the id only when it is safe to print as it is."""
    ident = "" if ident is None else str(ident)
    return f"{what} {ident}" if SAFE_ID.match(ident) else what


def items(raw: Iterable[Json], item: Callable[[Json, Notes], M], notes: Notes) -> list[M]:
    """Every item the model accepts, each id once; the others are noted and skipped."""
    kept: list[M] = []
    seen: set[object] = set()
    for data in raw:
        try:
            parsed = item(data, notes)
        except BadItem as exc:
            notes.append(str(exc))
            continue
        ident = getattr(parsed, "id", None)
        if ident is not None and ident in seen:
            notes.append(f"{named(type(parsed).__name__, ident)}: duplicate id (kept the first)")
            continue
        seen.add(ident)
        kept.append(parsed)
    return kept


def alone(item: Callable[[Json], M]) -> Callable[[Json, Notes], M]:
    """A parser of items with no nested items, for ``items``."""
    return lambda data, _notes: item(data)


def account(data: Json) -> Account:
    return build(
        Account,
        {
            "name": text(data, "name"),
            "balance": number(data, "balance", signed=True),
            "pending_charges": number(data, "pending_charges"),
            "last_payment_date": when(data, "last_payment_date"),
            "last_payment_amount": number(data, "last_payment_amount", signed=True),
        },
        "account",
    )


def _period(data: Json) -> BandwidthPeriod | None:
    if not data:
        return None
    keys = [
        "gb_in",
        "gb_out",
        "instance_bandwidth_credits",
        "free_bandwidth_credits",
        "purchased_bandwidth_credits",
        "overage",
        "overage_unit_cost",
        "overage_cost",
    ]
    return build(BandwidthPeriod, {k: number(data, k) for k in keys}, "bandwidth")


def account_bandwidth(data: Json) -> AccountBandwidth:
    return AccountBandwidth(
        previous_month=_period(obj(data, "previous_month")),
        current_month_to_date=_period(obj(data, "current_month_to_date")),
        current_month_projected=_period(obj(data, "current_month_projected")),
    )


def region(data: Json) -> Region:
    return build(
        Region,
        {
            "id": text(data, "id", 64),
            "city": text(data, "city"),
            "country": text(data, "country"),
            "continent": text(data, "continent"),
            "options": texts(data, "options", 64),
        },
        "region",
    )


def available_plans(data: Json) -> list[str]:
    return texts(data, "available_plans", 10_000)


def plan(data: Json) -> Plan:
    return build(
        Plan,
        {
            "id": text(data, "id", 64),
            "type": text(data, "type"),
            "vcpu_count": integer(data, "vcpu_count"),
            "ram": integer(data, "ram"),
            "disk": integer(data, "disk"),
            "disk_count": integer(data, "disk_count"),
            "bandwidth": number(data, "bandwidth"),
            "monthly_cost": number(data, "monthly_cost"),
            "locations": texts(data, "locations", 1000),
        },
        "plan",
    )


def operating_system(data: Json) -> OperatingSystem:
    return build(
        OperatingSystem,
        {
            "id": integer(data, "id"),
            "name": text(data, "name"),
            "arch": text(data, "arch"),
            "family": text(data, "family"),
        },
        "os",
    )


def instance(data: Json) -> Instance:
    return build(
        Instance,
        {
            "id": text(data, "id", 64),
            "label": text(data, "label"),
            "hostname": text(data, "hostname"),
            "main_ip": text(data, "main_ip", 64),
            "v6_main_ip": text(data, "v6_main_ip", 64),
            "internal_ip": text(data, "internal_ip", 64),
            "region": text(data, "region", 64),
            "plan": text(data, "plan", 64),
            "vcpu_count": integer(data, "vcpu_count"),
            "ram": integer(data, "ram"),
            "disk": integer(data, "disk"),
            "allowed_bandwidth": number(data, "allowed_bandwidth"),
            "os_id": integer(data, "os_id"),
            "os": text(data, "os"),
            "status": text(data, "status"),
            "power_status": text(data, "power_status"),
            "server_status": text(data, "server_status"),
            "features": texts(data, "features", 32),
            "tags": texts(data, "tags", MAX_TAGS),
            "date_created": when(data, "date_created"),
            "firewall_group_id": text(data, "firewall_group_id"),
        },
        "instance",
    )


def backup_schedule(data: Json) -> BackupSchedule | None:
    if not data:
        return None
    return build(
        BackupSchedule,
        {
            "enabled": flag(data, "enabled"),
            "type": text(data, "type"),
            "next_scheduled_time_utc": when(data, "next_scheduled_time_utc"),
            "hour": integer(data, "hour"),
            "dow": integer(data, "dow"),
            "dom": integer(data, "dom"),
        },
        "backup_schedule",
    )


def instance_bandwidth(data: Json, month: str) -> InstanceBandwidth:
    """Sum the days of ``month`` (``YYYY-MM``) in ``{"YYYY-MM-DD": {incoming_bytes, ...}}``."""
    incoming = outgoing = days = 0
    for day, figures in data.items():
        if not (isinstance(day, str) and day.startswith(f"{month}-") and isinstance(figures, dict)):
            continue
        days += 1
        incoming += integer(figures, "incoming_bytes") or 0
        outgoing += integer(figures, "outgoing_bytes") or 0
    return InstanceBandwidth(incoming_bytes=incoming, outgoing_bytes=outgoing, days=min(days, 31))


def node_pool(data: Json) -> NodePool:
    nodes = data.get("nodes")
    ids = [n.get("id") for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []
    return build(
        NodePool,
        {
            "id": text(data, "id", 64),
            "label": text(data, "label"),
            "plan": text(data, "plan", 64),
            "status": text(data, "status"),
            "node_quantity": integer(data, "node_quantity"),
            "auto_scaler": flag(data, "auto_scaler"),
            "min_nodes": integer(data, "min_nodes"),
            "max_nodes": integer(data, "max_nodes"),
            "tag": text(data, "tag"),
            "nodes": [str(i)[:64] for i in ids if isinstance(i, str) and i][:1000],
        },
        "node_pool",
    )


def kubernetes_cluster(data: Json, notes: Notes) -> KubernetesCluster:
    pools = data.get("node_pools")
    pools = [p for p in pools[:100] if isinstance(p, dict)] if isinstance(pools, list) else []
    inner: Notes = []
    cluster = build(
        KubernetesCluster,
        {
            "id": text(data, "id", 64),
            "label": text(data, "label"),
            "region": text(data, "region", 64),
            "version": text(data, "version"),
            "status": text(data, "status"),
            "ip": text(data, "ip", 64),
            "endpoint": text(data, "endpoint"),
            "ha_controlplanes": flag(data, "ha_controlplanes"),
            "node_pools": items(pools, alone(node_pool), inner),
        },
        "kubernetes cluster",
    )
    notes += [f"{named('kubernetes cluster', cluster.id)}: {note}" for note in inner]
    return cluster


def _rule(data: Json) -> ForwardingRule:
    return build(
        ForwardingRule,
        {
            "frontend_protocol": text(data, "frontend_protocol"),
            "frontend_port": integer(data, "frontend_port"),
            "backend_protocol": text(data, "backend_protocol"),
            "backend_port": integer(data, "backend_port"),
        },
        "forwarding rule",
    )


def _health_check(data: Json, notes: Notes) -> HealthCheck | None:
    """The load balancer's health check; one the model refuses is noted and left out."""
    if not data:
        return None
    found = items([data], alone(_check), notes)
    return found[0] if found else None


def _check(data: Json) -> HealthCheck:
    return build(
        HealthCheck,
        {
            "protocol": text(data, "protocol"),
            "port": integer(data, "port"),
            "path": text(data, "path"),
            "check_interval": integer(data, "check_interval"),
            "response_timeout": integer(data, "response_timeout"),
            "unhealthy_threshold": integer(data, "unhealthy_threshold"),
            "healthy_threshold": integer(data, "healthy_threshold"),
        },
        "health_check",
    )


def load_balancer(data: Json, notes: Notes) -> LoadBalancer:
    # Answers say forwarding_rules; the 2023 schema says forward_rules: read both.
    rules = data.get("forwarding_rules", data.get("forward_rules"))
    rules = [r for r in rules[:100] if isinstance(r, dict)] if isinstance(rules, list) else []
    info = obj(data, "generic_info")
    inner: Notes = []
    balancer = build(
        LoadBalancer,
        {
            "id": text(data, "id", 64),
            "label": text(data, "label"),
            "region": text(data, "region", 64),
            "status": text(data, "status"),
            "ipv4": text(data, "ipv4", 64),
            "ipv6": text(data, "ipv6", 64),
            "nodes": integer(data, "nodes"),
            "balancing_algorithm": text(info, "balancing_algorithm"),
            "has_ssl": flag(data, "has_ssl"),
            "health_check": _health_check(obj(data, "health_check"), inner),
            "forwarding_rules": items(rules, alone(_rule), inner),
            "instances": [i[:64] for i in texts(data, "instances", 1000) if i],
        },
        "load balancer",
    )
    notes += [f"{named('load balancer', balancer.id)}: {note}" for note in inner]
    return balancer


def startup_script(data: Json) -> StartupScript:
    """Id, name and type: the ``script`` field (the body) is never read."""
    return build(
        StartupScript,
        {
            "id": text(data, "id", 64),
            "name": text(data, "name"),
            "type": text(data, "type"),
            "date_created": when(data, "date_created"),
        },
        "startup script",
    )


def block(data: Json) -> BlockStorage:
    return build(
        BlockStorage,
        {
            "id": text(data, "id", 64),
            "label": text(data, "label"),
            "size_gb": number(data, "size_gb"),
            "cost": number(data, "cost"),
            "region": text(data, "region", 64),
            "attached_to_instance": text(data, "attached_to_instance", 64),
            "status": text(data, "status"),
        },
        "block",
    )
