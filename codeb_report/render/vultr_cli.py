"""vultr-cli v3 commands, built from the account's values, in the forms v3 accepts.

The 2025-12-20 report printed commands v3 refuses (JSON for ``--node-pools`` and
``--forwarding-rules``, autoscaler flags on ``kubernetes create``). Every command the
report or ``scale-out.sh`` prints is built here, so their form is written once:
``--node-pools`` is ``key:value`` pairs joined by ``,`` (pools by ``/``), forwarding rules
likewise (rules by ``-``), ``--auto-scaler`` is a switch without a value, and a new
instance is polled with ``instance get`` until it is active. ``<NAME>`` marks a value
that does not exist yet (the id of an instance about to be created).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

# Safe to print unquoted: ids, plan and region names, labels built from them.
_PLAIN = re.compile(r"^[A-Za-z0-9_.:/,+=@%-]+$")
PLACEHOLDER = re.compile(r"^<[A-Z][A-Z0-9_]*>$")


@dataclass(frozen=True)
class Command:
    """One vultr-cli invocation: its words, without the shell's quoting."""

    words: tuple[str, ...]

    def line(self) -> str:
        return " ".join(quote(w) for w in self.words)

    def wrapped(self, indent: str = "  ") -> str:
        """Over several lines, one flag and its value a line, as a reader copies it."""
        head: list[str] = []
        rest: list[list[str]] = []
        for word in self.words:
            if word.startswith("-"):
                rest.append([word])
            elif rest:
                rest[-1].append(word)
            else:
                head.append(word)
        lines = [" ".join(quote(w) for w in head)]
        lines += [indent + " ".join(quote(w) for w in group) for group in rest]
        return " \\\n".join(lines) if len(rest) > 2 else self.line()


def quote(word: str) -> str:
    if PLACEHOLDER.match(word) or _PLAIN.match(word):
        return word
    return shlex.quote(word)


def _cli(*words: str | int) -> Command:
    return Command(("vultr-cli", *(str(w) for w in words)))


def instance_create(
    region: str,
    plan: str,
    os_id: int | str,
    label: str,
    script_id: str | None = None,
    tags: list[str] | None = None,
    json: bool = True,
) -> Command:
    words: list[str | int] = ["instance", "create", "--region", region, "--plan", plan]
    words += ["--os", os_id]
    if script_id:
        words += ["--script-id", script_id]
    words += ["--label", label]
    if tags:
        words += ["--tags", ",".join(tags)]
    if json:
        words += ["-o", "json"]
    return _cli(*words)


def instance_get(instance_id: str, json: bool = True) -> Command:
    return _cli("instance", "get", instance_id, *(("-o", "json") if json else ()))


def instance_delete(instance_id: str) -> Command:
    return _cli("instance", "delete", instance_id)


def kubernetes_versions() -> Command:
    return _cli("kubernetes", "versions")


@dataclass(frozen=True)
class Pool:
    """A node pool as ``--node-pools`` takes it, autoscaler range included."""

    label: str
    plan: str
    quantity: int
    min_nodes: int
    max_nodes: int

    def spec(self) -> str:
        return (
            f"quantity:{self.quantity},plan:{self.plan},label:{self.label},"
            f"auto-scaler:true,min-nodes:{self.min_nodes},max-nodes:{self.max_nodes}"
        )


def kubernetes_create(label: str, region: str, version: str, pools: list[Pool]) -> Command:
    node_pools = "/".join(p.spec() for p in pools)
    return _cli(
        "kubernetes", "create", "--label", label, "--region", region,
        "--version", version, "--node-pools", node_pools,
    )  # fmt: skip


def node_pool_create(cluster_id: str, pool: Pool) -> Command:
    return _cli(
        "kubernetes", "node-pool", "create", cluster_id, "--label", pool.label,
        "--plan", pool.plan, "--quantity", pool.quantity, "--auto-scaler",
        "--min-nodes", pool.min_nodes, "--max-nodes", pool.max_nodes,
    )  # fmt: skip


def node_pool_autoscale(cluster_id: str, pool_id: str, min_nodes: int, max_nodes: int) -> Command:
    return _cli(
        "kubernetes", "node-pool", "update", cluster_id, pool_id, "--auto-scaler",
        "--min-nodes", min_nodes, "--max-nodes", max_nodes,
    )  # fmt: skip


@dataclass(frozen=True)
class Rule:
    frontend_protocol: str
    frontend_port: int
    backend_protocol: str
    backend_port: int

    def spec(self) -> str:
        return (
            f"frontend_port:{self.frontend_port},frontend_protocol:{self.frontend_protocol},"
            f"backend_port:{self.backend_port},backend_protocol:{self.backend_protocol}"
        )


def load_balancer_create(
    region: str, label: str, rules: list[Rule], instances: list[str], health_port: int
) -> Command:
    words: list[str | int] = ["load-balancer", "create", "--region", region, "--label", label]
    words += ["--forwarding-rules", "-".join(r.spec() for r in rules)]
    words += ["--protocol", "http", "--port", health_port, "--path", "/"]
    if instances:
        words += ["--instances", ",".join(instances)]
    return _cli(*words)


def load_balancer_attach(lb_id: str, instances: list[str]) -> Command:
    """``--instances`` replaces the attached list: it names the current ones and the new."""
    return _cli("load-balancer", "update", lb_id, "--instances", ",".join(instances))
