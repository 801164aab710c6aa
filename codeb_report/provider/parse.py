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


def short(data: Json, key: str) -> str | None:
    """An id, a region or plan id, an address: text of at most 64 characters."""
    return text(data, key, 64)


READERS: dict[str, Callable[[Json, str], Any]] = {
    "short": short,
    "text": text,
    "integer": integer,
    "number": number,
    "flag": flag,
    "when": when,
}


def read(data: Json, **keys: str) -> Json:
    """``read(data, integer="ram disk")``: each key, space-separated, through the reader
    named (see ``READERS``), so a model's fields are listed by kind, each once."""
    return {
        key: READERS[reader](data, key) for reader, names in keys.items() for key in names.split()
    }


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
    fields = read(data, text="name", number="pending_charges", when="last_payment_date")
    for key in ("balance", "last_payment_amount"):  # negative when in credit
        fields[key] = number(data, key, signed=True)
    return build(Account, fields, "account")


def _period(data: Json) -> BandwidthPeriod | None:
    if not data:
        return None
    keys = "gb_in gb_out instance_bandwidth_credits free_bandwidth_credits"
    keys += " purchased_bandwidth_credits overage overage_unit_cost overage_cost"
    return build(BandwidthPeriod, read(data, number=keys), "bandwidth")


def account_bandwidth(data: Json) -> AccountBandwidth:
    return AccountBandwidth(
        previous_month=_period(obj(data, "previous_month")),
        current_month_to_date=_period(obj(data, "current_month_to_date")),
        current_month_projected=_period(obj(data, "current_month_projected")),
    )


def region(data: Json) -> Region:
    fields = read(data, short="id", text="city country continent")
    return build(Region, {**fields, "options": texts(data, "options", 64)}, "region")


def available_plans(data: Json) -> list[str]:
    return texts(data, "available_plans", 10_000)


def plan(data: Json) -> Plan:
    fields = read(
        data,
        short="id",
        text="type",
        integer="vcpu_count ram disk disk_count",
        number="bandwidth monthly_cost",
    )
    return build(Plan, {**fields, "locations": texts(data, "locations", 1000)}, "plan")


def operating_system(data: Json) -> OperatingSystem:
    return build(OperatingSystem, read(data, integer="id", text="name arch family"), "os")


def instance(data: Json) -> Instance:
    fields = read(
        data,
        short="id main_ip v6_main_ip internal_ip region plan",
        text="label hostname os status power_status server_status firewall_group_id",
        integer="vcpu_count ram disk os_id",
        number="allowed_bandwidth",
        when="date_created",
    )
    fields["features"] = texts(data, "features", 32)
    fields["tags"] = texts(data, "tags", MAX_TAGS)
    return build(Instance, fields, "instance")


def backup_schedule(data: Json) -> BackupSchedule | None:
    if not data:
        return None
    fields = read(
        data, flag="enabled", text="type", when="next_scheduled_time_utc", integer="hour dow dom"
    )
    return build(BackupSchedule, fields, "backup_schedule")


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
    fields = read(
        data,
        short="id plan",
        text="label status tag",
        integer="node_quantity min_nodes max_nodes",
        flag="auto_scaler",
    )
    fields["nodes"] = [str(i)[:64] for i in ids if isinstance(i, str) and i][:1000]
    return build(NodePool, fields, "node_pool")


def kubernetes_cluster(data: Json, notes: Notes) -> KubernetesCluster:
    pools = data.get("node_pools")
    pools = [p for p in pools[:100] if isinstance(p, dict)] if isinstance(pools, list) else []
    inner: Notes = []
    fields = read(
        data,
        short="id region ip",
        text="label version status endpoint",
        flag="ha_controlplanes",
    )
    fields["node_pools"] = items(pools, alone(node_pool), inner)
    cluster = build(KubernetesCluster, fields, "kubernetes cluster")
    notes += [f"{named('kubernetes cluster', cluster.id)}: {note}" for note in inner]
    return cluster


def _rule(data: Json) -> ForwardingRule:
    fields = read(
        data, text="frontend_protocol backend_protocol", integer="frontend_port backend_port"
    )
    return build(ForwardingRule, fields, "forwarding rule")


def _health_check(data: Json, notes: Notes) -> HealthCheck | None:
    """The load balancer's health check; one the model refuses is noted and left out."""
    if not data:
        return None
    found = items([data], alone(_check), notes)
    return found[0] if found else None


def _check(data: Json) -> HealthCheck:
    numbers = "port check_interval response_timeout unhealthy_threshold healthy_threshold"
    return build(HealthCheck, read(data, text="protocol path", integer=numbers), "health_check")


def load_balancer(data: Json, notes: Notes) -> LoadBalancer:
    # Answers say forwarding_rules; the 2023 schema says forward_rules: read both.
    rules = data.get("forwarding_rules", data.get("forward_rules"))
    rules = [r for r in rules[:100] if isinstance(r, dict)] if isinstance(rules, list) else []
    info = obj(data, "generic_info")
    inner: Notes = []
    fields = read(
        data, short="id region ipv4 ipv6", text="label status", integer="nodes", flag="has_ssl"
    )
    fields["balancing_algorithm"] = text(info, "balancing_algorithm")
    fields["health_check"] = _health_check(obj(data, "health_check"), inner)
    fields["forwarding_rules"] = items(rules, alone(_rule), inner)
    fields["instances"] = [i[:64] for i in texts(data, "instances", 1000) if i]
    balancer = build(LoadBalancer, fields, "load balancer")
    notes += [f"{named('load balancer', balancer.id)}: {note}" for note in inner]
    return balancer


def startup_script(data: Json) -> StartupScript:
    """Id, name and type: the ``script`` field (the body) is never read."""
    fields = read(data, short="id", text="name type", when="date_created")
    return build(StartupScript, fields, "startup script")


def block(data: Json) -> BlockStorage:
    fields = read(
        data,
        short="id region attached_to_instance",
        text="label status",
        number="size_gb cost",
    )
    return build(BlockStorage, fields, "block")
