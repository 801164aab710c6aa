"""The provider rules and the provider view, each on a small hand-built account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from analysis_fleet import AT, GiB, fleet, plain, server

from codeb_report.analysis import Thresholds, analyse
from codeb_report.analysis.model import Finding
from codeb_report.analysis.provider import ProviderView, provider_view
from codeb_report.analysis.rules import RULES
from codeb_report.provider.model import (
    AccountBandwidth,
    BandwidthPeriod,
    Instance,
    Plan,
    Provider,
    ProviderError,
    Region,
)
from codeb_report.snapshot import BackupDir, Snapshot

PLANS = [
    Plan(
        id=pid,
        type=pid[:3],
        vcpu_count=cpu,
        ram=ram,
        disk=disk,
        monthly_cost=usd,
        locations=["icn"],
    )
    for pid, cpu, ram, disk, usd in [
        ("vc2-1c-1gb", 1, 1024, 25, 5),
        ("vc2-1c-2gb", 1, 2048, 55, 10),
        ("vc2-2c-4gb", 2, 4096, 80, 20),
        ("vc2-4c-8gb", 4, 8192, 160, 40),
        ("vc2-6c-16gb", 6, 16384, 320, 80),
        ("vhf-2c-4gb", 2, 4096, 128, 24),
    ]
]
ICN = Region(id="icn", city="Seoul", options=["kubernetes"], available_plans=[p.id for p in PLANS])


def instance(name: str | None, plan: str = "vc2-6c-16gb", **fields: Any) -> Instance:
    cost = next(p.monthly_cost for p in PLANS if p.id == plan)
    values = dict(
        id=f"id-{name or 'spare'}",
        label=name or "spare",
        region="icn",
        plan=plan,
        monthly_cost=cost,
        server=name,
        matched_by="label" if name else None,
    )
    return Instance(**{**values, **fields})


def account(*instances: Instance, **fields: Any) -> Provider:
    values = dict(collected_at=AT, regions=[ICN], plans=PLANS, instances=list(instances))
    return Provider(**{**values, **fields})


def with_provider(snapshot: Snapshot, provider: Provider) -> Snapshot:
    return snapshot.model_copy(update={"provider": provider})


def run(rule_id: str, snapshot: Snapshot, history: list[Snapshot] | None = None) -> list[Finding]:
    """The findings of one provider rule alone."""
    rule = next(r for r in RULES if r.id == rule_id)
    view = provider_view(snapshot, Thresholds(), history or [], 30.0)
    return [h.finding(rule.id) for h in rule.run(snapshot, Thresholds(), view)]


def view_of(snapshot: Snapshot, history: list[Snapshot] | None = None) -> ProviderView:
    view = provider_view(snapshot, Thresholds(), history or [], 30.0)
    assert view is not None
    return view


def test_no_provider_part_no_view_no_findings() -> None:
    snapshot = fleet(server("n1"))
    assert provider_view(snapshot) is None
    assert analyse(snapshot).provider is None
    assert not [f for f in analyse(snapshot).findings if f.rule.startswith("provider.")]


# -- the API ---------------------------------------------------------------------------


def test_no_key_asks_for_the_key_as_the_next_step() -> None:
    error = ProviderError(kind="no_key", message="no API key")
    snapshot = with_provider(fleet(server("n1")), Provider(collected_at=AT, error=error))
    [finding] = run("provider.api.no_key", snapshot)
    assert finding.title == "Vultr API 키 미설정"
    assert "Vultr API 키 설정 (`~/.vultr-cli.yaml`)" in analyse(snapshot).next_steps
    assert run("provider.api.refused", snapshot) == []


@pytest.mark.parametrize(
    ("kind", "status", "title", "why"),
    [
        ("unauthorized", 401, "Vultr API 키 거부 (401)", "키가 틀렸거나 폐기됨"),
        ("forbidden", 403, "Vultr API 접근 거부 (403)", "허용 주소 목록에 없음"),
    ],
)
def test_a_refused_key_says_which(kind: str, status: int, title: str, why: str) -> None:
    error = ProviderError(kind=kind, message=f"HTTP {status}", status=status)
    snapshot = with_provider(fleet(server("n1")), Provider(collected_at=AT, error=error))
    [finding] = run("provider.api.refused", snapshot)
    assert (finding.priority.value, finding.title) == ("High", title)
    assert why in plain(finding.description)
    assert run("provider.api.no_key", snapshot) == []


def test_an_empty_instance_list_for_a_configured_fleet() -> None:
    error = ProviderError(kind="empty_instances", message="none")
    snapshot = with_provider(
        fleet(server("n1"), server("n2")), Provider(collected_at=AT, error=error)
    )
    [finding] = run("provider.api.empty_instances", snapshot)
    assert "설정된 서버 2대" in plain(finding.description)


def test_unreachable_and_partly_read() -> None:
    down = ProviderError(kind="timeout", message="deadline")
    snapshot = with_provider(fleet(server("n1")), Provider(collected_at=AT, error=down))
    [finding] = run("provider.api.unavailable", snapshot)
    assert (finding.priority.value, plain(finding.description)) == (
        "Medium",
        "Vultr API 응답 시간 초과",
    )
    problem = ProviderError(kind="server_error", message="HTTP 500", endpoint="/blocks")
    partly = with_provider(fleet(server("n1")), account(instance("n1"), problems=[problem]))
    [finding] = run("provider.api.unavailable", partly)
    assert finding.priority.value == "Low"
    assert plain(finding.description) == "/blocks: API 서버 오류 (5xx) (run.log 참고)"
    skipped = ProviderError(kind="bad_answer", message="skipped 1 of 8 items", endpoint="/plans")
    both = with_provider(fleet(server("n1")), account(instance("n1"), problems=[problem, skipped]))
    [finding] = run("provider.api.unavailable", both)
    assert plain(finding.description) == (
        "/blocks: API 서버 오류 (5xx), /plans: API 응답 형식 오류 (run.log 참고)"
    )
    assert run("provider.api.unavailable", with_provider(fleet(server("n1")), account())) == []


# -- cost ------------------------------------------------------------------------------


def test_unmatched_instances_and_the_totals() -> None:
    snapshot = with_provider(
        fleet(server("n1")), account(instance("n1"), instance(None, "vc2-1c-1gb"))
    )
    view = view_of(snapshot)
    assert (view.fleet_monthly, view.matched_monthly, view.unmatched_monthly) == (85, 80, 5)
    cost = view.server("n1")
    assert (cost.plan.id, cost.monthly_cost, cost.region) == ("vc2-6c-16gb", 80, "icn")
    [finding] = run("provider.cost.unmatched", snapshot)
    assert plain(finding.description) == "1개 인스턴스 월 $5: `spare`"
    assert finding.step == "설정에 없는 Vultr 인스턴스 1개 정리 (월 $5)"
    only_matched = with_provider(fleet(server("n1")), account(instance("n1")))
    assert run("provider.cost.unmatched", only_matched) == []


def test_an_unknown_price_is_never_counted_as_zero_dollars() -> None:
    priced = instance(None, "vc2-1c-1gb", id="id-a", label="a")
    unpriced = instance(None, "vc2-1c-1gb", id="id-b", label="b", monthly_cost=None)
    snapshot = with_provider(fleet(server("n1")), account(instance("n1"), priced, unpriced))
    [finding] = run("provider.cost.unmatched", snapshot)
    assert plain(finding.description) == "2개 인스턴스 월 $5 이상 (가격 미확인 1대 제외): `a, b`"
    nothing_priced = with_provider(
        fleet(server("n1")), account(instance("n1"), instance(None, monthly_cost=None))
    )
    [finding] = run("provider.cost.unmatched", nothing_priced)
    assert finding.summary == "미확인 인스턴스 월 확인 불가 (가격 정보 없음)"


# -- right-sizing ----------------------------------------------------------------------


def test_a_mostly_idle_server_gets_a_smaller_plan_with_the_saving() -> None:
    # 16 GB plan, at most 2.5 GB used, load 0.3, 20 GB of disk: 2.5/0.7 = 3.6 GB -> 4 GB
    earlier = fleet(server("n1", mem_used=int(2.5 * GiB), load=(0.3, 0.3, 0.3)))
    earlier = earlier.model_copy(update={"collected_at": AT - timedelta(days=1)})
    today = server("n1", mem_used=1 * GiB, load=(0.1, 0.1, 0.1), disk_used=20 / 300)
    snapshot = with_provider(fleet(today), account(instance("n1")))
    cost = view_of(snapshot, [earlier]).server("n1")
    assert (cost.recommendation, cost.recommended.id, cost.monthly_change) == (
        "downsize",
        "vc2-2c-4gb",
        -60,
    )
    assert cost.peak.memory_percent == pytest.approx(2.5 * 100 / 16, abs=0.1)  # the peak
    [finding] = run("provider.rightsize.down", snapshot, [earlier])
    assert plain(finding.description).startswith(
        "`vc2-6c-16gb` ($80/월) → `vc2-2c-4gb` ($20/월), 월 $60 절감: 2회 수집 중 최고 메모리 16%"
    )
    assert "디스크 축소 불가" in finding.description[-1].text  # 320 GB -> 80 GB
    # without the earlier peak, today's 1 GB fits the 2 GB plan
    assert view_of(snapshot).server("n1").recommended.id == "vc2-1c-2gb"


def test_headroom_and_the_same_family_decide() -> None:
    # 2.9 GB used: 2.9 / 0.7 = 4.1 GB needs the 8 GB plan; the vhf plan is another family
    snapshot = with_provider(
        fleet(server("n1", mem_used=int(2.9 * GiB), disk_used=0.05)), account(instance("n1"))
    )
    assert view_of(snapshot).server("n1").recommended.id == "vc2-4c-8gb"
    loose = provider_view(snapshot, Thresholds(), [], headroom=0.0)
    assert loose.server("n1").recommended.id == "vc2-2c-4gb"


def test_only_plans_orderable_in_the_region() -> None:
    region = ICN.model_copy(update={"available_plans": ["vc2-4c-8gb", "vc2-6c-16gb"]})
    snapshot = with_provider(
        fleet(server("n1", mem_used=1 * GiB, disk_used=0.05)),
        account(instance("n1"), regions=[region]),
    )
    assert view_of(snapshot).server("n1").recommended.id == "vc2-4c-8gb"


def test_a_busy_server_is_told_to_scale_up_with_plan_and_price() -> None:
    busy = server("n1", mem_total=4 * GiB, mem_used=int(3.5 * GiB), cpus=2, disk_used=0.05)
    snapshot = with_provider(fleet(busy), account(instance("n1", "vc2-2c-4gb")))
    [finding] = run("provider.rightsize.up", snapshot)
    assert plain(finding.description) == (
        "`vc2-2c-4gb` ($20/월) → `vc2-4c-8gb` ($40/월, +$20): 최고 메모리 88%"
    )  # 3.5 GB / 0.7 = 5 GB: the 8 GB plan
    assert finding.action == "vc2-4c-8gb로 스케일 업 또는 스케일 아웃"
    assert run("provider.rightsize.down", snapshot) == []


def test_a_disk_filling_by_trend_is_a_reason_to_scale_up() -> None:
    history = []
    for day, share in enumerate([0.30, 0.40, 0.50, 0.60]):
        one = fleet(server("n1", disk_used=share, mem_used=1 * GiB))
        history.append(one.model_copy(update={"collected_at": AT - timedelta(days=4 - day)}))
    today = server("n1", disk_used=0.70, mem_used=1 * GiB)
    snapshot = with_provider(fleet(today), account(instance("n1")))
    cost = view_of(snapshot, history).server("n1")
    assert cost.recommendation == "upsize"
    assert "일 후 가득 참 (추세)" in cost.reason
    assert cost.peak.disk_percent < 80  # under the threshold today: the trend decided


def test_a_server_without_an_instance_or_figures_gets_no_recommendation() -> None:
    down = server("n2").model_copy(
        update={"reachable": False, "memory": None, "system": None, "filesystems": []}
    )
    snapshot = with_provider(fleet(server("n1"), down), account(instance("n2")))
    view = view_of(snapshot)
    assert (
        view.server("n1").recommendation == "unknown"
        and "연결되지 않음" in view.server("n1").reason
    )
    assert (
        view.server("n2").recommendation == "unknown"
        and "사용량 데이터 없음" in view.server("n2").reason
    )
    assert run("provider.rightsize.down", snapshot) == run("provider.rightsize.up", snapshot) == []


# -- backups ---------------------------------------------------------------------------


def test_a_data_server_without_any_backup() -> None:
    storage = server("n3", role="Storage (DB)")
    snapshot = with_provider(fleet(storage), account(instance("n3", "vc2-4c-8gb")))
    [finding] = run("provider.backup.missing", snapshot)
    assert finding.action == "Vultr 자동 백업 켜기 (월 $8 추가)"
    backed = instance("n3", "vc2-4c-8gb", features=["auto_backups"])
    assert run("provider.backup.missing", with_provider(fleet(storage), account(backed))) == []
    files = storage.model_copy(
        update={"backups": [BackupDir(path="/backups", exists=True, files=3)]}
    )
    assert (
        run("provider.backup.missing", with_provider(fleet(files), account(instance("n3")))) == []
    )
    app = with_provider(fleet(server("n1")), account(instance("n1")))
    assert run("provider.backup.missing", app) == []


# -- bandwidth -------------------------------------------------------------------------


def month(
    gb_out: float, overage: float | None = None, cost: float | None = None
) -> AccountBandwidth:
    period = BandwidthPeriod(
        gb_in=10, gb_out=gb_out, instance_bandwidth_credits=1000, free_bandwidth_credits=0,
        overage=overage, overage_unit_cost=0.01, overage_cost=cost,
    )  # fmt: skip
    return AccountBandwidth(current_month_projected=period, current_month_to_date=period)


@pytest.mark.parametrize(
    ("bandwidth", "expected"),
    [
        (
            month(1490, 500, 5.0),
            ("Medium", "이번 달 예상 1,500GB / 허용 1,000GB: 500GB 초과, 약 $5 추가 요금"),
        ),
        (
            month(1490),
            ("Medium", "이번 달 예상 1,500GB / 허용 1,000GB: 500GB 초과, 약 $5 추가 요금"),
        ),
        (month(840, 0, 0), ("Low", "이번 달 예상 850GB / 허용 1,000GB (85%)")),
        (month(100, 0, 0), None),
    ],
)
def test_bandwidth_projection(
    bandwidth: AccountBandwidth, expected: tuple[str, str] | None
) -> None:
    snapshot = with_provider(fleet(server("n1")), account(instance("n1"), bandwidth=bandwidth))
    found = run("provider.bandwidth.overage", snapshot)
    got = [(f.priority.value, plain(f.description)) for f in found]
    assert got == ([expected] if expected else [])


def test_the_view_lists_region_options_and_the_api_status() -> None:
    snapshot = with_provider(
        fleet(server("n1")), account(instance("n1"), cli_version="Vultr-CLI v3.8.0")
    )
    view = analyse(snapshot).provider
    assert [(r.id, r.kubernetes, r.load_balancers) for r in view.regions] == [("icn", True, False)]
    assert (view.api.ok, view.api.text, view.api.cli_version) == (
        True,
        "Vultr API 정상 조회",
        "Vultr-CLI v3.8.0",
    )


def test_a_night_the_api_failed_does_not_resolve_provider_findings() -> None:
    from codeb_report.history.evidence import observed, unseen_reason

    good = with_provider(fleet(server("n1")), account(instance("n1")))
    failed = with_provider(
        fleet(server("n1")),
        Provider(collected_at=AT, error=ProviderError(kind="timeout", message="deadline")),
    )
    assert unseen_reason("provider.rightsize.down", "n1", good, failed) == (
        "현재 스냅샷에서 Vultr API 조회 실패"
    )
    assert not observed("provider.cost.unmatched", "전체", failed)
    assert observed("provider.api.unavailable", "전체", failed)
    assert unseen_reason("provider.cost.unmatched", "전체", good, fleet(server("n1"))) == (
        "현재 스냅샷에 Vultr 계정 정보 없음"
    )
    assert unseen_reason("provider.cost.unmatched", "전체", good, good) is None


def test_a_saving_read_from_a_few_nights_says_so() -> None:
    """One reading of memory and load is no basis to shrink a server on: the finding
    says how few there were until a week of nights is in."""
    snapshot = with_provider(fleet(server("n1")), account(instance("n1")))
    [finding] = run("provider.rightsize.down", snapshot)
    assert "측정 1회뿐: 7회 이상 쌓인 뒤 다시 확인" in plain(finding.description)
    week = []
    for day in range(6):
        one = fleet(server("n1")).model_copy(update={"collected_at": AT - timedelta(days=6 - day)})
        week.append(one)
    [finding] = run("provider.rightsize.down", snapshot, week)
    assert "7회 수집 중 최고" in plain(finding.description)
    assert "쌓인 뒤" not in plain(finding.description)


def test_a_saving_that_would_overrun_the_pooled_bandwidth_says_so() -> None:
    """Vultr pools the instances' bandwidth: a smaller plan brings a smaller allowance,
    and a month's traffic past it is billed. The downsizing finding says when."""
    allowances = {"vc2-6c-16gb": 900.0, "vc2-1c-2gb": 200.0}  # GB a month
    plans = [p.model_copy(update={"bandwidth": allowances.get(p.id, 500.0)}) for p in PLANS]
    busy_month = month(840, 0, 0)  # 850 GB of the 1,000 GB the account has
    snapshot = with_provider(
        fleet(server("n1")), account(instance("n1"), plans=plans, bandwidth=busy_month)
    )
    [finding] = run("provider.rightsize.down", snapshot)
    assert "vc2-1c-2gb" in plain(finding.description)
    assert "축소하면 대역폭 허용량 300GB < 이번 달 예상 850GB" in plain(finding.description)
    quiet = with_provider(
        fleet(server("n1")), account(instance("n1"), plans=plans, bandwidth=month(100, 0, 0))
    )
    [finding] = run("provider.rightsize.down", quiet)
    assert "대역폭" not in plain(finding.description)
