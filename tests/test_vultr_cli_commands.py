"""Every vultr-cli command the report and scale-out.sh print is valid for vultr-cli v3, and
scale-out.sh passes shellcheck, is its owner's alone and never written through a symlink."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_example_snapshot import EXAMPLE
from vultr_cli_v3 import bash_blocks, check, commands

from codeb_report.analysis import analyse
from codeb_report.provider.model import (
    ForwardingRule,
    HealthCheck,
    KubernetesCluster,
    LoadBalancer,
    NodePool,
    StartupScript,
)
from codeb_report.render import render_report
from codeb_report.snapshot import Snapshot, load

REFERENCE = Path("/work/shared/reference/codeb-infra-report-2025-12-20.md")
CLUSTER = "9b2e4f10-1c3d-4a5b-8e6f-7a8b9c0d1e2f"
POOL_ON = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"
POOL_OFF = "1d2e3f40-5b6c-4d7e-9f80-91a2b3c4d5e6"
BALANCER = "2e3f4051-6c7d-4e8f-a091-a2b3c4d5e6f7"
SCRIPT = "3f405162-7d8e-4f90-b1a2-b3c4d5e6f708"


def with_clusters_and_balancer() -> Snapshot:
    """The example's account plus what it lacks: a cluster (one pool autoscaled, one not),
    a load balancer in front of n1, and a startup script."""
    snapshot = load(EXAMPLE)
    provider = snapshot.provider
    assert provider is not None
    n1 = provider.instance_of("n1")
    assert n1 is not None
    provider.kubernetes_clusters = [
        KubernetesCluster(
            id=CLUSTER,
            label="codeb-k8s",
            region="icn",
            version="v1.31.0+1",
            node_pools=[
                NodePool(id=POOL_ON, label="web", plan="vc2-2c-4gb", node_quantity=2,
                         auto_scaler=True, min_nodes=2, max_nodes=6),
                NodePool(id=POOL_OFF, label="batch", plan="vc2-4c-8gb", node_quantity=1,
                         auto_scaler=False),
            ],
        )
    ]  # fmt: skip
    provider.load_balancers = [
        LoadBalancer(
            id=BALANCER,
            label="codeb-lb",
            region="icn",
            status="active",
            forwarding_rules=[ForwardingRule(frontend_protocol="http", frontend_port=80,
                                             backend_protocol="http", backend_port=4001)],
            health_check=HealthCheck(protocol="http", port=4001, path="/health"),
            instances=[n1.id],
        )
    ]  # fmt: skip
    provider.startup_scripts = [StartupScript(id=SCRIPT, name="codeb-app-init", type="boot")]
    return snapshot


def render(snapshot: Snapshot, out: Path) -> tuple[str, str]:
    [md] = render_report(snapshot, analyse(snapshot), ["md"], out)
    return md.read_text(encoding="utf-8"), (out / "scale-out.sh").read_text(encoding="utf-8")


@pytest.fixture(scope="module", params=["example", "clusters-and-balancer"])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    snapshot = load(EXAMPLE) if request.param == "example" else with_clusters_and_balancer()
    out = tmp_path_factory.mktemp(request.param)
    return (*render(snapshot, out), out)


def test_every_printed_command_is_valid_for_v3(rendered: tuple[str, str, Path]) -> None:
    report, script, _ = rendered
    found = [c for block in bash_blocks(report) for c in commands(block)]
    found += commands(script)
    assert len(found) >= 8
    problems = {" ".join(c): check(c) for c in found if check(c)}
    assert problems == {}


def test_the_commands_cover_each_kind(rendered: tuple[str, str, Path]) -> None:
    report, script, _ = rendered
    found = {tuple(c[1:3]) for b in bash_blocks(report) for c in commands(b)}
    assert {("instance", "create"), ("instance", "get"), ("instance", "delete")} <= found
    assert ("kubernetes", "create") in found or ("kubernetes", "node-pool") in found
    assert ("load-balancer", "create") in found or ("load-balancer", "update") in found
    polled = [c for c in commands(script) if c[1:3] == ["instance", "get"]]
    assert polled and "active" in script  # the script polls until the instance is active


def test_existing_cluster_and_balancer_are_listed_not_created(tmp_path: Path) -> None:
    report, script = render(with_clusters_and_balancer(), tmp_path)
    section_3 = report.split("## 3. ")[1].split("## 4. ")[0]
    assert "| codeb-k8s | v1.31.0+1 | web | vc2-2c-4gb | 2 | ✅ 2-6대 |" in section_3
    assert "| codeb-k8s | v1.31.0+1 | batch | vc2-4c-8gb | 1 | ❌ 꺼짐 |" in section_3
    assert f"vultr-cli kubernetes node-pool update {CLUSTER} {POOL_OFF}" in section_3
    assert "| codeb-lb | active | http:80→http:4001 | http:4001/health | n1 |" in section_3
    assert "vultr-cli kubernetes create" not in section_3
    assert "vultr-cli load-balancer create" not in section_3
    assert f"--script-id {SCRIPT}" in section_3 and f"--script-id {SCRIPT}" in script
    assert f"vultr-cli load-balancer update {BALANCER}" in script


def test_the_checker_refuses_the_reference_report_s_own_v3_mistakes() -> None:
    """The reference's JSON --node-pools and --forwarding-rules fail: the check can fail."""
    if not REFERENCE.is_file():
        pytest.skip("the reference report is not on this machine")
    found = [c for b in bash_blocks(REFERENCE.read_text(encoding="utf-8")) for c in commands(b)]
    wrong = {c[1]: check(c) for c in found if c[1:3] in (["kubernetes", "create"],
                                                          ["load-balancer", "create"])}  # fmt: skip
    assert any("--node-pools" in p for p in wrong["kubernetes"]), wrong
    assert any("--forwarding-rules" in p for p in wrong["load-balancer"]), wrong


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("vultr-cli kubernetes create --label a --region icn --version v1.31.0+1 "
         "--node-pools quantity:2,plan:vc2-2c-4gb,label:p --auto-scaler", "no flag --auto-scaler"),
        ("vultr-cli kubernetes node-pool create <CLUSTER_ID> --label p --plan vc2-2c-4gb "
         "--quantity 2 --auto-scaler true", "2 arguments"),
        ("vultr-cli instance create --region icn --plan vc2-2c-4gb", "needs one of"),
        ("vultr-cli load-balancer create --region icn --forwarding-rules "
         "frontend_port:80,backend_port:3000", "--forwarding-rules"),
        ("vultr-cli instance get", "0 arguments"),
    ],
)  # fmt: skip
def test_the_checker_names_what_is_wrong(command: str, problem: str) -> None:
    [words] = commands(command)
    assert any(problem in p for p in check(words)), check(words)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_scale_out_passes_shellcheck(rendered: tuple[str, str, Path]) -> None:
    _, _, out = rendered
    result = subprocess.run(
        ["shellcheck", "--shell=bash", str(out / "scale-out.sh")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_scale_out_is_the_owner_s_alone_and_the_report_s_script(
    rendered: tuple[str, str, Path],
) -> None:
    report, script, out = rendered
    assert (out / "scale-out.sh").stat().st_mode & 0o777 == 0o700
    assert script.startswith("#!/usr/bin/env bash\n")
    assert script.strip() in report  # Option A prints the very script


def test_a_planted_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "scale-out.sh").symlink_to(target)
    render(load(EXAMPLE), out)
    assert target.read_text() == "keep me\n"
    assert not (out / "scale-out.sh").is_symlink()
    assert os.access(out / "scale-out.sh", os.X_OK)


def test_hostile_account_values_stay_quoted_in_the_script(tmp_path: Path) -> None:
    snapshot = load(EXAMPLE)
    provider = snapshot.provider
    assert provider is not None
    n1 = provider.instance_of("n1")
    assert n1 is not None
    n1.plan = "vc2-$(touch pwned)"
    n1.os = "Ubuntu\nrm -rf / #"
    n1.label = "a`b`;c"
    proxy = snapshot.server("n1").proxy  # type: ignore[union-attr]
    assert proxy is not None
    proxy.routes[0].handler = 'apps/http/servers/x"$(id)"/routes/0/handle/0'
    _, script = render(snapshot, tmp_path)
    assert "'vc2-$(touch pwned)'" in script
    assert "\nrm -rf / #" not in script
    assert '"$(id)"' not in script  # an unsafe admin path is not put into the ssh command
    if shutil.which("shellcheck"):
        path = tmp_path / "scale-out.sh"
        # Info notes (SC2016: $ inside single quotes) are the point here: quoted, not run.
        checked = subprocess.run(["shellcheck", "-S", "warning", str(path)], capture_output=True)
        assert checked.returncode == 0, checked.stdout
