"""The example fleet rendered to Markdown carries, fact by fact, what the reference report
says in its six sections, in its numbering: 1 (서버 현황 요약), 2 (서버별 상세 분석),
3 (Vultr CLI 오토스케일링 기능 분석) and 4 (오토스케일링 구현 권장사항) from the example's
Vultr account and Caddy, 5 (즉시 개선 필요 사항) and 6 (결론). The reference's facts are
written out in test_example_snapshot.py; its vultr-cli commands appear in their v3 form
(checked flag by flag in test_vultr_cli_commands.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_example_snapshot import (
    ASSESSMENT,
    CONTAINERS,
    EXAMPLE,
    FINDINGS,
    FIRST_STEP,
    NOTES,
    RESOURCES,
    SERVERS,
    SERVICES,
)

from codeb_report.analysis import analyse
from codeb_report.config import load_config
from codeb_report.render import RenderOptions, render_report
from codeb_report.snapshot import load

CONFIG = EXAMPLE.parent / "codeb-report.toml"


def unescape(text: str) -> str:
    """Undo Markdown backslash escapes, so ``pg\\_stat`` compares as ``pg_stat``."""
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", text)


def section(md: str, title: str, level: int = 2) -> str:
    """The text under the heading that contains ``title``, up to the next one of its level."""
    marks = "#" * level
    pattern = rf"^{marks} [^\n]*{re.escape(title)}[^\n]*\n(.*?)(?=^{marks} |\Z)"
    match = re.search(pattern, md, re.M | re.S)
    assert match, f"no '{marks} …{title}…' heading"
    return match.group(1)


def table(text: str) -> list[tuple[str, ...]]:
    """The body rows of the first Markdown table in ``text``, cells unescaped, bold removed."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
        rows.append(tuple(unescape(c).replace("**", "") for c in cells))
    assert len(rows) >= 2, "no table"
    return rows[2:]  # header and the --- line


def bullets(text: str) -> list[str]:
    return [unescape(line[2:]) for line in text.splitlines() if line.startswith("- ")]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example rendered as ``codeb-report render --config examples/codeb-report.toml`` would."""
    config = load_config(CONFIG)
    snapshot = load(EXAMPLE)
    options = RenderOptions(
        title=config.report.title,
        zone=ZoneInfo(config.report.timezone),
        ports=config.descriptions.ports,
        units=config.descriptions.units,
        containers=config.descriptions.containers,
    )
    out = tmp_path_factory.mktemp("report")
    [path] = render_report(
        snapshot, analyse(snapshot, config.report.thresholds), ["md"], out, options
    )
    return path.read_text(encoding="utf-8")


def server_section(report: str, name: str) -> str:
    return section(section(report, "서버별 상세 분석"), f"{name} - ", level=3)


def test_header(report: str) -> None:
    assert report.startswith("# CodeB 서버 인프라 현황 리포트\n")
    assert "**생성일**: 2025-12-20" in report
    assert re.search(r"\*\*분석자\*\*: codeb-report \d+\.\d+", report)
    assert "**Vultr CLI 버전**: v3.8.0" in report


def test_the_six_sections_in_the_reference_s_order(report: str) -> None:
    assert re.findall(r"^## (.+)$", report, re.M) == [
        "1. 서버 현황 요약",
        "2. 서버별 상세 분석",
        "3. Vultr CLI 오토스케일링 기능 분석",
        "4. 오토스케일링 구현 권장사항",
        "5. 즉시 개선 필요 사항",
        "6. 결론",
    ]


def test_section_1_server_summary(report: str) -> None:
    assert table(section(report, "서버 현황 요약")) == SERVERS


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_section_2_resources(report: str, name: str) -> None:
    address = next(s[2] for s in SERVERS if s[0] == name)
    assert re.search(rf"^### {name} - .+ \({re.escape(address)}\)$", report, re.M)
    text = server_section(report, name)
    assert table(section(text, "리소스 현황", level=4)) == RESOURCES[name]


def test_section_2_n1_containers(report: str) -> None:
    rows = table(section(server_section(report, "n1"), "실행 중인 컨테이너", level=4))
    assert sorted(rows) == sorted(CONTAINERS)


def test_section_2_n1_services(report: str) -> None:
    rows = table(section(server_section(report, "n1"), "시스템 서비스", level=4))
    # The reference elides the runner's organisation: actions.runner.*.codeb-app-server.
    runner = re.compile(r"^actions\.runner\.[^.]+\.codeb-app-server$")
    rows = [
        ("actions.runner.*.codeb-app-server" if runner.match(r[0]) else r[0], *r[1:]) for r in rows
    ]
    assert rows == SERVICES


def test_section_2_n1_ports(report: str) -> None:
    rows = table(section(server_section(report, "n1"), "포트 사용 현황", level=4))
    described = {int(r[0]): " ".join(r[2:]) for r in rows}
    # 3000 - next-server (예약됨), 3001 - docker-proxy, 3100 - codeb-dashboard,
    # 3101 - node (SSOT Registry), 3102 - node (Domain Manager), 3202 - codeb-cms,
    # 5432-5434 - PostgreSQL instances
    expected = {
        3000: ("next-server", "예약됨"),
        3001: ("docker-proxy",),
        3100: ("codeb-dashboard",),
        3101: ("node", "SSOT Registry"),
        3102: ("node", "Domain Manager"),
        3202: ("codeb-cms",),
        5432: ("PostgreSQL",),
        5433: ("PostgreSQL",),
        5434: ("PostgreSQL",),
    }
    for port, words in expected.items():
        assert port in described, f"port {port} missing"
        for word in words:
            assert word in described[port], f"{port}: {word!r} not in {described[port]!r}"


def test_section_2_n2_centrifugo(report: str) -> None:
    rows = dict(table(section(server_section(report, "n2"), "Centrifugo 상태", level=4)))
    assert rows["버전"] == "5.4.9"
    assert rows["런타임"] == "Go 1.23.4"
    assert rows["엔진"] == "Memory"
    assert rows["포트"] == "8000"
    assert rows["상태"] == "✅ Active (1일 18시간)"
    assert rows["메모리 사용"] == "90.9MB"
    assert rows["CPU 시간"] == "3분 23초"


def test_section_2_n3_databases(report: str) -> None:
    rows = table(section(server_section(report, "n3"), "데이터베이스 서비스", level=4))
    assert rows == [
        ("PostgreSQL", "codeb-postgres", "✅ Running (Podman)"),
        ("Redis", "codeb-redis", "✅ Running (Podman, Auth 필요)"),
    ]


@pytest.mark.parametrize("name", sorted(NOTES))
def test_section_2_notes(report: str, name: str) -> None:
    assert bullets(section(server_section(report, name), "주의사항", level=4)) == NOTES[name]


def test_section_5_findings(report: str) -> None:
    """The reference's findings; the account's own (right-sizing, written without the API
    key the reference lacked) come beside them and are left out of the comparison."""
    text = section(report, "즉시 개선 필요 사항")
    account = {
        (f.title, f.server)
        for f in analyse(load(EXAMPLE)).findings
        if f.rule.startswith("provider.")
    }
    got = [
        (priority, *row)
        for priority in ("High", "Medium", "Low")
        for row in table(section(text, f"{priority} Priority", level=3))
        if (row[0].removeprefix("⚠️ "), row[1]) not in account
    ]
    assert got == FINDINGS


def test_section_6_conclusion(report: str) -> None:
    text = section(report, "결론")
    assert bullets(section(text, "현재 상태 평가", level=3)) == ASSESSMENT
    steps = re.findall(r"^\d+\. (.+)$", section(text, "다음 단계", level=3), re.M)
    assert steps[0] == FIRST_STEP


def test_every_reference_status_word_and_icon_is_printed(report: str) -> None:
    for word in (
        "✅ 여유",
        "✅ 매우 여유",
        "✅ 안정",
        "✅ 유휴",
        "✅ 정상",
        "매우 낮음",
        "낮음",
        "거의 없음",
        "✅ Up",
        "✅ Active",
        "⚠️ 백업 미설정",
        "⚠️ Centrifugo 보안",
    ):
        assert word in report, word


def test_cli_render_writes_the_same_sections(tmp_path: Path) -> None:
    """``codeb-report render`` of the example, without a config: the same judged facts."""
    from click.testing import CliRunner

    from codeb_report.cli import cli

    result = CliRunner().invoke(
        cli, ["render", str(EXAMPLE), "--format", "md", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert table(section(md, "서버 현황 요약")) == SERVERS
    assert bullets(section(section(md, "결론"), "현재 상태 평가", level=3)) == ASSESSMENT


def test_html_carries_the_same_facts(tmp_path: Path) -> None:
    """HTML is made from the same Markdown: its text holds every judged fact too."""
    import html

    snapshot = load(EXAMPLE)
    [path] = render_report(snapshot, analyse(snapshot), ["html"], tmp_path)
    page = re.sub(r"</?(?:strong|code|em|span|b|i)\b[^>]*>", "", path.read_text(encoding="utf-8"))
    page = html.unescape(re.sub(r"<[^>]+>", " ", page))
    words = " ".join(page.split())

    def has(fact: str) -> bool:
        return " ".join(fact.replace("`", "").replace("**", "").split()) in words

    facts = [cell for row in SERVERS for cell in row]
    facts += [cell for rows in RESOURCES.values() for row in rows for cell in row]
    facts += [cell for row in FINDINGS for cell in row[1:]]
    facts += [note for notes in NOTES.values() for note in notes] + ASSESSMENT
    missing = [f for f in facts if not has(f)]
    assert missing == []


def test_section_2_headings_are_the_references(report: str) -> None:
    """As the reference writes them, though its summary table (and the example's roles)
    say Streaming, Storage (DB) and Backup."""
    headings = re.findall(r"^### (n\d - .+)$", section(report, "서버별 상세 분석"), re.M)
    assert headings == [
        "n1 - App Server (158.247.203.55)",
        "n2 - Streaming Server (141.164.42.213)",
        "n3 - Storage Server (64.176.226.119)",
        "n4 - Backup Server (141.164.37.63)",
    ]


def example_plan() -> str:
    """The plan sections 3 and 4 fill in: the analysis' recommendation for n1, else its plan."""
    from codeb_report.render.view.provider import recommended_plans

    snapshot = load(EXAMPLE)
    plan = recommended_plans(analyse(snapshot)).get("n1")
    instance = snapshot.provider.instance_of("n1")  # type: ignore[union-attr]
    return plan or instance.plan  # type: ignore[union-attr]


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```\w*\n(.*?)^```", text, re.M | re.S)


def one_line(block: str) -> str:
    return " ".join(re.sub(r"\\\n", " ", block).split())


def test_section_3_options_as_the_reference_with_this_account_s_values(report: str) -> None:
    text = section(report, "Vultr CLI 오토스케일링 기능 분석")
    plan = example_plan()
    assert re.findall(r"^#### (.+)$", text, re.M) == [
        "3.1 Instance 기반 (현재 방식)",
        "3.2 Kubernetes 기반 (오토스케일링 지원)",
        "3.3 Load Balancer",
    ]
    assert table(section(text, "사용 가능한 스케일링 옵션", level=3)) == [
        ("Kubernetes", "✅ 사용 가능"),
        ("Load Balancer", "✅ 사용 가능"),
    ]
    instance = one_line(code_blocks(section(text, "3.1 Instance", level=4))[0])
    assert f"vultr-cli instance create --region icn --plan {plan} --os 1743" in instance
    assert "vultr-cli instance delete <NEW_INSTANCE_ID>" in instance
    assert "1743 (Ubuntu 22.04 LTS x64)" in instance  # the OS by id and by the API's name
    traits = bullets(section(text, "3.1 Instance", level=4))
    assert traits[0].startswith("수동 프로비저닝")
    assert traits[1].startswith("스크립트로 자동화 가능")
    assert traits[2].startswith("초기 설정 필요 (Startup Script)")
    k8s = one_line(code_blocks(section(text, "3.2 Kubernetes", level=4))[0])
    assert (
        f"vultr-cli kubernetes node-pool create <CLUSTER_ID> --label app-workers --plan {plan}"
        " --quantity 2 --auto-scaler --min-nodes 2 --max-nodes 10"
    ) in k8s
    k8s_traits = bullets(section(text, "3.2 Kubernetes", level=4))
    assert k8s_traits[0].startswith("✅ `--auto-scaler`")
    assert k8s_traits[1].startswith("✅ `--min-nodes`, `--max-nodes`로 범위 설정")
    assert "부하 기반 자동 노드 추가/제거" in k8s_traits
    assert "Kubernetes 클러스터 필요: 계정에 클러스터 없음" in k8s_traits
    lb = one_line(code_blocks(section(text, "3.3 Load Balancer", level=4))[0])
    n1 = load(EXAMPLE).provider.instance_of("n1").id  # type: ignore[union-attr]
    assert (
        "vultr-cli load-balancer create --region icn --label codeb-app-lb --forwarding-rules"
        " frontend_port:80,frontend_protocol:http,backend_port:4001,backend_protocol:http"
    ) in lb
    assert lb.endswith(f"--instances {n1}")
    lb_traits = bullets(section(text, "3.3 Load Balancer", level=4))
    assert lb_traits[0].startswith("여러 인스턴스에 트래픽 분산")
    assert lb_traits[1].startswith("헬스체크 지원") and lb_traits[2] == "SSL 지원"


def test_section_4_architecture_is_caddy_on_n1_over_4001_and_4002(report: str) -> None:
    text = section(report, "오토스케일링 구현 권장사항")
    drawing = code_blocks(section(text, "현재 아키텍처", level=3))[0].splitlines()
    caddy = next(i for i, line in enumerate(drawing) if "Caddy (n1)" in line)
    assert "Reverse Proxy" in drawing[caddy + 1]
    apps = next(i for i, line in enumerate(drawing) if line.count("App (n1)") == 2)
    assert apps > caddy
    ports = drawing[apps + 1]
    assert "Port 4001" in ports and "Port 4002" in ports
    assert ports.index("Port 4001") < ports.index("Port 4002")
    arrows = drawing[apps - 2]
    assert arrows.count("▼") == 2
    # the other servers beside the tree
    assert any("Streaming (n2)" in line and "Backup (n4)" in line for line in drawing)


def test_section_4_options_a_and_b(report: str) -> None:
    text = section(report, "오토스케일링 구현 권장사항")
    plan = example_plan()
    option_a = section(text, "Option A: Instance 기반 수평 스케일링 (현재 구조 유지)", level=4)
    script = one_line(code_blocks(option_a)[0])
    assert f"vultr-cli instance create --region icn --plan {plan} --os 1743" in script
    assert "jq -r '.instance.id'" in script  # the id, not main_ip (0.0.0.0 until active)
    assert "vultr-cli instance get \"$NEW_ID\" -o json | jq -r '.instance.status'" in script
    assert "for PORT in 4001 4002" in script
    assert bullets(option_a)[:5] == [
        "기존 인프라 변경 없음",
        "점진적 확장 가능",
        f"비용 예측 가능: 1대 추가 시 월 {price(plan)} ({plan})",
        "수동/스크립트 기반",
        "부하 기반 자동 스케일링 없음",
    ]
    option_b = section(text, "Option B: Kubernetes 전환 (완전 자동화)", level=4)
    commands = one_line(code_blocks(option_b)[0])
    assert (
        "vultr-cli kubernetes create --label codeb-cluster --region icn"
        " --version <KUBERNETES_VERSION> --node-pools"
        f" quantity:2,plan:{plan},label:app-pool,auto-scaler:true,min-nodes:2,max-nodes:10"
    ) in commands
    assert "kubectl apply -f deployment.yaml" in commands
    said = bullets(option_b)
    for item in ("✅ 완전 자동 스케일링", "✅ 부하 기반 노드 추가/제거", "선언적 인프라 관리",
                 "롤링 업데이트 자동화", "인프라 마이그레이션 필요", "학습 곡선",
                 "Kubernetes 관리 오버헤드"):  # fmt: skip
        assert item in said, item
    choice = section(text, "데이터 기준 판단", level=3)
    assert "App 서버(n1)" in choice and "메모리 10%" in choice
    assert "Option A가 맞습니다" in choice


def price(plan: str) -> str:
    """As the findings write a price: $20, $12.50."""
    from codeb_report.analysis.provider import usd

    found = load(EXAMPLE).provider.plan(plan)  # type: ignore[union-attr]
    return usd(found.monthly_cost)  # type: ignore[union-attr]


def test_section_6_scaling_and_next_steps_as_the_reference(report: str) -> None:
    text = section(report, "결론")
    scaling = re.findall(r"^\d+\. (.+)$", section(text, "스케일링 권장사항", level=3), re.M)
    assert [unescape(s).replace("**", "") for s in scaling] == [
        "단기 (현재): Instance 기반 수동 스케일링으로 충분 (App 서버 최고 메모리 10%, 디스크 14%,"
        " 부하 0.01/vCPU)",
        "중기 (트래픽 증가 시): Load Balancer + 추가 App 서버"
        " (현재 App 서버 1대, Load Balancer 없음)",
        "장기 (대규모): Kubernetes 전환 검토 (자동 오토스케일링)",
    ]
    steps = re.findall(r"^\d+\. (.+)$", section(text, "다음 단계", level=3), re.M)
    assert steps[0] == FIRST_STEP
    assert "Vultr API 키 설정 (`~/.vultr-cli.yaml`)" in steps
    assert any(s.startswith("스케일링 자동화 스크립트 작성") for s in steps)
