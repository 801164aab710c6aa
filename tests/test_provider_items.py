"""One bad item in a list the fake Vultr API serves on 127.0.0.1 costs only itself: the
rest of its list, and of the account, is read; the item is a problem of its endpoint
(the run is partial) that names it and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from servers.vultr import FakeVultr
from test_provider_collect import as_json, collect

from codeb_report.analysis.provider import api_status
from codeb_report.provider.model import MAX_ITEMS, Provider, list_bound
from codeb_report.snapshot import Snapshot

Items = list[dict[str, Any]]


def problem(provider: Provider, endpoint: str) -> str:
    found = [p for p in provider.problems if p.endpoint == endpoint]
    assert len(found) == 1, provider.problems
    assert found[0].kind == "bad_answer"
    return found[0].message


@pytest.mark.parametrize(
    "cost",
    [-80.0, float("nan"), float("inf"), 1e15, "eighty", None, True],
    ids=["negative", "nan", "inf", "absurd", "text", "null", "bool"],
)
def test_one_bad_plan_costs_only_itself(vultr_api: FakeVultr, tmp_path: Path, cost: object) -> None:
    plans = copy.deepcopy(vultr_api.lists["/plans"])
    bad = next(p for p in plans if p["id"] == "vc2-8c-32gb")  # offered in icn, not in use
    bad["monthly_cost"] = cost
    vultr_api.lists["/plans"] = plans
    provider = collect(vultr_api, tmp_path)
    assert provider.error is None
    kept = {p.id for p in provider.plans}  # the icn plans but the bad one
    assert len(kept) == 5 and "vc2-8c-32gb" not in kept and "vc2-1c-1gb" in kept
    assert all(i.monthly_cost is not None for i in provider.instances)
    assert provider.monthly_total == 80 * 3 + 40 + 5
    message = problem(provider, "/plans")
    assert "skipped 1 of 8" in message and "vc2-8c-32gb" in message
    assert "monthly_cost" in message
    assert provider.incomplete  # the run says "partial"


def test_a_bad_plan_in_use_leaves_its_instances_unpriced(
    vultr_api: FakeVultr, tmp_path: Path
) -> None:
    plans = copy.deepcopy(vultr_api.lists["/plans"])
    next(p for p in plans if p["id"] == "vc2-4c-8gb")["ram"] = -1
    vultr_api.lists["/plans"] = plans
    provider = collect(vultr_api, tmp_path)
    n4 = provider.instance_of("n4")
    assert n4.plan == "vc2-4c-8gb" and n4.monthly_cost is None
    assert provider.instance_of("n1").monthly_cost == 80.0
    assert "vc2-4c-8gb: ram" in problem(provider, "/plans")


def _drop(key: str) -> Callable[[Items], None]:
    def change(items: Items) -> None:
        del items[0][key]

    return change


def _set(key: str, value: object, index: int = 0) -> Callable[[Items], None]:
    def change(items: Items) -> None:
        items[index][key] = value

    return change


def _duplicate(items: Items) -> None:
    items.append(copy.deepcopy(items[0]))


CASES = {
    # path: (change to the list, what is still there, what the problem names)
    "instances without id": (
        "/instances",
        _drop("id"),
        lambda p: len(p.instances) == 4 and p.instance_of("n2") is not None,
        "instance: id",
    ),
    "instance twice (paging while one was created)": (
        "/instances",
        _duplicate,
        lambda p: len(p.instances) == 5,
        "duplicate id",
    ),
    "region without id": (
        "/regions",
        _set("id", None, index=1),
        lambda p: p.region("icn") is not None,
        "region: id",
    ),
    "os with a negative id": (
        "/os",
        _set("id", -5, index=2),
        lambda p: p.instance_of("n1").os == "Ubuntu 22.04 LTS x64",
        "os: id",
    ),
    "cluster without id": (
        "/kubernetes/clusters",
        _drop("id"),
        lambda p: p.kubernetes_clusters == [] and len(p.instances) == 5,
        "kubernetes cluster: id",
    ),
    "load balancer with a port out of range in its health check": (
        "/load-balancers",
        lambda items: items[0]["health_check"].update(port=70000),
        lambda p: p.load_balancers[0].health_check is None and p.load_balancers[0].forwarding_rules,
        "health_check: port",
    ),
    "startup script without id": (
        "/startup-scripts",
        _drop("id"),
        lambda p: p.startup_scripts == [],
        "startup script: id",
    ),
    "block of an absurd size": (
        "/blocks",
        _set("size_gb", 1e15),
        lambda p: p.blocks == [] and p.account is not None,
        "size_gb",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_one_bad_item_of_each_list(vultr_api: FakeVultr, tmp_path: Path, case: str) -> None:
    path, change, still, named = CASES[case]
    items = copy.deepcopy(vultr_api.lists[path])
    change(items)
    vultr_api.lists[path] = items
    provider = collect(vultr_api, tmp_path)
    assert provider.error is None, provider.error
    assert still(provider)
    assert named in problem(provider, path)
    assert [p.endpoint for p in provider.problems] == [path]  # nothing else lost


def test_a_bad_node_pool_costs_only_itself(vultr_api: FakeVultr, tmp_path: Path) -> None:
    clusters = copy.deepcopy(vultr_api.lists["/kubernetes/clusters"])
    pools = clusters[0]["node_pools"]
    pools.append({**copy.deepcopy(pools[0]), "id": "np-broken", "max_nodes": -3})
    pools[-1]["min_nodes"] = {"not": "a number"}
    pools.append({"label": "no id"})
    vultr_api.lists["/kubernetes/clusters"] = clusters
    provider = collect(vultr_api, tmp_path)
    cluster = provider.kubernetes_clusters[0]
    kept = [p.id for p in cluster.node_pools]
    assert kept[0] == pools[0]["id"] and "np-broken" in kept  # bad optional numbers are empty
    assert len(kept) == 2
    assert "node_pool: id" in problem(provider, "/kubernetes/clusters")


def many_instances(count: int) -> Items:
    """``count`` small instances in icn, as the list would page them."""
    return [
        {"id": f"bulk{n:08d}-0000-4000-8000-000000000000", "region": "icn", "plan": "vc2-1c-1gb"}
        for n in range(count)
    ]


def test_an_account_over_the_bound_is_one_clear_error(vultr_api: FakeVultr, tmp_path: Path) -> None:
    """The snapshot holds 10,000 instances; paging (500 a page, 50 pages) would allow
    25,000. The bound is the model's, said with the endpoint, and paging stops there."""
    vultr_api.lists["/instances"] = many_instances(MAX_ITEMS + 1)
    provider = collect(vultr_api, tmp_path, deadline=60.0)  # the production deadline
    assert provider.error is not None
    assert (provider.error.kind, provider.error.endpoint) == ("too_many", "/instances")
    assert "10,000" in provider.error.message and "\n" not in provider.error.message
    assert provider.instances == [] and provider.account is not None  # the rest is kept
    assert provider.incomplete  # partial, as for other provider failures
    assert len(vultr_api.calls("/instances")) == MAX_ITEMS // 500 + 1  # not all 25,000
    view = api_status(provider)
    assert "/instances" in view.text and "10,000" in view.text


def test_an_account_at_the_bound_is_read(vultr_api: FakeVultr, tmp_path: Path) -> None:
    vultr_api.lists["/instances"] = many_instances(MAX_ITEMS)
    # The production deadline: 21 pages of 500 read on a loaded machine, not a speed test.
    provider = collect(vultr_api, tmp_path, deadline=60.0)
    assert provider.error is None and len(provider.instances) == MAX_ITEMS
    Snapshot.model_validate_json(as_json(provider))  # and the snapshot holds it


def test_a_side_list_over_its_bound_is_a_problem(vultr_api: FakeVultr, tmp_path: Path) -> None:
    bound = list_bound("/blocks")
    block = vultr_api.lists["/blocks"][0]
    vultr_api.lists["/blocks"] = [
        {**block, "id": f"bs{n:06d}-0000-4000-8000-000000000000"} for n in range(bound + 1)
    ]
    provider = collect(vultr_api, tmp_path)
    assert provider.error is None and len(provider.instances) == 5
    [too_many] = provider.problems
    assert (too_many.endpoint, too_many.kind) == ("/blocks", "too_many")
    assert f"{bound:,}" in too_many.message
