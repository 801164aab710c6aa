"""Reading the account from a real HTTP server on 127.0.0.1 (tests/servers/vultr.py):
paging, retries, the deadline, broken answers, and what never reaches the snapshot."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from servers.ports import free_port
from servers.vultr import TEST_KEY, Answer, FakeVultr, fixture

from codeb_report.provider.collect import ProviderCollection
from codeb_report.provider.match import ServerKeys
from codeb_report.provider.model import Provider
from codeb_report.provider.settings import VultrSettings
from codeb_report.snapshot import Snapshot, dumps, now

SERVERS = [
    ServerKeys("n1", "videopick-phase2-app"),  # label
    ServerKeys("n2", "n2.example.internal", address="192.0.2.12"),  # address SSH used
    ServerKeys("n3", "2001:DB8:4400:0::3"),  # an IPv6 host, written differently
    ServerKeys("n4", "backup.example.internal"),  # hostname "n4" = its name
]


def settings(api: FakeVultr, **extra: Any) -> VultrSettings:
    return VultrSettings(base_url=api.base_url, **{"deadline": 10.0, **extra})


def collect(
    api: FakeVultr,
    tmp_path: Path,
    servers: list[ServerKeys] = SERVERS,
    environ: dict[str, str] | None = None,
    sleeps: list[float] | None = None,
    process: bool = False,
    **extra: Any,
) -> Provider:
    sleeps = [] if sleeps is None else sleeps
    collection = ProviderCollection(
        settings(api, **extra),
        [ServerKeys(s.name, s.host) for s in servers],  # before SSH: no addresses yet
        environ={"VULTR_API_KEY": TEST_KEY} if environ is None else environ,
        home=tmp_path,
        sleep=sleeps.append,
    )
    return collection.start(process=process).finish(servers)


def as_json(provider: Provider) -> str:
    return dumps(Snapshot(collected_at=now(), collector_version="t", provider=provider))


def test_the_whole_account_is_read_and_matched(vultr_api: FakeVultr, tmp_path: Path) -> None:
    provider = collect(vultr_api, tmp_path)
    assert provider.error is None, provider.error
    assert provider.problems == []
    by_server = {i.server: i for i in provider.instances}
    assert {k: by_server[k].matched_by for k in ("n1", "n2", "n3", "n4")} == {
        "n1": "label",
        "n2": "address",
        "n3": "address",
        "n4": "hostname",
    }
    unmatched = [i for i in provider.instances if i.server is None]
    assert [(i.label, i.monthly_cost) for i in unmatched] == [("old-test", 5.0)]
    n1 = by_server["n1"]
    assert (n1.plan, n1.monthly_cost, n1.vcpu_count, n1.ram, n1.disk) == (
        "vc2-6c-16gb",
        80.0,
        6,
        16384,
        320,
    )
    assert n1.os == "Ubuntu 22.04 LTS x64" and n1.os_id == 1743
    # this month's six days only, not the previous month's
    assert n1.bandwidth.days == 6
    assert n1.bandwidth.incoming_bytes == sum(1_000_000_000 + d for d in range(1, 7))
    assert by_server["n3"].auto_backups and not n1.auto_backups
    assert by_server["n3"].backup_schedule.type == "daily"
    assert unmatched[0].bandwidth is None  # details are read for matched instances only
    assert provider.monthly_total == 80 * 3 + 40 + 5
    assert provider.account.balance == -25.31 and provider.account.pending_charges == 87.42
    assert provider.bandwidth.current_month_projected.allowance_gb == 16384 + 2048
    icn = provider.region("icn")
    assert icn.city == "Seoul" and "kubernetes" in icn.options
    assert "vc2-2c-4gb" in icn.available_plans
    assert [r.id for r in provider.regions] == ["icn"]  # regions the account uses
    # plans offered in icn (and those in use); ewr-only and nrt-only ones are left out
    assert {p.id for p in provider.plans} == {
        "vc2-1c-1gb",
        "vc2-1c-2gb",
        "vc2-2c-4gb",
        "vc2-4c-8gb",
        "vc2-6c-16gb",
        "vc2-8c-32gb",
    }
    pool = provider.kubernetes_clusters[0].node_pools[0]
    assert (pool.auto_scaler, pool.min_nodes, pool.max_nodes, len(pool.nodes)) == (True, 2, 6, 2)
    lb = provider.load_balancers[0]
    assert lb.forwarding_rules[0].backend_port == 4001 and lb.health_check.path == "/health"
    assert lb.instances == [by_server["n1"].id]
    assert [(s.name, s.type) for s in provider.startup_scripts] == [("codeb-app-boot", "boot")]
    assert provider.blocks[0].size_gb == 100
    assert provider.key_source == "VULTR_API_KEY"
    auth = {a for _, _, a in vultr_api.requests}
    assert auth == {f"Bearer {TEST_KEY}"}


def test_credentials_in_answers_never_reach_the_snapshot(
    vultr_api: FakeVultr, tmp_path: Path
) -> None:
    raw = json.dumps([fixture("instances.json"), fixture("startup-scripts.json")])
    assert "default_password" in raw and "SECRETKVM" in raw and "IyEvYmluL3No" in raw
    text = as_json(collect(vultr_api, tmp_path))
    for secret in ("default_password", "Pw-1-DoNotStore", "kvm", "SECRETKVM", "IyEvYmluL3No"):
        assert secret not in text
    assert TEST_KEY not in text
    assert "new_field_2027" not in text  # unknown fields are dropped, not copied through


def test_missing_optional_fields_are_none(vultr_api: FakeVultr, tmp_path: Path) -> None:
    provider = collect(vultr_api, tmp_path)
    old = next(i for i in provider.instances if i.label == "old-test")
    assert (old.v6_main_ip, old.features, old.tags) == (None, [], [])
    assert provider.load_balancers[0].ipv6 is None


def test_a_list_is_followed_over_every_page(vultr_api: FakeVultr, tmp_path: Path) -> None:
    template = fixture("instances.json")["instances"][4]
    extra = []
    for n in range(7):
        item = copy.deepcopy(template)
        item.update(id=f"ex{n:06d}-0000-4000-8000-000000000000", label=f"extra-{n}")
        extra.append(item)
    vultr_api.lists["/instances"] = vultr_api.lists["/instances"] + extra
    provider = collect(vultr_api, tmp_path, per_page=3)
    assert len(provider.instances) == 12
    pages = vultr_api.calls("/instances")
    assert len(pages) == 4  # 3 + 3 + 3 + 3
    assert "cursor" not in pages[0] and all("cursor" in p for p in pages[1:])
    assert {p["per_page"][0] for p in pages} == {"3"}


def test_a_cursor_that_loops_is_an_error_not_a_hang(vultr_api: FakeVultr, tmp_path: Path) -> None:
    vultr_api.loop_cursor = True
    provider = collect(vultr_api, tmp_path, per_page=2)
    assert provider.error.kind == "bad_answer"
    assert "cursor repeats" in provider.error.message
    assert len(vultr_api.calls("/instances")) <= 3


def test_429_waits_as_retry_after_says(vultr_api: FakeVultr, tmp_path: Path) -> None:
    limited = {"error": "rate limit exceeded", "status": 429}
    vultr_api.script("/account", Answer(429, limited, {"Retry-After": "2"}))
    sleeps: list[float] = []
    provider = collect(vultr_api, tmp_path, sleeps=sleeps)
    assert provider.error is None and provider.problems == []
    assert sleeps == [2.0]
    assert len(vultr_api.calls("/account")) == 2


def test_429_without_retry_after_backs_off(vultr_api: FakeVultr, tmp_path: Path) -> None:
    limited = {"error": "rate limit exceeded", "status": 429}
    vultr_api.script("/plans", Answer(429, limited), Answer(429, limited))
    sleeps: list[float] = []
    provider = collect(vultr_api, tmp_path, sleeps=sleeps)
    assert provider.problems == [] and provider.plans
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # doubling, jittered


def test_429_that_persists_is_rate_limited(vultr_api: FakeVultr, tmp_path: Path) -> None:
    limited = Answer(429, {"error": "rate limit exceeded", "status": 429}, {"Retry-After": "0"})
    vultr_api.script("/instances", *[limited] * 3)
    provider = collect(vultr_api, tmp_path, attempts=3)
    assert provider.error.kind == "rate_limited"
    assert provider.error.status == 429


def test_a_500_then_success(vultr_api: FakeVultr, tmp_path: Path) -> None:
    vultr_api.script("/instances", Answer(500, {"error": "internal"}))
    sleeps: list[float] = []
    provider = collect(vultr_api, tmp_path, sleeps=sleeps)
    assert provider.error is None and len(provider.instances) == 5
    assert len(vultr_api.calls("/instances")) == 2 and len(sleeps) == 1


def test_a_dropped_connection_is_retried(vultr_api: FakeVultr, tmp_path: Path) -> None:
    vultr_api.script("/account", Answer(drop=True))
    provider = collect(vultr_api, tmp_path)
    assert provider.error is None and provider.account is not None
    assert len(vultr_api.calls("/account")) == 2


def test_a_failing_side_endpoint_is_a_problem_not_the_end(
    vultr_api: FakeVultr, tmp_path: Path
) -> None:
    vultr_api.script("/blocks", *[Answer(503, {"error": "maintenance"})] * 4)
    vultr_api.script("/load-balancers", Answer(200, b"{not json"))
    provider = collect(vultr_api, tmp_path)
    assert provider.error is None and len(provider.instances) == 5
    kinds = {(p.endpoint, p.kind) for p in provider.problems}
    assert kinds == {("/blocks", "server_error"), ("/load-balancers", "bad_answer")}
    assert provider.incomplete


@pytest.mark.parametrize(("status", "kind"), [(401, "unauthorized"), (403, "forbidden")])
def test_a_refused_key(vultr_api: FakeVultr, tmp_path: Path, status: int, kind: str) -> None:
    vultr_api.key = "ANOTHER0KEY0THAN0THE0ONE0SENT"
    if status == 403:
        forbidden = Answer(403, {"error": "Unauthorized IP address", "status": 403})
        for path in ("/account", "/instances"):
            vultr_api.script(path, forbidden)
    provider = collect(vultr_api, tmp_path)
    assert provider.error.kind == kind and provider.error.status == status
    assert provider.instances == []
    assert TEST_KEY not in as_json(provider)


def test_malformed_json_for_the_instances(vultr_api: FakeVultr, tmp_path: Path) -> None:
    vultr_api.script("/instances", Answer(200, b'{"instances": [1, 2'))
    provider = collect(vultr_api, tmp_path)
    assert provider.error.kind == "bad_answer" and provider.error.endpoint == "/instances"


def test_an_instance_without_an_id_is_skipped_alone(vultr_api: FakeVultr, tmp_path: Path) -> None:
    """More bad items of every list: test_provider_items.py."""
    broken = copy.deepcopy(vultr_api.lists["/instances"])
    del broken[0]["id"]
    vultr_api.lists["/instances"] = broken
    provider = collect(vultr_api, tmp_path)
    assert provider.error is None and len(provider.instances) == 4
    [skipped] = provider.problems
    assert (skipped.endpoint, skipped.kind) == ("/instances", "bad_answer")
    assert "skipped 1 of 5 items: instance: id: missing or not valid" in skipped.message


def test_an_empty_instance_list_for_a_configured_fleet(
    vultr_api: FakeVultr, tmp_path: Path
) -> None:
    vultr_api.lists["/instances"] = []
    provider = collect(vultr_api, tmp_path)
    assert provider.error.kind == "empty_instances"
    assert provider.account is not None  # what could be read is kept


def test_a_slow_answer_past_the_deadline(vultr_api: FakeVultr, tmp_path: Path) -> None:
    vultr_api.script("/instances", Answer(delay=30.0, body={"instances": []}))
    started = time.monotonic()
    provider = collect(vultr_api, tmp_path, deadline=1.0)
    assert time.monotonic() - started < 30.0  # not waiting for the answer, however loaded
    assert provider.error.kind == "timeout"


def test_an_unreachable_api(tmp_path: Path) -> None:
    api = FakeVultr(port=free_port())  # nothing listens there
    provider = collect(api, tmp_path, attempts=2)
    assert provider.error.kind == "unreachable"
    assert TEST_KEY not in as_json(provider)


def test_no_key_anywhere(vultr_api: FakeVultr, tmp_path: Path) -> None:
    provider = collect(vultr_api, tmp_path, environ={})
    assert provider.error.kind == "no_key"
    assert "~/.vultr-cli.yaml" in provider.error.message
    assert vultr_api.requests == []


def test_the_key_from_vultr_cli_configuration(vultr_api: FakeVultr, tmp_path: Path) -> None:
    (tmp_path / ".vultr-cli.yaml").write_text(f"api-key: {TEST_KEY}\n")
    (tmp_path / ".vultr-cli.yaml").chmod(0o600)
    provider = collect(vultr_api, tmp_path, environ={})
    assert provider.error is None
    assert provider.key_source == str(tmp_path / ".vultr-cli.yaml")


def test_a_child_process_reads_the_same_account(vultr_api: FakeVultr, tmp_path: Path) -> None:
    """The run reads the lists in a forked child (no interpreter lock shared with SSH)."""
    vultr_api.script("/blocks", *[Answer(503, {"error": "maintenance"})] * 8)  # 4 per run
    in_thread = collect(vultr_api, tmp_path)
    in_child = collect(vultr_api, tmp_path, process=True)
    same = {"collected_at", "duration_seconds"}
    assert in_child.model_dump(exclude=same) == in_thread.model_dump(exclude=same)
    assert [(p.endpoint, p.kind) for p in in_child.problems] == [("/blocks", "server_error")]
    assert in_child.instance_of("n2").bandwidth.days == 6  # matched by SSH's address later


def test_a_child_process_past_the_deadline(vultr_api: FakeVultr, tmp_path: Path) -> None:
    vultr_api.script("/instances", Answer(delay=30.0, body={"instances": []}))
    provider = collect(vultr_api, tmp_path, process=True, deadline=1.0)
    assert provider.error.kind == "timeout"


def test_no_client_in_the_parent_when_the_child_matched_everything(
    vultr_api: FakeVultr, tmp_path: Path
) -> None:
    configured = [ServerKeys("n1", "videopick-phase2-app")]  # matched by label in the child
    collection = ProviderCollection(
        settings(vultr_api), configured, environ={"VULTR_API_KEY": TEST_KEY}, home=tmp_path
    )
    provider = collection.start(process=True).finish(configured)
    assert provider.instance_of("n1").bandwidth is not None
    assert collection._client is None  # no httpx client (nor its import) after SSH
