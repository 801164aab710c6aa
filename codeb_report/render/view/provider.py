"""Sections 3 and 4 (the Vultr account's scaling options, the recommended strategy) and the
scaling part of section 6, from the snapshot's provider part, the Caddy probe and the
measured use. Nothing here is fixed prose about this fleet: every value comes from data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codeb_report.analysis.model import Analysis
from codeb_report.analysis.provider import ERROR_WORDS, ProviderView, usd
from codeb_report.analysis.usage import Peak, combined
from codeb_report.provider.model import Instance, KubernetesCluster, NodePool, Provider, Region
from codeb_report.render import scale_out, vultr_cli
from codeb_report.render.escape import one_line
from codeb_report.render.view import architecture
from codeb_report.render.view.architecture import Box, ascii_label
from codeb_report.snapshot import ProxyRoute, ReverseProxy, Server, Snapshot
from codeb_report.thresholds import Thresholds

NEW_INSTANCE = "<NEW_INSTANCE_ID>"
CLUSTER = "<CLUSTER_ID>"
K8S_VERSION = "<KUBERNETES_VERSION>"
# Processes that are reverse proxies codeb-report does not read yet (said in section 4).
OTHER_PROXIES = ("nginx", "traefik", "haproxy", "apache2", "httpd", "envoy")
MAX_OTHERS = 8  # servers drawn beside the proxy's tree
APP_ROLE = re.compile(r"\bapp", re.I)


@dataclass(frozen=True)
class Block:
    """A commented command of a code block: ``# comment`` then the command."""

    comment: str
    command: str

    @property
    def text(self) -> str:
        # One line: a newline in a name from the API would start a command of its own
        # in a block an operator copies into a shell.
        return f"# {one_line(self.comment)}\n{self.command}"


@dataclass(frozen=True)
class PoolRow:
    cluster: str
    version: str
    pool: str
    plan: str
    nodes: str
    autoscaler: str


@dataclass(frozen=True)
class BalancerRow:
    label: str
    status: str
    rules: str
    health: str
    instances: str


@dataclass
class ScalingView:
    """Everything sections 3, 4 and 6 print about scaling."""

    cli_version: str  # the header's "Vultr CLI 버전"
    state: str = "missing"  # "ok", "missing" (no [vultr]) or "error"
    problem: str | None = None
    summary: str | None = None  # 계정 요약: instances, clusters, load balancers
    bill: str | None = None  # 월 요금 and the account's pending charges and balance
    region: str | None = None  # "icn (Seoul)"
    region_options: list[tuple[str, str]] = field(default_factory=list)
    app_servers: list[str] = field(default_factory=list)
    app_ports: list[int] = field(default_factory=list)
    plan: str | None = None
    plan_words: str | None = None  # "vc2-2c-4gb (2 vCPU, 4GB, 80GB, 월 $20)"
    os_words: str | None = None  # "1743 (Ubuntu 22.04 LTS x64)"
    script_words: str | None = None
    instance_blocks: list[Block] = field(default_factory=list)
    instance_traits: list[str] = field(default_factory=list)
    pools: list[PoolRow] = field(default_factory=list)
    k8s_blocks: list[Block] = field(default_factory=list)
    k8s_traits: list[str] = field(default_factory=list)
    balancers: list[BalancerRow] = field(default_factory=list)
    lb_blocks: list[Block] = field(default_factory=list)
    lb_traits: list[str] = field(default_factory=list)
    architecture: list[str] = field(default_factory=list)
    architecture_notes: list[str] = field(default_factory=list)
    script: str | None = None  # scale-out.sh
    option_a_pros: list[str] = field(default_factory=list)
    option_a_cons: list[str] = field(default_factory=list)
    option_b_blocks: list[Block] = field(default_factory=list)
    option_b_pros: list[str] = field(default_factory=list)
    option_b_cons: list[str] = field(default_factory=list)
    choice: str = ""
    scaling: list[tuple[str, str, str]] = field(default_factory=list)  # (단기, 현재, text)
    next_steps: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Fleet:
    """What the sections reason over, gathered once."""

    snapshot: Snapshot
    provider: Provider | None
    proxy_server: Server | None
    proxy: ReverseProxy | None
    apps: list[Server]
    ports: list[int]
    usage: Peak  # the app servers' highest use, as the analysis read it
    thresholds: Thresholds


def build(
    snapshot: Snapshot, analysis: Analysis, thresholds: Thresholds | None = None
) -> ScalingView:
    """From the analysis: the app servers' highest use (``analysis.peaks``) and the plan
    right-sizing recommends for them; nothing here measures the use again."""
    thresholds = thresholds or Thresholds()
    proxy_server = next((s for s in snapshot.servers if s.proxy is not None), None)
    proxy = proxy_server.proxy if proxy_server else None
    apps = _app_servers(snapshot, proxy_server)
    fleet = _Fleet(
        snapshot,
        snapshot.provider,
        proxy_server,
        proxy,
        apps,
        _app_ports(proxy),
        combined(analysis.peaks.get(s.name, Peak()) for s in apps),
        thresholds,
    )
    view = ScalingView(cli_version=_cli_version(snapshot.provider))
    view.app_servers = [s.name for s in apps]
    view.app_ports = fleet.ports
    view.architecture, view.architecture_notes = _architecture(fleet)
    provider = snapshot.provider
    if provider is None:
        view.state = "missing"
    elif provider.error is not None:
        view.state = "error"
        view.problem = _problem(provider)
    else:
        view.state = "ok"
        _account(view, fleet, provider, recommended_plans(analysis))
        if analysis.provider is not None:
            view.bill = _bill(analysis.provider, provider)
    view.choice = _choice(fleet)
    view.scaling = _scaling(fleet)
    view.next_steps = _next_steps(view, fleet)
    return view


def recommended_plans(analysis: Analysis) -> dict[str, str]:
    """Server name -> the plan the analysis' right-sizing recommends (none without one)."""
    if analysis.provider is None:
        return {}
    return {s.server: s.recommended.id for s in analysis.provider.servers if s.recommended}


def _cli_version(provider: Provider | None) -> str:
    if provider is None:
        return "확인 안 함 (`[vultr]` 설정 없음)"
    if not provider.cli_version:
        return "vultr-cli 미설치 (Vultr API 직접 조회)"
    # `vultr-cli version` prints "Vultr-CLI v3.8.0"; the header gives the version.
    found = re.search(r"\bv\d+(\.\d+)+\S*", provider.cli_version)
    return found.group() if found else provider.cli_version


def _problem(provider: Provider) -> str:
    error = provider.error
    assert error is not None
    words = ERROR_WORDS.get(error.kind, error.kind)
    where = f" ({error.endpoint})" if error.endpoint else ""
    return f"{words}{where}"


# --- which servers are the app -------------------------------------------------------


def _upstream_host(dial: str) -> tuple[str, int | None]:
    host, _, port = dial.rpartition(":")
    if not host:
        return dial, None
    return host.strip("[]"), int(port) if port.isdigit() else None


LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}


def _server_of(host: str, snapshot: Snapshot, proxy_server: Server | None) -> Server | None:
    if host in LOCAL:
        return proxy_server
    return next((s for s in snapshot.servers if host in (s.address, s.host, s.name)), None)


def _app_servers(snapshot: Snapshot, proxy_server: Server | None) -> list[Server]:
    """The servers the proxy sends requests to; else the servers whose role says app."""
    found: dict[str, Server] = {}
    if proxy_server is not None and proxy_server.proxy is not None:
        for route in proxy_server.proxy.routes:
            for dial in route.upstreams:
                server = _server_of(_upstream_host(dial)[0], snapshot, proxy_server)
                if server is not None:
                    found.setdefault(server.name, server)
    if not found:
        found = {s.name: s for s in snapshot.servers if APP_ROLE.search(s.role)}
    return list(found.values())


def _app_ports(proxy: ReverseProxy | None) -> list[int]:
    ports = []
    for route in proxy.routes if proxy else []:
        for dial in route.upstreams:
            port = _upstream_host(dial)[1]
            if port is not None and port not in ports:
                ports.append(port)
    return ports


# --- section 4: the architecture -----------------------------------------------------


def _role_box(server: Server) -> str:
    role = re.sub(r"\s*server$", "", server.role.strip(), flags=re.I)
    return ascii_label(f"{role} ({server.name})", server.name)


def _architecture(fleet: _Fleet) -> tuple[list[str], list[str]]:
    notes = _other_proxies(fleet.snapshot)
    lines: list[str] = []
    shown: set[str] = set()
    if fleet.proxy is not None and fleet.proxy_server is not None:
        top = Box(ascii_label(f"Caddy ({fleet.proxy_server.name})", "Caddy"), "Reverse Proxy")
        boxes = []
        for route in fleet.proxy.routes:
            boxes += [_upstream_box(dial, fleet) for dial in route.upstreams]
        boxes = list(dict.fromkeys(boxes))
        if boxes:
            lines = architecture.proxy_tree(top, boxes)
        shown.add(fleet.proxy_server.name)
        shown.update(s.name for s in fleet.apps)
        if fleet.proxy.source == "caddyfile":
            notes.append(
                f"Caddy 관리 API를 읽지 못해 Caddyfile(`{fleet.proxy.origin}`)로 그렸습니다"
                f" ({fleet.proxy.admin_error or '이유 없음'})."
            )
        if any(r.dynamic for r in fleet.proxy.routes):
            notes.append("동적 업스트림(dynamic_upstreams)은 실행 중에만 정해져 그리지 않았습니다.")
    else:
        notes.append(
            "리버스 프록시 정보 없음: 역할 설정에 `[roles.NAME.caddy]`를 두면 Caddy 관리 API에서"
            " 라우팅을 읽어 그립니다."
        )
    others = [
        Box(_role_box(s), ascii_label(s.address or s.host, s.name))
        for s in fleet.snapshot.servers
        if s.name not in shown
    ]
    if len(others) > MAX_OTHERS:  # a large fleet: the drawing stays a drawing
        others = [
            *others[: MAX_OTHERS - 1],
            Box(f"+{len(others) - MAX_OTHERS + 1} more", "servers"),
        ]
    if others:
        lines += ([""] if lines else []) + architecture.server_rows(others)
    return lines, notes


def _upstream_box(dial: str, fleet: _Fleet) -> Box:
    host, port = _upstream_host(dial)
    server = _server_of(host, fleet.snapshot, fleet.proxy_server)
    title = f"App ({server.name})" if server else ascii_label(host, "upstream")
    return Box(ascii_label(title, "App"), f"Port {port}" if port else ascii_label(dial, "?"))


def _other_proxies(snapshot: Snapshot) -> list[str]:
    notes = []
    for server in snapshot.servers:
        found = sorted(
            {p.process for p in server.ports if p.process in OTHER_PROXIES}
            | {u.unit.removesuffix(".service") for u in server.services if u.active == "active"}
            & set(OTHER_PROXIES)
        )
        for name in found:
            notes.append(
                f"{server.name}에서 {name} 감지: {name} 설정 분석은 이후 단계에서 지원 예정"
                " (현재는 Caddy만 읽음)."
            )
    return notes


# --- section 3: the account ----------------------------------------------------------


def _account(
    view: ScalingView, fleet: _Fleet, provider: Provider, recommended: dict[str, str]
) -> None:
    instances = [provider.instance_of(s.name) for s in fleet.apps]
    apps = [i for i in instances if i is not None]
    region_id = apps[0].region if apps else _main_region(provider)
    region = provider.region(region_id) if region_id else None
    view.region = f"{region_id} ({region.city})" if region and region.city else region_id
    view.region_options = [
        ("Kubernetes", _option(region, "kubernetes")),
        ("Load Balancer", _option(region, "load_balancers")),
    ]
    view.summary = _summary(provider)
    plan = _plan(fleet, apps, recommended)
    view.plan = plan
    view.plan_words = _plan_words(provider, plan)
    os_id, os_name = (apps[0].os_id, apps[0].os) if apps else (None, None)
    view.os_words = f"{os_id} ({os_name})" if os_id is not None else None
    script = provider.startup_scripts[0] if provider.startup_scripts else None
    view.script_words = f"{script.name} ({script.id})" if script else None
    if region_id and plan and os_id is not None:
        label = f"{_label_prefix(fleet, apps)}-{len(fleet.apps) + 1}"
        _instance_section(view, fleet, region_id, plan, os_id, label, script.id if script else None)
        _kubernetes_section(view, fleet, provider, region_id, plan, region)
        _balancer_section(view, fleet, provider, region_id, apps, region)
        values = _script_values(fleet, provider, region_id, plan, os_id, os_name, label)
        view.script = scale_out.script(values)
        _options(view, fleet, provider, plan, region)


def _script_values(
    fleet: _Fleet,
    provider: Provider,
    region: str,
    plan: str,
    os_id: int,
    os_name: str | None,
    label: str,
) -> scale_out.Values:
    proxy, host = fleet.proxy, fleet.proxy_server
    balancer = provider.load_balancers[0] if provider.load_balancers else None
    script = provider.startup_scripts[0] if provider.startup_scripts else None
    return scale_out.Values(
        region=region,
        plan=plan,
        os_id=os_id,
        os_name=os_name or "",
        script_id=script.id if script else None,
        label_prefix=label.rsplit("-", 1)[0],
        ports=fleet.ports,
        proxy_host=(host.address or host.host) if host else None,
        proxy_name=host.name if host else None,
        admin_url=proxy.origin if proxy and proxy.source == "admin" else None,
        handler=_handler(proxy),
        balancer=balancer.id if balancer else None,
        attached=balancer.instances if balancer else [],
        date=fleet.snapshot.collected_at.date().isoformat(),
    )


def _main_region(provider: Provider) -> str | None:
    regions = [i.region for i in provider.instances]
    return max(set(regions), key=regions.count) if regions else None


def _option(region: Region | None, name: str) -> str:
    if region is None:
        return "❔ 확인 불가"
    return "✅ 사용 가능" if name in region.options else "❌ 미지원"


def _summary(provider: Provider) -> str:
    matched = sum(1 for i in provider.instances if i.server)
    parts = [f"인스턴스 {len(provider.instances)}대 (설정된 서버와 일치 {matched}대)"]
    parts.append(f"Kubernetes 클러스터 {len(provider.kubernetes_clusters)}개")
    parts.append(f"Load Balancer {len(provider.load_balancers)}개")
    return ", ".join(parts)


def _bill(view: ProviderView, provider: Provider) -> str:
    """What the account costs a month, then what the account itself says it owes."""
    parts = [view.bill([i.monthly_cost for i in provider.instances])]
    account = provider.account
    if account is not None and account.pending_charges is not None:
        parts.append(f"이번 달 누적 사용 요금 {usd(account.pending_charges)} (미청구)")
    if account is not None and account.balance:
        # Vultr writes credit as a negative balance.
        owed = account.balance > 0
        parts.append(f"{'미납 잔액' if owed else '크레딧 잔액'} {usd(abs(account.balance))}")
    return ", ".join(parts)


def _plan(fleet: _Fleet, apps: list[Instance], recommended: dict[str, str]) -> str | None:
    for server in fleet.apps:
        if server.name in recommended:
            return recommended[server.name]
    return apps[0].plan if apps else None


def _plan_words(provider: Provider, plan_id: str | None) -> str | None:
    plan = provider.plan(plan_id) if plan_id else None
    if plan is None:
        return plan_id
    ram = plan.ram / 1024
    ram_text = f"{ram:g}GB" if ram >= 1 else f"{plan.ram}MB"
    price = usd(plan.monthly_cost)
    return f"{plan.id} ({plan.vcpu_count} vCPU, {ram_text}, {plan.disk}GB, 월 {price})"


def _label_prefix(fleet: _Fleet, apps: list[Instance]) -> str:
    first = fleet.apps[0].name if fleet.apps else "app"
    base = apps[0].label if apps and apps[0].label else first
    clean = re.sub(r"[^A-Za-z0-9-]+", "-", base).strip("-")[:40]
    return clean or "app"


def _handler(proxy: ReverseProxy | None) -> str | None:
    routes: list[ProxyRoute] = [r for r in (proxy.routes if proxy else []) if r.handler]
    return routes[0].handler if routes else None


def _instance_section(
    view: ScalingView,
    fleet: _Fleet,
    region: str,
    plan: str,
    os_id: int,
    label: str,
    script: str | None,
) -> None:
    create = vultr_cli.instance_create(region, plan, os_id, label, script)
    view.instance_blocks = [
        Block(f"수동 인스턴스 생성 (App 서버와 같은 OS {view.os_words})", create.wrapped()),
        Block(
            "생성 직후 main_ip는 0.0.0.0: status가 active가 될 때까지 확인",
            vultr_cli.instance_get(NEW_INSTANCE).line(),
        ),
        Block("인스턴스 삭제", vultr_cli.instance_delete(NEW_INSTANCE).line()),
    ]
    view.instance_traits = [
        "수동 프로비저닝 (현재 App 서버: "
        + ", ".join(f"{s.name}" for s in fleet.apps)
        + f", 권장 플랜 {view.plan_words})",
        "스크립트로 자동화 가능: 이 리포트와 함께 `scale-out.sh` 생성 (4장 Option A)",
        f"초기 설정: Startup Script {view.script_words} 사용"
        if script
        else "초기 설정 필요 (Startup Script): 계정에 등록된 Startup Script 없음",
    ]


def _kubernetes_section(
    view: ScalingView,
    fleet: _Fleet,
    provider: Provider,
    region: str,
    plan: str,
    region_info: Region | None,
) -> None:
    low, high = _node_range(fleet)
    pool = vultr_cli.Pool("app-workers", plan, low, low, high)
    for cluster in provider.kubernetes_clusters:
        for p in cluster.node_pools or [None]:
            view.pools.append(_pool_row(cluster, p))
            if p is not None and not p.auto_scaler:
                view.k8s_blocks.append(
                    Block(
                        f"{cluster.label or cluster.id} / {p.label or p.id}: 오토스케일러 켜기",
                        vultr_cli.node_pool_autoscale(cluster.id, p.id, low, high).wrapped(),
                    )
                )
    if not provider.kubernetes_clusters:
        view.k8s_blocks = [
            Block("사용 가능한 Kubernetes 버전 확인", vultr_cli.kubernetes_versions().line()),
            Block(
                "클러스터가 없으므로 먼저 생성 (오토스케일링 노드 풀 포함)",
                vultr_cli.kubernetes_create("codeb-cluster", region, K8S_VERSION, [pool]).wrapped(),
            ),
            Block(
                "클러스터 생성 후 오토스케일링 노드 풀 추가",
                vultr_cli.node_pool_create(CLUSTER, pool).wrapped(),
            ),
        ]
    available = _option(region_info, "kubernetes")
    view.k8s_traits = [
        "✅ `--auto-scaler` 스위치로 자동 스케일링 (노드 풀 생성·수정 시)",
        f"✅ `--min-nodes`, `--max-nodes`로 범위 설정 (권장 {low}-{high}대:"
        f" 현재 App 서버 {len(fleet.apps)}대 기준)",
        "부하 기반 자동 노드 추가/제거",
        f"{region} 리전 Kubernetes: {available}",
        "Kubernetes 클러스터 필요: 계정에 클러스터 없음"
        if not provider.kubernetes_clusters
        else f"계정의 클러스터 {len(provider.kubernetes_clusters)}개 (위 표)",
    ]


def _node_range(fleet: _Fleet) -> tuple[int, int]:
    low = max(2, len(fleet.apps))
    return low, low * 5


def _pool_row(cluster: KubernetesCluster, pool: NodePool | None) -> PoolRow:
    label, version = cluster.label or cluster.id, cluster.version or "-"
    if pool is None:
        return PoolRow(label, version, "노드 풀 없음", "-", "-", "-")
    scaler = f"✅ {pool.min_nodes}-{pool.max_nodes}대" if pool.auto_scaler else "❌ 꺼짐"
    nodes = pool.node_quantity if pool.node_quantity is not None else len(pool.nodes)
    return PoolRow(label, version, pool.label or pool.id, pool.plan or "-", str(nodes), scaler)


def _balancer_section(
    view: ScalingView,
    fleet: _Fleet,
    provider: Provider,
    region: str,
    apps: list[Instance],
    region_info: Region | None,
) -> None:
    names = {i.id: i.server or i.label or i.id for i in provider.instances}
    for lb in provider.load_balancers:
        rules = ", ".join(
            f"{r.frontend_protocol}:{r.frontend_port}→{r.backend_protocol}:{r.backend_port}"
            for r in lb.forwarding_rules
        )
        hc = lb.health_check
        health = f"{hc.protocol}:{hc.port}{hc.path or ''}" if hc and hc.protocol else "-"
        attached = ", ".join(names.get(i, i) for i in lb.instances) or "-"
        view.balancers.append(
            BalancerRow(lb.label or lb.id, lb.status or "-", rules or "-", health, attached)
        )
        view.lb_blocks.append(
            Block(
                f"{lb.label or lb.id}: 새 App 서버 연결 (--instances는 목록 전체를 바꿈)",
                vultr_cli.load_balancer_attach(lb.id, [*lb.instances, NEW_INSTANCE]).wrapped(),
            )
        )
    port = fleet.ports[0] if fleet.ports else 80
    if not provider.load_balancers:
        rule = vultr_cli.Rule("http", 80, "http", port)
        command = vultr_cli.load_balancer_create(
            region, "codeb-app-lb", [rule], [i.id for i in apps], port
        )
        view.lb_blocks = [Block("로드밸런서 생성 (App 서버 인스턴스 연결)", command.wrapped())]
    view.lb_traits = [
        "여러 인스턴스에 트래픽 분산"
        + (f" (백엔드: App 포트 {port}, Caddy 업스트림에서 확인)" if fleet.ports else ""),
        "헬스체크 지원 (`--protocol`, `--port`, `--path`)",
        "SSL 지원",
        f"{region} 리전 Load Balancer: {_option(region_info, 'load_balancers')}",
    ]


# --- section 4: the options and the choice -------------------------------------------


def _options(
    view: ScalingView, fleet: _Fleet, provider: Provider, plan: str, region: Region | None
) -> None:
    price = provider.plan(plan).monthly_cost if provider.plan(plan) else None
    cost = f"1대 추가 시 월 {usd(price)} ({plan})" if price is not None else f"플랜 {plan}"
    view.option_a_pros = ["기존 인프라 변경 없음", "점진적 확장 가능", f"비용 예측 가능: {cost}"]
    view.option_a_cons = ["수동/스크립트 기반", "부하 기반 자동 스케일링 없음"]
    low, high = _node_range(fleet)
    pool = vultr_cli.Pool("app-pool", plan, low, low, high)
    region_id = region.id if region else (view.region or "").split(" ")[0]
    view.option_b_blocks = [
        Block("1. 버전 확인", vultr_cli.kubernetes_versions().line()),
        Block(
            "2. Kubernetes 클러스터 생성 (--node-pools는 JSON이 아닌 구분 문자열)",
            vultr_cli.kubernetes_create("codeb-cluster", region_id, K8S_VERSION, [pool]).wrapped(),
        ),
        Block("3. 애플리케이션 배포", "kubectl apply -f deployment.yaml"),
    ]
    view.option_b_pros = [
        "✅ 완전 자동 스케일링",
        "✅ 부하 기반 노드 추가/제거",
        "선언적 인프라 관리",
        "롤링 업데이트 자동화",
    ]
    minimum = f"최소 노드 {low}대" + (f" × {usd(price)} = 월 {usd(low * price)}" if price else "")
    view.option_b_cons = [
        "인프라 마이그레이션 필요",
        "학습 곡선",
        "Kubernetes 관리 오버헤드",
        f"{minimum} (컨트롤 플레인 별도)",
    ]
    if _option(region, "kubernetes") == "❌ 미지원":
        view.option_b_cons.append(f"{region_id} 리전은 Kubernetes 미지원: 다른 리전 필요")


def _choice(fleet: _Fleet) -> str:
    usage, t = fleet.usage, fleet.thresholds
    names = ", ".join(s.name for s in fleet.apps) or "없음"
    basis = "최근 스냅샷" if usage.samples <= 1 else f"스냅샷 {usage.samples}회 중"
    figures = f"App 서버({names}) 최고 사용률은 {basis} {usage.words()}"
    if not usage.measured():
        # Nothing to weigh: saying the use is far below the thresholds would mislead.
        missing = (
            f"App 서버({names})의 사용률이 수집되지 않아"
            if fleet.apps
            else "App 서버가 없어 (역할 이름에 app이 든 서버, 또는 Caddy가 요청을 보내는 서버)"
        )
        return (
            f"{missing} 수치로 판단할 근거가 없습니다. 지금은 현 구조를 유지하는 Option A로"
            " 시작하고, App 서버의 사용률이 수집되면 이 판단이 수치로 채워집니다."
        )
    pressure = usage.pressure(t)
    provider = fleet.provider
    cluster = bool(provider and provider.kubernetes_clusters)
    if pressure:
        return (
            f"{figures}로 {', '.join(pressure)}가 주의 임계치를 넘었습니다. 지금 App 서버를"
            " 늘려야 하므로 준비된 Option A(`scale-out.sh`)로 즉시 수평 확장하고, 같은 상황이"
            " 반복되면 Option B의 오토스케일링을 검토하십시오."
        )
    soon = ""
    if usage.days_to_full is not None:
        days = f"{usage.days_to_full:.0f}일"
        soon = f" 디스크는 추세상 {days} 후 가득 찰 것으로 보여 증설 계획이 필요합니다."
    option_b = (
        "이미 있는 Kubernetes 클러스터로 옮기는 Option B도 가능하지만"
        if cluster
        else "Option B(Kubernetes)의 관리 부담과 최소 노드 비용을 정당화할 부하가 없으므로"
    )
    return (
        f"{figures}로 주의 임계치(메모리 {t.memory.warn_at:g}%, 디스크 {t.disk.warn_at:g}%,"
        f" 부하 {t.load.warn_at:g}/vCPU)에 한참 못 미칩니다. {option_b} 지금은 현 구조를 유지하는"
        " Option A가 맞습니다. 사용률이 임계치에 다가가면 `scale-out.sh`로 App 서버를 추가하고"
        f" Load Balancer를 앞에 두십시오.{soon}"
    )


def _scaling(fleet: _Fleet) -> list[tuple[str, str, str]]:
    usage, provider = fleet.usage, fleet.provider
    pressure = usage.pressure(fleet.thresholds)
    apps = len(fleet.apps)
    balancers = len(provider.load_balancers) if provider else 0
    clusters = provider.kubernetes_clusters if provider else []
    if pressure:
        short = f"즉시 App 서버 추가 필요 ({', '.join(pressure)}): `scale-out.sh` 실행"
    elif not usage.measured():
        why = "App 서버 사용률 수치 없음" if apps else "App 서버 없음"
        short = f"Instance 기반 수동 스케일링 ({why})"
    else:
        short = f"Instance 기반 수동 스케일링으로 충분 (App 서버 최고 {usage.words()})"
    if balancers:
        middle = f"기존 Load Balancer {balancers}개에 App 서버 추가 (현재 App 서버 {apps}대)"
    else:
        middle = f"Load Balancer + 추가 App 서버 (현재 App 서버 {apps}대, Load Balancer 없음)"
    scaled = [p for c in clusters for p in c.node_pools if p.auto_scaler]
    if scaled:
        long = f"Kubernetes 노드 풀 오토스케일러 범위 조정 (오토스케일링 노드 풀 {len(scaled)}개)"
    else:
        long = "Kubernetes 전환 검토 (자동 오토스케일링)"
    return [("단기", "현재", short), ("중기", "트래픽 증가 시", middle), ("장기", "대규모", long)]


def _next_steps(view: ScalingView, fleet: _Fleet) -> list[str]:
    provider = fleet.provider
    steps = []
    source = provider.key_source if provider else None
    if provider is None or provider.error is not None or not _cli_reads(source):
        steps.append("Vultr API 키 설정 (`~/.vultr-cli.yaml`)")
    scaled = provider and (
        provider.load_balancers
        or any(p.auto_scaler for c in provider.kubernetes_clusters for p in c.node_pools)
    )
    if not scaled:
        steps.append(
            "스케일링 자동화 스크립트 작성"
            + (" (리포트와 함께 생성된 `scale-out.sh` 검토)" if view.script else "")
        )
    return steps


def _cli_reads(source: str | None) -> bool:
    """Whether vultr-cli itself finds the key the report used (its own configuration file)."""
    return bool(source) and "vultr-cli.yaml" in (source or "")
