#!/usr/bin/env python3
"""The provider view's cost in wall time: a four-server fleet collected with and without
a 500-instance Vultr account, side by side in one run.

Starts four loopback OpenSSH servers and the fake Vultr API (tests/servers/vultr.py) with
500 instances, served 250 per page (two pages), every answer delayed by ``--api-delay``
seconds to stand in for the distance to the real API. Then times whole processes,
alternating the two cases, ``--runs`` times each:

  codeb-report collect --config fleet.toml -q -o snapshot.json           (fleet alone)
  codeb-report collect --config fleet+vultr.toml -q -o snapshot.json     (fleet + account)

Every run is checked: four servers reached, and with the account 500 instances, four
matched. Target (issue 8): the account adds under 10 % to the median wall time.

Usage (as root, after scripts/setup.sh --test):
  .venv/bin/python bench/provider_collect.py [--runs 7] [--api-delay 0.05]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.sshd import SshdFactory  # noqa: E402
from servers.vultr import TEST_KEY, FakeVultr, serve  # noqa: E402

CODEB = ROOT / ".venv" / "bin" / "codeb-report"
NAMES = ("n1", "n2", "n3", "n4")
INSTANCES = 500
PAGE = 250
TARGET = 1.10


def account() -> FakeVultr:
    api = FakeVultr(max_per_page=PAGE)
    template = api.lists["/instances"][0]
    instances = []
    for n in range(INSTANCES):
        item = copy.deepcopy(template)
        item["id"] = f"bench{n:05d}-0000-4000-8000-000000000000"
        item["label"] = NAMES[n] if n < len(NAMES) else f"other-{n}"
        item["main_ip"] = f"198.51.{n // 250}.{n % 250 + 1}"
        instances.append(item)
    api.lists["/instances"] = instances
    return api


def write_config(path: Path, factory: SshdFactory, known: Path, ports: list[int], url: str | None):
    lines = [
        "[ssh]",
        f'known_hosts = "{known}"',
        f'config_file = "{path.parent / "no_ssh_config"}"',
        "use_agent = false",
    ]
    if url:
        lines += ["[vultr]", f'base_url = "{url}"', "deadline = 30"]
    for name, port in zip(NAMES, ports, strict=True):
        lines += [
            "[[servers]]",
            f'name = "{name}"',
            'host = "127.0.0.1"',
            f"port = {port}",
            'user = "root"',
            f'identity_file = "{factory.client_key.private}"',
        ]
    path.write_text("\n".join(lines) + "\n")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def once(config: Path, out: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one collect process."""
    cpu = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [str(CODEB), "collect", "--config", str(config), "-q", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 4):
        raise SystemExit(f"collect failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, children_cpu() - cpu


def check(out: Path, with_account: bool) -> float | None:
    data = json.loads(out.read_text())
    reached = [s["name"] for s in data["servers"] if s["reachable"]]
    if reached != list(NAMES):
        raise SystemExit(f"servers lost: reached only {reached}")
    provider = data.get("provider")
    if not with_account:
        return None
    if provider is None or provider["error"] is not None:
        raise SystemExit(f"account not read: {provider and provider['error']}")
    matched = [i for i in provider["instances"] if i["server"]]
    if len(provider["instances"]) != INSTANCES or len(matched) != len(NAMES):
        raise SystemExit(f"{len(provider['instances'])} instances, {len(matched)} matched")
    return provider["duration_seconds"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--api-delay", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-provider-") as tmp:
        work = Path(tmp)
        factory = SshdFactory(work / "sshd")
        api, server = serve(account())
        delay = args.api_delay
        original = api.answer

        def slow(path, query, auth):
            time.sleep(delay)
            return original(path, query, auth)

        api.answer = slow  # type: ignore[method-assign]
        try:
            sshds = [factory.start(f"bench-{name}") for name in NAMES]
            known = work / "known_hosts"
            known.write_text("".join(s.known_hosts_line() for s in sshds))
            ports = [s.port for s in sshds]
            alone, with_api = work / "fleet.toml", work / "fleet+vultr.toml"
            write_config(alone, factory, known, ports, None)
            write_config(with_api, factory, known, ports, api.base_url)
            env = {k: v for k, v in os.environ.items() if not k.startswith("VULTR")}
            env.update({"HOME": str(work), "VULTR_API_KEY": TEST_KEY})
            times: dict[str, list[float]] = {"fleet": [], "fleet+account": []}
            cpus: dict[str, list[float]] = {"fleet": [], "fleet+account": []}
            api_seconds: list[float] = []
            once(alone, work / "warm.json", env)  # warm-up, not measured
            for _ in range(args.runs):
                for case, config in (("fleet", alone), ("fleet+account", with_api)):
                    out = work / f"{case}.json"
                    wall, cpu = once(config, out, env)
                    times[case].append(wall)
                    cpus[case].append(cpu)
                    seconds = check(out, case == "fleet+account")
                    if seconds is not None:
                        api_seconds.append(seconds)
            requests = len(api.requests)
        finally:
            server.shutdown()
            factory.stop_all()
    base = statistics.median(times["fleet"])
    both = statistics.median(times["fleet+account"])
    load = os.getloadavg()[0]
    print(f"runs: {args.runs} each, alternating; API delay {delay * 1000:.0f} ms per answer")
    print(f"load average at the end: {load:.2f}")
    print("| case | median wall | min | max | median CPU (collect process) |")
    print("|------|-------:|----:|----:|----:|")
    for case, values in times.items():
        print(
            f"| {case} | {statistics.median(values):.3f} s | {min(values):.3f} s "
            f"| {max(values):.3f} s | {statistics.median(cpus[case]):.3f} s |"
        )
    print(f"account read in (median, inside the run): {statistics.median(api_seconds):.3f} s")
    print(f"API requests over all runs: {requests}")
    ratio = both / base
    print(f"ratio fleet+account / fleet: {ratio:.3f} (target < {TARGET:.2f})")
    return 0 if ratio < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
