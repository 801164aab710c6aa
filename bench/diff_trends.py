#!/usr/bin/env python3
"""Diff and trends at fleet scale: whole processes, medians, against the issue's targets.

Lays out a generated history (tests/history_gen.py) of 100 servers x 90 days as the nightly
run stores it (OUTPUT/YYYY-MM-DD/snapshot.json), then times whole processes:

  diff      codeb-report diff DAY88 DAY89 --format json     (two 100-server snapshots)
  diff-md   the same diff as Markdown (kept at 0.3-0.5 s, issue 9)
  diff-pdf  the same diff as a PDF file (kept at 3-5 s, issue 9)
  trends    the nightly history sections with N=90: load 89 stored snapshots, diff against
            the latest, analyse for days open, fit every filesystem, draw 200 SVG charts
            and the section's Markdown
  baseline  python -c "import codeb_report.cli"              (interpreter + CLI start)

Targets (issue 5): diff < 1 s; trends < 5 s (medians of wall time; CPU time is shown too,
as the wall time of a shared, busy host says more about the host than the code).

Usage: .venv/bin/python bench/diff_trends.py [--runs 5] [--servers 100] [--days 90]
       .venv/bin/python bench/diff_trends.py --against /tmp/main-checkout

--against DIR (repeatable) times the diff rows of other checkouts of codeb-report (e.g.
the commit before a change) alternately with this one on the same history, each as
`python -c 'codeb_report.cli.main()'` with PYTHONPATH set, and prints CPU ratios to the
first. --v1 stores the history as schema_version 1 (what a checkout from before version 2
reads; this one migrates it as it would a stored v1 history).
"""

from __future__ import annotations

import argparse
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

import history_gen as gen  # noqa: E402

CODEB = ROOT / ".venv" / "bin" / "codeb-report"

TRENDS = """
import sys
from pathlib import Path
from codeb_report.analysis import analyse
from codeb_report.nightly.stages import NightlyHistory
from codeb_report.history.settings import TrendSettings
from codeb_report.render.templates import markdown_env
from codeb_report.snapshot import load

root, current = Path(sys.argv[1]), load(Path(sys.argv[2]))
stages = NightlyHistory(root, analyse, trend_settings=TrendSettings(snapshots=int(sys.argv[3])))
stages.analyse(current)
history = stages.history
markdown = markdown_env().get_template("diff_history.md.j2").render(history=history)
html = history.charts_html
assert len(history.trends.times) == int(sys.argv[3]), len(history.trends.times)
assert html.count("<svg") == 2 * len(history.trends.servers), "charts missing"
print(len(markdown), len(html), len(history.forecasts), file=sys.stderr)
"""


def as_v1(data: dict) -> dict:
    """Version 2 added optional parts, all unset (null) in the generated history, and port
    ranges, which version 1 wrote one mapping per port."""
    data = _without_nulls(data)
    for server in data["servers"]:
        for container in server.get("containers", []):
            container["ports"] = [one for run in container["ports"] for one in _ports(run)]
    return {**data, "schema_version": 1}


def _ports(run: dict) -> list[dict]:
    first = {k: v for k, v in run.items() if k != "range"}
    ports = []
    for i in range(run.get("range", 1)):
        one = {**first, "container_port": first["container_port"] + i}
        if "host_port" in first:  # none when unpublished (its null dropped above)
            one["host_port"] = first["host_port"] + i
        ports.append(one)
    return ports


def _without_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    cmd: list[str], ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process (CPU shows the cost when the host is busy)."""
    start, cpu = time.perf_counter(), _cpu()
    run = subprocess.run(cmd, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    if run.returncode not in ok:
        sys.exit(f"{cmd[:3]} failed ({run.returncode}): {run.stderr.decode()[-500:]}")
    return elapsed, _cpu() - cpu


def median(cmd: list[str], runs: int, ok: tuple[int, ...] = (0,)) -> tuple[float, float, list]:
    times = [timed(cmd, ok) for _ in range(runs)]
    return (
        statistics.median(t for t, _ in times),
        statistics.median(c for _, c in times),
        [t for t, _ in times],
    )


CLI = "import sys; from codeb_report.cli import main; sys.argv[0] = 'codeb-report'; main()"


def side_by_side(name: str, args: list[str], trees: list[Path], runs: int) -> None:
    """The same codeb-report command from each tree, alternating run by run, medians."""
    cmd = [sys.executable, "-P", "-c", CLI, *args]  # -P: not the current folder first
    envs = [{**os.environ, "PYTHONPATH": str(tree)} for tree in trees]
    times: list[list[tuple[float, float]]] = [[] for _ in trees]
    for _ in range(runs):
        for env, found in zip(envs, times, strict=True):
            found.append(timed(cmd, (0, 1), env))
    cpus = [statistics.median(c for _, c in found) for found in times]
    for tree, found, cpu in zip(trees, times, cpus, strict=True):
        wall = statistics.median(t for t, _ in found)
        ratio = cpu / cpus[0]
        print(f"{name:<10} {wall:>7.2f} {cpu:>6.2f} {ratio:>9.2f}  {tree}")


def compare(paths: list[Path], pdf: str, against: list[Path], runs: int) -> None:
    old, new = str(paths[-3]), str(paths[-2])
    print(f"{'what':<10} {'wall s':>7} {'cpu s':>6} {'cpu ratio':>9}  tree")
    for name, extra in (("diff-md", ["-f", "md"]), ("diff-pdf", ["-f", "pdf", "-o", pdf])):
        side_by_side(name, ["diff", old, new, *extra], [*against, ROOT], runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--servers", type=int, default=100)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument(
        "--against", type=Path, action="append", help="another checkout to time beside this one"
    )
    parser.add_argument("--v1", action="store_true", help="store the history as schema 1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="codeb-bench-") as tmp:
        root = Path(tmp) / "output"
        paths = gen.write_history(root, days=args.days, servers=args.servers)
        if args.v1:
            for path in paths:
                path.write_text(json.dumps(as_v1(json.loads(path.read_text()))))
        current = Path(tmp) / "today.json"
        current.write_bytes(paths[-1].read_bytes())
        paths[-1].unlink()
        paths[-1].parent.rmdir()  # today's folder appears only once the run publishes it
        size_kb = paths[0].stat().st_size // 1024
        pdf = str(Path(tmp) / "diff.pdf")
        print(f"history: {args.days} days x {args.servers} servers, {size_kb} KB a snapshot")
        rows = [
            ("baseline", [sys.executable, "-c", "import codeb_report.cli"], (0,), None),
            (
                "diff",
                [str(CODEB), "diff", str(paths[-3]), str(paths[-2]), "-f", "json"],
                (0, 1),
                1.0,
            ),
            (
                "diff-md",
                [str(CODEB), "diff", str(paths[-3]), str(paths[-2]), "-f", "md"],
                (0, 1),
                0.5,
            ),
            (
                "diff-pdf",
                [str(CODEB), "diff", str(paths[-3]), str(paths[-2]), "-f", "pdf", "-o", pdf],
                (0, 1),
                5.0,
            ),
            (
                "trends",
                [sys.executable, "-c", TRENDS, str(root), str(current), str(args.days)],
                (0,),
                5.0,
            ),
        ]
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        if args.against:
            compare(paths, pdf, [tree.resolve() for tree in args.against], args.runs)
            return
        print(f"{'what':<10} {'wall s':>7} {'cpu s':>6} {'target s':>9} {'ratio':>6}  wall runs")
        for name, cmd, ok, target in rows:
            wall, cpu, times = median(cmd, args.runs, ok)
            ratio = f"{wall / target:.2f}" if target else "-"
            shown = f"{target:.1f}" if target else "-"
            runs = " ".join(f"{t:.2f}" for t in times)
            print(f"{name:<10} {wall:>7.2f} {cpu:>6.2f} {shown:>9} {ratio:>6}  {runs}")


if __name__ == "__main__":
    main()
