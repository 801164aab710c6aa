"""The provider view: what the report says about the Vultr account, as plain data.

``provider_view(snapshot, thresholds, history, headroom, peaks)`` joins each configured
server to its instance and plan and, from the highest use over the retained history
(``analysis/usage.py``: memory, load, the root disk), finds the smallest plan orderable
in the same region that leaves ``headroom`` percent free at that use. The renderer reads
the view; the provider rules (``analysis/rules/provider.py``) turn it into findings.
Korean only in ``reason`` and ``api.text``: what the report's reader sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from codeb_report.analysis.usage import Peak, peaks_over
from codeb_report.provider.model import LIST_FIELDS, Instance, Plan, Provider, list_bound
from codeb_report.snapshot import Server, Snapshot
from codeb_report.thresholds import Thresholds

MB = 2**20
GB = 2**30
DEFAULT_HEADROOM = 30.0
BACKUP_SHARE = 0.2  # Vultr automatic backups cost 20 % of the instance's price
DISK_HORIZON_DAYS = 30.0  # a root disk forecast full within this is a reason to scale up
# Fewer readings than a week of nights: a smaller plan is said, with how little it rests on.
SETTLED_SAMPLES = 7
DATA_ROLES = ("storage", "backup", "db", "database", "스토리지", "백업", "데이터")

Recommendation = Literal["downsize", "upsize", "keep", "unknown"]


def usd(amount: float) -> str:
    """``$80``, ``$12.50``: whole dollars without cents."""
    return f"${amount:,.0f}" if float(amount).is_integer() else f"${amount:,.2f}"


def usd_total(amounts: Sequence[float | None]) -> str:
    """A sum of prices that never passes an unknown price off as $0."""
    known = [a for a in amounts if a is not None]
    if not known:
        return "확인 불가 (가격 정보 없음)"
    missing = len(amounts) - len(known)
    total = usd(round(sum(known), 2))
    return f"{total} 이상 (가격 미확인 {missing}대 제외)" if missing else total


class PlanChoice(BaseModel):
    id: str
    vcpu_count: int
    ram_mb: int
    disk_gb: int
    monthly_cost: float

    @classmethod
    def of(cls, plan: Plan) -> PlanChoice:
        return cls(
            id=plan.id,
            vcpu_count=plan.vcpu_count,
            ram_mb=plan.ram,
            disk_gb=plan.disk,
            monthly_cost=plan.monthly_cost,
        )

    @property
    def spec(self) -> str:
        """``6 vCPU / 16GB / 320GB``"""
        ram = f"{self.ram_mb // 1024}GB" if self.ram_mb >= 1024 else f"{self.ram_mb}MB"
        return f"{self.vcpu_count} vCPU / {ram} / {self.disk_gb}GB"


class ServerCost(BaseModel):
    """One configured server: its instance, plan and price, and what the data recommends."""

    server: str
    role: str
    instance_id: str | None = None
    label: str | None = None
    region: str | None = None
    main_ip: str | None = None
    os_id: int | None = None
    os: str | None = None
    plan: PlanChoice | None = None
    monthly_cost: float | None = None
    auto_backups: bool = False
    backup_cost: float | None = None  # the 20 % for automatic backups, when on
    peak: Peak = Field(default_factory=Peak)  # the analysis' figures (analysis/usage.py)
    recommendation: Recommendation = "unknown"
    recommended: PlanChoice | None = None
    monthly_change: float | None = None  # recommended - current: negative is a saving
    reason: str = ""


class UnmatchedInstance(BaseModel):
    instance_id: str
    label: str
    region: str
    plan: str
    monthly_cost: float | None = None


class BandwidthProjection(BaseModel):
    """The account's month, GB: Vultr pools the instances' allowances."""

    used_gb: float | None = None  # so far this month (in + out)
    projected_gb: float | None = None
    allowance_gb: float | None = None
    overage_gb: float = 0.0
    overage_unit_cost: float | None = None
    overage_cost: float = 0.0

    @property
    def projected_percent(self) -> float | None:
        if self.projected_gb is None or not self.allowance_gb:
            return None
        return self.projected_gb * 100 / self.allowance_gb


class RegionOptions(BaseModel):
    id: str
    city: str | None = None
    country: str | None = None
    kubernetes: bool = False
    load_balancers: bool = False
    block_storage: bool = False


class ApiStatus(BaseModel):
    ok: bool
    kind: str | None = None  # Provider.error.kind
    message: str | None = None  # Provider.error.message (English, for the log)
    text: str  # Korean, for the report
    cli_version: str | None = None
    key_source: str | None = None
    problems: int = 0  # endpoints that failed while the rest was read
    problem_words: list[str] = Field(default_factory=list)  # "/blocks: API 서버 오류 (5xx)"


class ProviderView(BaseModel):
    servers: list[ServerCost] = Field(default_factory=list)
    unmatched: list[UnmatchedInstance] = Field(default_factory=list)
    fleet_monthly: float = 0.0  # every instance of the account with a known price
    matched_monthly: float = 0.0
    unmatched_monthly: float = 0.0
    backups_monthly: float = 0.0  # automatic backups of every instance that has them
    blocks_monthly: float = 0.0  # block storage volumes with a known price
    bandwidth: BandwidthProjection | None = None
    regions: list[RegionOptions] = Field(default_factory=list)
    api: ApiStatus
    headroom_percent: float = DEFAULT_HEADROOM
    history_snapshots: int = 1  # how many snapshots the peaks were taken over
    kubernetes_clusters: int = 0
    load_balancers: int = 0

    def server(self, name: str) -> ServerCost | None:
        return next((s for s in self.servers if s.server == name), None)

    def bill(self, prices: Sequence[float | None]) -> str:
        """``$304 (인스턴스 $280, 자동 백업 $24)``: the month of the account's
        ``prices`` (its instances'), automatic backups and block storage."""
        extras = [("자동 백업", self.backups_monthly), ("블록 스토리지", self.blocks_monthly)]
        extras = [(name, amount) for name, amount in extras if amount]
        if not extras:
            return usd_total(prices)
        parts = [f"인스턴스 {usd_total(prices)}"] + [f"{n} {usd(a)}" for n, a in extras]
        total = usd_total([*prices, *(round(a, 2) for _, a in extras)])
        return f"{total} ({', '.join(parts)})"

    @property
    def monthly_saving(self) -> float:
        """What the downsizing recommendations save per month, all together."""
        return -sum(s.monthly_change or 0.0 for s in self.servers if s.recommendation == "downsize")


# -- building it -----------------------------------------------------------------------


def provider_view(
    snapshot: Snapshot,
    thresholds: Thresholds | None = None,
    history: Sequence[Snapshot] = (),
    headroom: float | None = None,
    peaks: dict[str, Peak] | None = None,
) -> ProviderView | None:
    """None without a provider part (no ``[vultr]`` table). ``peaks``: the analysis'
    figures (default: read over ``history`` and ``snapshot``)."""
    provider = snapshot.provider
    if provider is None:
        return None
    thresholds = thresholds or Thresholds()
    headroom = DEFAULT_HEADROOM if headroom is None else headroom
    peaks = peaks if peaks is not None else peaks_over(snapshot, history)
    costs = [
        _server_cost(provider, server, peaks.get(server.name, Peak()), thresholds, headroom)
        for server in snapshot.servers
    ]
    bandwidth = _bandwidth(provider)
    _pooled_bandwidth(costs, provider, bandwidth)
    unmatched = [
        UnmatchedInstance(
            instance_id=i.id,
            label=i.label or i.hostname or i.id,
            region=i.region,
            plan=i.plan,
            monthly_cost=i.monthly_cost,
        )
        for i in provider.instances
        if i.server is None
    ]
    return ProviderView(
        servers=costs,
        unmatched=unmatched,
        fleet_monthly=provider.monthly_total,
        matched_monthly=sum(c.monthly_cost or 0.0 for c in costs),
        unmatched_monthly=sum(u.monthly_cost or 0.0 for u in unmatched),
        backups_monthly=sum(
            (i.monthly_cost or 0.0) * BACKUP_SHARE for i in provider.instances if i.auto_backups
        ),
        blocks_monthly=sum(b.cost or 0.0 for b in provider.blocks),
        bandwidth=bandwidth,
        regions=[_region_options(r) for r in provider.regions],
        api=api_status(provider),
        headroom_percent=headroom,
        history_snapshots=max((p.samples for p in peaks.values()), default=1),
        kubernetes_clusters=len(provider.kubernetes_clusters),
        load_balancers=len(provider.load_balancers),
    )


API_TEXT = {
    "no_key": "Vultr API 키 없음: 계정 정보를 읽지 못함",
    "unauthorized": "Vultr API 키 거부 (401): 키가 틀렸거나 폐기됨",
    "forbidden": "Vultr API 접근 거부 (403): 이 서버의 주소가 키의 허용 목록에 없음",
    "unreachable": "Vultr API 연결 실패",
    "timeout": "Vultr API 응답 시간 초과",
    "rate_limited": "Vultr API 요청 한도 초과 (429)",
    "server_error": "Vultr API 서버 오류 (5xx)",
    "bad_answer": "Vultr API 응답 형식 오류",
    "empty_instances": "Vultr API가 인스턴스를 하나도 돌려주지 않음 (키의 허용 주소 제한 의심)",
    "too_many": "Vultr API 목록이 리포트 한도를 넘음",
}


# What went wrong, in a few words: section 3's error line and the partly-read finding.
ERROR_WORDS = {
    "no_key": "API 키 없음",
    "unauthorized": "API 키 거부 (401)",
    "forbidden": "API 접근 거부 (403: 허용 IP 목록 확인)",
    "unreachable": "API 연결 실패",
    "timeout": "API 응답 시간 초과",
    "rate_limited": "API 요청 한도 초과 (429)",
    "server_error": "API 서버 오류 (5xx)",
    "bad_answer": "API 응답 형식 오류",
    "empty_instances": "인스턴스 목록이 비어 있음 (키의 허용 IP 제한 의심)",
    "too_many": "목록이 리포트 한도를 넘음",
}


def api_status(provider: Provider) -> ApiStatus:
    error = provider.error
    if error is None:
        text = "Vultr API 정상 조회"
        if provider.problems:
            text += f" (일부 항목 {len(provider.problems)}건 조회 실패)"
    elif error.kind == "too_many" and error.endpoint in LIST_FIELDS:
        bound = list_bound(error.endpoint)
        text = f"Vultr API {error.endpoint} 항목이 {bound:,}개를 넘음: 리포트 한도 초과로 싣지 않음"
    else:
        text = API_TEXT.get(error.kind, "Vultr API 조회 실패")
    return ApiStatus(
        ok=error is None,
        kind=error.kind if error else None,
        message=error.message if error else None,
        text=text,
        cli_version=provider.cli_version,
        key_source=provider.key_source,
        problems=len(provider.problems),
        problem_words=[
            f"{p.endpoint or 'Vultr API'}: {ERROR_WORDS.get(p.kind, p.kind)}"
            for p in provider.problems
        ],
    )


def _region_options(region) -> RegionOptions:
    return RegionOptions(
        id=region.id,
        city=region.city,
        country=region.country,
        kubernetes="kubernetes" in region.options,
        load_balancers="load_balancers" in region.options,
        block_storage=any(o.startswith("block_storage") for o in region.options),
    )


def _bandwidth(provider: Provider) -> BandwidthProjection | None:
    month = provider.bandwidth
    if month is None or month.current_month_projected is None:
        return None
    projected = month.current_month_projected
    so_far = month.current_month_to_date
    allowance = projected.allowance_gb
    total = _in_out(projected.gb_in, projected.gb_out)
    overage = projected.overage
    if overage is None and total is not None and allowance is not None:
        overage = max(0.0, total - allowance)
    cost = projected.overage_cost
    if cost is None and overage and projected.overage_unit_cost is not None:
        cost = overage * projected.overage_unit_cost
    return BandwidthProjection(
        used_gb=_in_out(so_far.gb_in, so_far.gb_out) if so_far else None,
        projected_gb=total,
        allowance_gb=allowance,
        overage_gb=overage or 0.0,
        overage_unit_cost=projected.overage_unit_cost,
        overage_cost=cost or 0.0,
    )


def _pooled_bandwidth(
    costs: list[ServerCost], provider: Provider, bandwidth: BandwidthProjection | None
) -> None:
    """Vultr pools the instances' monthly bandwidth: the recommended smaller plans bring a
    smaller allowance. Where this month's traffic would pass it, the saving says so."""
    if bandwidth is None or bandwidth.projected_gb is None or bandwidth.allowance_gb is None:
        return
    smaller = [c for c in costs if c.recommendation == "downsize" and c.plan and c.recommended]
    lost = 0.0
    for cost in smaller:
        now, then = provider.plan(cost.plan.id), provider.plan(cost.recommended.id)
        if now and then and now.bandwidth is not None and then.bandwidth is not None:
            lost += max(0.0, now.bandwidth - then.bandwidth)
    after = bandwidth.allowance_gb - lost
    if lost and bandwidth.projected_gb > after:
        note = (
            f" (주의: 권장대로 축소하면 대역폭 허용량 {max(after, 0):,.0f}GB"
            f" < 이번 달 예상 {bandwidth.projected_gb:,.0f}GB, 초과분 요금 발생)"
        )
        for cost in smaller:
            cost.reason += note


def _in_out(gb_in: float | None, gb_out: float | None) -> float | None:
    if gb_in is None and gb_out is None:
        return None
    return (gb_in or 0.0) + (gb_out or 0.0)


def _server_cost(
    provider: Provider, server: Server, peak: Peak, thresholds: Thresholds, headroom: float
) -> ServerCost:
    cost = ServerCost(server=server.name, role=server.role, peak=peak)
    instance = provider.instance_of(server.name)
    if instance is None:
        cost.reason = "Vultr 인스턴스와 연결되지 않음 (주소·라벨·호스트명 불일치)"
        return cost
    plan = provider.plan(instance.plan)
    cost.instance_id = instance.id
    cost.label = instance.label
    cost.region = instance.region
    cost.main_ip = instance.main_ip
    cost.os_id = instance.os_id
    cost.os = instance.os
    cost.monthly_cost = instance.monthly_cost
    cost.auto_backups = instance.auto_backups
    if instance.auto_backups and instance.monthly_cost is not None:
        cost.backup_cost = round(instance.monthly_cost * BACKUP_SHARE, 2)
    if plan is None:
        cost.reason = f"플랜 {instance.plan}의 사양·가격을 /plans에서 찾지 못함"
        return cost
    cost.plan = PlanChoice.of(plan)
    if peak.samples == 0:
        cost.reason = "사용량 데이터 없음 (서버 수집 실패)"
        return cost
    if peak.memory_bytes is None or peak.root_disk_bytes is None:
        # A plan sized on an unknown figure would be sized on nothing.
        cost.reason = "메모리 또는 루트 디스크 사용량이 없어 플랜을 판단하지 않음"
        return cost
    _recommend(cost, provider, instance, plan, thresholds, headroom)
    return cost


class Need(BaseModel):
    """What a plan must have to leave the headroom free at the peak."""

    vcpus: int
    ram_mb: float
    disk_gb: float

    def fits(self, plan: Plan) -> bool:
        return (
            plan.vcpu_count >= self.vcpus and plan.ram >= self.ram_mb and plan.disk >= self.disk_gb
        )


def need(peak: Peak, headroom: float, load_limit: float) -> Need:
    """At peak use, ``headroom`` percent stays free; load per vCPU stays under ``load_limit``."""
    keep = 1 - headroom / 100
    vcpus = math.ceil((peak.load5 or 0.0) / (load_limit * keep)) if load_limit > 0 else 1
    return Need(
        vcpus=max(1, vcpus),
        ram_mb=(peak.memory_bytes or 0) / MB / keep,
        disk_gb=(peak.root_disk_bytes or 0) / GB / keep,
    )


def orderable(provider: Provider, region: str, plan_type: str | None) -> list[Plan]:
    """Plans of the same family orderable in ``region`` now, cheapest first."""
    info = provider.region(region)
    available = set(info.available_plans) if info and info.available_plans is not None else None
    plans = [
        p
        for p in provider.plans
        if ((available is None and region in p.locations) or (available and p.id in available))
        and (plan_type is None or p.type == plan_type)
    ]
    return sorted(plans, key=lambda p: (p.monthly_cost, p.ram, p.vcpu_count, p.id))


def _pressure(peak: Peak, thresholds: Thresholds) -> list[str]:
    """Why the server needs more: use over the warning thresholds, or its root disk
    filling up (a bigger plan has a bigger root disk; a volume's does not grow with it)."""
    said = peak.pressure(thresholds)
    reasons = [f"최고 {', '.join(said)}"] if said else []
    days = peak.root_days_left
    if days is not None and days <= DISK_HORIZON_DAYS:
        reasons.append(f"디스크 {math.floor(days)}일 후 가득 참 (추세)")
    return reasons


def _recommend(
    cost: ServerCost,
    provider: Provider,
    instance: Instance,
    plan: Plan,
    thresholds: Thresholds,
    headroom: float,
) -> None:
    required = need(cost.peak, headroom, thresholds.load.warn_at)
    candidates = [p for p in orderable(provider, instance.region, plan.type) if required.fits(p)]
    pressure = _pressure(cost.peak, thresholds)
    over = f"{cost.peak.samples}회 수집 중 최고 {cost.peak.words()}"
    if pressure or not required.fits(plan):
        bigger = [p for p in candidates if p.monthly_cost > plan.monthly_cost] or [
            p for p in candidates if p.id != plan.id
        ]
        cost.recommendation = "upsize"
        if bigger:
            choice = bigger[0]
            cost.recommended = PlanChoice.of(choice)
            cost.monthly_change = round(choice.monthly_cost - plan.monthly_cost, 2)
            cost.reason = ", ".join(pressure) or over
        else:
            cost.reason = f"{', '.join(pressure) or over}, 이 리전에 더 큰 플랜 없음"
        return
    cheapest = candidates[0] if candidates else None
    if cheapest is not None and cheapest.monthly_cost < plan.monthly_cost:
        cost.recommendation = "downsize"
        cost.recommended = PlanChoice.of(cheapest)
        cost.monthly_change = round(cheapest.monthly_cost - plan.monthly_cost, 2)
        cost.reason = f"{over}: 여유 {headroom:g}%를 두고도 {cheapest.id}로 충분"
        if cost.peak.samples < SETTLED_SAMPLES:
            cost.reason += (
                f" (측정 {cost.peak.samples}회뿐: {SETTLED_SAMPLES}회 이상 쌓인 뒤 다시 확인)"
            )
        if cheapest.disk < plan.disk:
            cost.reason += " (디스크가 작아져 새 인스턴스로 이전 필요: Vultr는 디스크 축소 불가)"
        return
    cost.recommendation = "keep"
    cost.recommended = PlanChoice.of(plan)
    cost.monthly_change = 0.0
    cost.reason = f"{over}: 현재 플랜 적정"


def keeps_data(role: str) -> bool:
    """A role whose servers hold data that must survive the server (storage, backup, DB)."""
    lowered = role.lower()
    return any(word in lowered for word in DATA_ROLES)
