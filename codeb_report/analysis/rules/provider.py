"""Rules on the Vultr account (the provider view): the API itself, cost, size, backups,
bandwidth. They run only when the snapshot has a provider part (a ``[vultr]`` table)."""

from __future__ import annotations

from collections.abc import Iterator

from codeb_report.analysis.model import Level, Priority, code, text
from codeb_report.analysis.provider import ProviderView, keeps_data, usd, usd_total
from codeb_report.analysis.rules.base import FLEET, Hit, provider_rule
from codeb_report.snapshot import Snapshot
from codeb_report.thresholds import Thresholds

KEY_STEP = "Vultr API 키 설정 (`~/.vultr-cli.yaml`)"
BANDWIDTH_WARN_PERCENT = 80.0


@provider_rule("provider.api.no_key")
def api_no_key(view: ProviderView, _s: Snapshot, _t: Thresholds) -> Iterator[Hit]:
    """No API key in any documented place: the account's cost and plans are unknown."""
    if view.api.kind != "no_key":
        return
    yield Hit(
        priority=Priority.MEDIUM,
        server=FLEET,
        title="Vultr API 키 미설정",
        description=text("계정·비용·플랜 정보 없이 작성됨 (", code("VULTR_API_KEY"), " 없음)"),
        action="Vultr API 키 설정",
        step=KEY_STEP,
        summary="Vultr API 키 없음",
    )


REFUSED = {
    "unauthorized": ("Vultr API 키 거부 (401)", "키가 틀렸거나 폐기됨", "Vultr API 키 재발급"),
    "forbidden": (
        "Vultr API 접근 거부 (403)",
        "이 서버의 주소가 API 키의 허용 주소 목록에 없음",
        "Vultr API 키 허용 주소에 이 서버 추가",
    ),
}


@provider_rule("provider.api.refused")
def api_refused(view: ProviderView, _s: Snapshot, _t: Thresholds) -> Iterator[Hit]:
    """The API refused the key: 401 (wrong or revoked) or 403 (address not allowed)."""
    if view.api.kind not in REFUSED:
        return
    title, why, action = REFUSED[view.api.kind]
    yield Hit(
        priority=Priority.HIGH,
        server=FLEET,
        title=title,
        description=text(why, ": 계정·비용 정보 없음"),
        action=action,
        level=Level.CRIT,
        summary=title,
    )


@provider_rule("provider.api.empty_instances")
def api_empty(view: ProviderView, snapshot: Snapshot, _t: Thresholds) -> Iterator[Hit]:
    """The instance list came back empty while the configuration names servers: a key
    limited to other source addresses can answer this way, so it is not "no servers"."""
    if view.api.kind != "empty_instances":
        return
    yield Hit(
        priority=Priority.HIGH,
        server=FLEET,
        title="Vultr 인스턴스 목록 비어있음",
        description=text(
            f"설정된 서버 {len(snapshot.servers)}대, API가 돌려준 인스턴스 0개 "
            "(다른 계정의 키이거나 키의 허용 주소 제한 의심)"
        ),
        action="API 키의 계정과 허용 주소 확인",
        level=Level.CRIT,
        summary="Vultr 인스턴스 목록 비어있음",
    )


@provider_rule("provider.api.unavailable")
def api_unavailable(view: ProviderView, _s: Snapshot, _t: Thresholds) -> Iterator[Hit]:
    """The API could not be read for another reason (unreachable, timeout, 5xx, bad answer),
    or some of its endpoints failed while the rest was read."""
    if view.api.kind in (None, "no_key", "empty_instances", *REFUSED):
        if view.api.ok and view.api.problems:
            yield Hit(
                priority=Priority.LOW,
                server=FLEET,
                title="Vultr API 일부 조회 실패",
                description=text(f"{_listed(view.api.problem_words)} (run.log 참고)"),
                action="다음 실행에서 재확인",
            )
        return
    yield Hit(
        priority=Priority.MEDIUM,
        server=FLEET,
        title="Vultr API 조회 실패",
        description=text(view.api.text),
        action="네트워크와 Vultr 상태 확인",
        summary="Vultr API 조회 실패",
    )


@provider_rule("provider.cost.unmatched")
def cost_unmatched(view: ProviderView, _s: Snapshot, _t: Thresholds) -> Iterator[Hit]:
    """Instances no configured server matches: paid for every month, reported nowhere."""
    if not view.unmatched:
        return
    names = ", ".join(u.label for u in view.unmatched[:5])
    monthly = usd_total([u.monthly_cost for u in view.unmatched])
    more = f" 외 {len(view.unmatched) - 5}개" if len(view.unmatched) > 5 else ""
    yield Hit(
        priority=Priority.MEDIUM,
        server=FLEET,
        title="설정에 없는 인스턴스 비용",
        description=text(
            f"{len(view.unmatched)}개 인스턴스 월 {monthly}: ",
            code(names),
            more,
        ),
        action="사용 여부 확인 후 삭제 또는 설정에 추가",
        step=f"설정에 없는 Vultr 인스턴스 {len(view.unmatched)}개 정리 (월 {monthly})",
        summary=f"미확인 인스턴스 월 {monthly}",
    )


@provider_rule("provider.rightsize.down")
def rightsize_down(view: ProviderView, _s: Snapshot, _t: Thresholds) -> Iterator[Hit]:
    """A smaller plan orderable in the region leaves the headroom free at the highest use
    seen over the history: name both plans and the monthly saving."""
    for cost in view.servers:
        if cost.recommendation != "downsize" or cost.plan is None or cost.recommended is None:
            continue
        saving = -(cost.monthly_change or 0.0)
        yield Hit(
            priority=Priority.LOW,
            server=cost.server,
            title="플랜 축소 가능",
            description=text(
                code(cost.plan.id),
                f" ({usd(cost.plan.monthly_cost)}/월) → ",
                code(cost.recommended.id),
                f" ({usd(cost.recommended.monthly_cost)}/월), 월 {usd(saving)} 절감: {cost.reason}",
            ),
            action=f"{cost.recommended.id}로 축소 검토",
            summary=f"플랜 축소 시 월 {usd(saving)} 절감",
        )


@provider_rule("provider.rightsize.up")
def rightsize_up(view: ProviderView, _s: Snapshot, _t: Thresholds) -> Iterator[Hit]:
    """Use (or the root disk's trend) crosses the warning thresholds: scale up to the named
    plan and price, or out when the region has no bigger plan."""
    for cost in view.servers:
        if cost.recommendation != "upsize" or cost.plan is None:
            continue
        if cost.recommended is not None:
            extra = cost.monthly_change or 0.0
            target = text(
                " → ",
                code(cost.recommended.id),
                f" ({usd(cost.recommended.monthly_cost)}/월, +{usd(extra)})",
            )
            action = f"{cost.recommended.id}로 스케일 업 또는 스케일 아웃"
        else:
            target = text(" (더 큰 플랜 없음)")
            action = "스케일 아웃"
        yield Hit(
            priority=Priority.MEDIUM,
            server=cost.server,
            title="스케일 업/아웃 필요",
            description=text(
                code(cost.plan.id),
                f" ({usd(cost.plan.monthly_cost)}/월)",
                *target,
                f": {cost.reason}",
            ),
            action=action,
            summary="리소스 여유 부족",
        )


@provider_rule("provider.backup.missing")
def backup_missing(view: ProviderView, snapshot: Snapshot, _t: Thresholds) -> Iterator[Hit]:
    """A server whose role keeps data (storage, backup, DB) without Vultr automatic backups
    and without backup files of its own: losing the instance loses the data."""
    servers = {s.name: s for s in snapshot.servers}  # once: not a search per instance
    for cost in view.servers:
        server = servers.get(cost.server)
        if server is None or cost.instance_id is None or cost.auto_backups:
            continue
        if not keeps_data(cost.role):
            continue
        if any(b.exists and b.files > 0 for b in server.backups):
            continue
        price = f" (월 {usd(cost.monthly_cost * 0.2)} 추가)" if cost.monthly_cost else ""
        yield Hit(
            priority=Priority.MEDIUM,
            server=cost.server,
            title="Vultr 자동 백업 꺼짐",
            description=text(f"{cost.role} 서버에 자동 백업도 다른 백업 파일도 없음"),
            action=f"Vultr 자동 백업 켜기{price}",
            summary="Vultr 자동 백업 꺼짐",
        )


@provider_rule("provider.bandwidth.overage")
def bandwidth_overage(view: ProviderView, _s: Snapshot, _t: Thresholds) -> Iterator[Hit]:
    """This month's projected traffic against the account's pooled allowance: over it
    (with the overage cost), or past 80 % of it."""
    bw = view.bandwidth
    if bw is None or bw.projected_gb is None:
        return
    percent = bw.projected_percent
    allowance = f"{bw.allowance_gb:,.0f}GB" if bw.allowance_gb is not None else "미상"
    if bw.overage_gb > 0:
        yield Hit(
            priority=Priority.MEDIUM,
            server=FLEET,
            title="대역폭 초과 예상",
            description=text(
                f"이번 달 예상 {bw.projected_gb:,.0f}GB / 허용 {allowance}: "
                f"{bw.overage_gb:,.0f}GB 초과, 약 {usd(bw.overage_cost)} 추가 요금"
            ),
            action="트래픽 확인 또는 대역폭 추가 구매",
            summary=f"대역폭 초과 예상 ({usd(bw.overage_cost)})",
        )
    elif percent is not None and percent >= BANDWIDTH_WARN_PERCENT:
        yield Hit(
            priority=Priority.LOW,
            server=FLEET,
            title="대역폭 허용량 근접",
            description=text(
                f"이번 달 예상 {bw.projected_gb:,.0f}GB / 허용 {allowance} ({percent:.0f}%)"
            ),
            action="트래픽 추이 관찰",
        )


def _listed(words: list[str], limit: int = 5) -> str:
    more = f" 외 {len(words) - limit}개" if len(words) > limit else ""
    return ", ".join(words[:limit]) + more
