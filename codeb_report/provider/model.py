"""The provider (Vultr) part of a snapshot: the account as the API described it.

Every model is built from chosen fields with ``extra="forbid"``: what the API says beyond
them is dropped by the collector, never copied through, so an instance's
``default_password`` and ``kvm`` console URL (both credentials) cannot reach a snapshot.
Strings and lists are bounded and numbers finite, like the rest of the snapshot.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import MaxLen
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# Bounds: generous for a real account, small enough that a hostile answer cannot bloat a
# snapshot. Vultr ids are UUIDs (36 characters); labels and hostnames are short.
Id = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=256)]
Address = Annotated[str, Field(max_length=64)]
Message = Annotated[str, Field(max_length=500)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
Bytes = Annotated[int, Field(ge=0)]
Megabytes = Annotated[int, Field(ge=0, le=100_000_000)]
Gigabytes = Annotated[float, Field(ge=0, le=1e12)]
Usd = Annotated[float, Field(ge=0, le=1e9)]
SignedUsd = Annotated[float, Field(ge=-1e9, le=1e9)]  # a balance is negative when in credit

MAX_ITEMS = 10_000  # instances, plans, node pools ... per list
MAX_TAGS = 64


def _items(limit: int = MAX_ITEMS) -> Any:
    return Field(default_factory=list, max_length=limit)


class ProviderModel(BaseModel):
    """Unknown fields are errors and numbers must be finite (no inf/nan in a snapshot)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


ErrorKind = Literal[
    "no_key",  # no API key found in any of the documented places
    "unauthorized",  # 401: the key is wrong or revoked
    "forbidden",  # 403: the key is not allowed (e.g. this machine's address is not listed)
    "unreachable",  # connection refused, DNS, TLS, dropped connection after retries
    "timeout",  # the deadline passed
    "rate_limited",  # still 429 after the retries
    "server_error",  # still 5xx after the retries
    "bad_answer",  # not JSON, or not the documented shape
    "empty_instances",  # the instance list is empty although the configuration names servers
    "too_many",  # a list longer than the snapshot holds (list_bound), e.g. > 10,000 instances
]


class ProviderError(ProviderModel):
    """What went wrong with the API; ``message`` is short, English, and never holds the key."""

    kind: ErrorKind
    message: Message
    endpoint: Text | None = None  # e.g. "/account", "/instances/{id}/bandwidth"
    status: Annotated[int, Field(ge=100, le=599)] | None = None


class Account(ProviderModel):
    name: Text | None = None
    balance: SignedUsd | None = None
    pending_charges: Usd | None = None
    last_payment_date: AwareDatetime | None = None
    last_payment_amount: SignedUsd | None = None


class BandwidthPeriod(ProviderModel):
    """One month of the account's traffic (``/account/bandwidth``), in GB and USD.

    The allowance is the sum of the three credits; ``overage`` is GB above it.
    """

    gb_in: Gigabytes | None = None
    gb_out: Gigabytes | None = None
    instance_bandwidth_credits: Gigabytes | None = None
    free_bandwidth_credits: Gigabytes | None = None
    purchased_bandwidth_credits: Gigabytes | None = None
    overage: Gigabytes | None = None
    overage_unit_cost: Usd | None = None
    overage_cost: Usd | None = None

    @property
    def allowance_gb(self) -> float | None:
        credits = [
            self.instance_bandwidth_credits,
            self.free_bandwidth_credits,
            self.purchased_bandwidth_credits,
        ]
        known = [c for c in credits if c is not None]
        return sum(known) if known else None


class AccountBandwidth(ProviderModel):
    previous_month: BandwidthPeriod | None = None
    current_month_to_date: BandwidthPeriod | None = None
    current_month_projected: BandwidthPeriod | None = None


class Region(ProviderModel):
    id: Id
    city: Text | None = None
    country: Text | None = None
    continent: Text | None = None
    options: list[Text] = _items(64)  # e.g. "kubernetes", "load_balancers", "block_storage_*"
    # Plan ids orderable there now (/regions/{id}/availability); None = not asked or failed.
    available_plans: list[Id] | None = Field(default=None, max_length=MAX_ITEMS)


class Plan(ProviderModel):
    id: Id
    type: Text | None = None  # vc2, vhf, vdc, ...
    vcpu_count: Count
    ram: Megabytes  # MB
    disk: Megabytes  # GB
    disk_count: Count | None = None
    bandwidth: Gigabytes | None = None  # GB per month
    monthly_cost: Usd
    locations: list[Id] = _items(1000)


class OperatingSystem(ProviderModel):
    id: Annotated[int, Field(ge=0)]
    name: Text
    arch: Text | None = None
    family: Text | None = None


class BackupSchedule(ProviderModel):
    enabled: bool | None = None
    type: Text | None = None  # daily, weekly, monthly, daily_alt_even, daily_alt_odd
    next_scheduled_time_utc: AwareDatetime | None = None
    hour: Annotated[int, Field(ge=0, le=23)] | None = None
    dow: Annotated[int, Field(ge=0, le=7)] | None = None
    dom: Annotated[int, Field(ge=0, le=31)] | None = None


class InstanceBandwidth(ProviderModel):
    """This month so far, summed over the days ``/instances/{id}/bandwidth`` lists."""

    incoming_bytes: Bytes
    outgoing_bytes: Bytes
    days: Annotated[int, Field(ge=0, le=31)]


class Instance(ProviderModel):
    id: Id
    label: Text = ""
    hostname: Text = ""
    main_ip: Address | None = None
    v6_main_ip: Address | None = None
    internal_ip: Address | None = None
    region: Id
    plan: Id
    vcpu_count: Count | None = None
    ram: Megabytes | None = None  # MB
    disk: Megabytes | None = None  # GB
    allowed_bandwidth: Gigabytes | None = None  # GB per month
    monthly_cost: Usd | None = None  # from /plans; None when the plan is not listed there
    os_id: Annotated[int, Field(ge=0)] | None = None
    os: Text | None = None  # the name, from /os (else the instance's own ``os`` field)
    status: Text | None = None  # active, pending, suspended, resizing
    power_status: Text | None = None  # running, stopped
    server_status: Text | None = None  # none, locked, installingbooting, ok
    features: list[Text] = _items(32)  # auto_backups, ipv6, ddos_protection
    backup_schedule: BackupSchedule | None = None
    tags: list[Text] = _items(MAX_TAGS)
    date_created: AwareDatetime | None = None
    firewall_group_id: Text | None = None
    bandwidth: InstanceBandwidth | None = None
    # The configured server this instance is (by address, then label, then hostname);
    # None = no configured server matches it (it is still paid for).
    server: Text | None = None
    matched_by: Literal["address", "label", "hostname"] | None = None

    @property
    def auto_backups(self) -> bool:
        return "auto_backups" in self.features


class NodePool(ProviderModel):
    id: Id
    label: Text = ""
    plan: Id | None = None
    status: Text | None = None
    node_quantity: Count | None = None
    auto_scaler: bool | None = None
    min_nodes: Count | None = None
    max_nodes: Count | None = None
    tag: Text | None = None
    nodes: list[Id] = _items(1000)  # node (instance) ids


class KubernetesCluster(ProviderModel):
    id: Id
    label: Text = ""
    region: Id | None = None
    version: Text | None = None
    status: Text | None = None
    ip: Address | None = None
    endpoint: Text | None = None
    ha_controlplanes: bool | None = None
    node_pools: list[NodePool] = _items(100)


class ForwardingRule(ProviderModel):
    frontend_protocol: Text
    frontend_port: Annotated[int, Field(ge=0, le=65535)]
    backend_protocol: Text
    backend_port: Annotated[int, Field(ge=0, le=65535)]


class HealthCheck(ProviderModel):
    protocol: Text | None = None
    port: Annotated[int, Field(ge=0, le=65535)] | None = None
    path: Text | None = None
    check_interval: Count | None = None
    response_timeout: Count | None = None
    unhealthy_threshold: Count | None = None
    healthy_threshold: Count | None = None


class LoadBalancer(ProviderModel):
    id: Id
    label: Text = ""
    region: Id | None = None
    status: Text | None = None
    ipv4: Address | None = None
    ipv6: Address | None = None
    nodes: Count | None = None
    balancing_algorithm: Text | None = None
    has_ssl: bool | None = None
    health_check: HealthCheck | None = None
    forwarding_rules: list[ForwardingRule] = _items(100)
    instances: list[Id] = _items(1000)  # attached instance ids


class StartupScript(ProviderModel):
    """Id, name and type only: the script's body may hold secrets and is never fetched."""

    id: Id
    name: Text = ""
    type: Text | None = None  # boot, pxe
    date_created: AwareDatetime | None = None


class BlockStorage(ProviderModel):
    id: Id
    label: Text = ""
    size_gb: Gigabytes | None = None
    cost: Usd | None = None  # USD per month
    region: Id | None = None
    attached_to_instance: Text | None = None  # instance id, "" when detached
    status: Text | None = None


class Provider(ProviderModel):
    """The Vultr account at collection time, or why it could not be read (``error``).

    With ``error`` set the lists are empty and mean "unknown", not "none". ``problems``
    are endpoints that failed while the rest was read (e.g. one instance's bandwidth).
    """

    name: Literal["vultr"] = "vultr"
    collected_at: AwareDatetime
    duration_seconds: Annotated[float, Field(ge=0, le=86_400)] | None = None
    cli_version: Text | None = None  # `vultr-cli version` on the reporting machine
    key_source: Text | None = None  # where the key came from, e.g. "VULTR_API_KEY"; never it
    error: ProviderError | None = None
    problems: list[ProviderError] = _items(100)
    account: Account | None = None
    bandwidth: AccountBandwidth | None = None
    regions: list[Region] = _items(1000)  # the regions the account's resources are in
    plans: list[Plan] = _items()  # plans offered in those regions, and every plan in use
    operating_systems: list[OperatingSystem] = _items(1000)  # the ones instances run
    instances: list[Instance] = _items()
    kubernetes_clusters: list[KubernetesCluster] = _items(1000)
    load_balancers: list[LoadBalancer] = _items(1000)
    startup_scripts: list[StartupScript] = _items(1000)
    blocks: list[BlockStorage] = _items(1000)

    @field_validator("instances")
    @classmethod
    def _unique_instances(cls, instances: list[Instance]) -> list[Instance]:
        seen: set[str] = set()
        for instance in instances:
            if instance.id in seen:
                raise ValueError(f"duplicate instance id {instance.id}")
            seen.add(instance.id)
        return instances

    def plan(self, plan_id: str) -> Plan | None:
        return next((p for p in self.plans if p.id == plan_id), None)

    def region(self, region_id: str) -> Region | None:
        return next((r for r in self.regions if r.id == region_id), None)

    def instance_of(self, server: str) -> Instance | None:
        """The instance matched to the configured server named ``server``."""
        return next((i for i in self.instances if i.server == server), None)

    @property
    def incomplete(self) -> bool:
        """The account could not be read, or some of it: the run is "partial" (exit 4)."""
        return self.error is not None or bool(self.problems)

    @property
    def monthly_total(self) -> float:
        """USD per month of the instances whose price is known."""
        return sum(i.monthly_cost or 0.0 for i in self.instances)


# The API's lists and the part of the snapshot each one fills.
LIST_FIELDS = {
    "/instances": "instances",
    "/plans": "plans",
    "/regions": "regions",
    "/os": "operating_systems",
    "/kubernetes/clusters": "kubernetes_clusters",
    "/load-balancers": "load_balancers",
    "/startup-scripts": "startup_scripts",
    "/blocks": "blocks",
}


def list_bound(path: str) -> int:
    """How many items of the API's list ``path`` the snapshot holds (the ``max_length``
    of its ``Provider`` field): the one bound the collector enforces while it pages, so
    a longer list is said as such, never a validation error of the whole snapshot."""
    field = Provider.model_fields[LIST_FIELDS[path]]
    return next(m.max_length for m in field.metadata if isinstance(m, MaxLen))


def canonical(provider: Provider) -> Provider:
    """Every list in a fixed order, so equal accounts serialise identically."""
    return provider.model_copy(
        update={
            "problems": sorted(provider.problems, key=lambda e: (e.endpoint or "", e.kind)),
            "regions": sorted(
                (
                    r.model_copy(
                        update={
                            "options": sorted(r.options),
                            "available_plans": (
                                None if r.available_plans is None else sorted(r.available_plans)
                            ),
                        }
                    )
                    for r in provider.regions
                ),
                key=lambda r: r.id,
            ),
            "plans": sorted(
                (p.model_copy(update={"locations": sorted(p.locations)}) for p in provider.plans),
                key=lambda p: p.id,
            ),
            "operating_systems": sorted(provider.operating_systems, key=lambda o: o.id),
            "instances": sorted(
                (
                    i.model_copy(update={"tags": sorted(i.tags), "features": sorted(i.features)})
                    for i in provider.instances
                ),
                key=lambda i: i.id,
            ),
            "kubernetes_clusters": sorted(
                (
                    c.model_copy(update={"node_pools": sorted(c.node_pools, key=lambda p: p.id)})
                    for c in provider.kubernetes_clusters
                ),
                key=lambda c: c.id,
            ),
            "load_balancers": sorted(
                (
                    lb.model_copy(update={"instances": sorted(lb.instances)})
                    for lb in provider.load_balancers
                ),
                key=lambda lb: lb.id,
            ),
            "startup_scripts": sorted(provider.startup_scripts, key=lambda s: s.id),
            "blocks": sorted(provider.blocks, key=lambda b: b.id),
        }
    )
