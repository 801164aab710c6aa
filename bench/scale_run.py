#!/usr/bin/env python3
"""The nightly run of a 1,000-server fleet to the PDF, as one whole process.

By default (issue 11's case): Debian's prometheus on loopback serves a synthetic fleet of
1,000 node_exporter targets with 30 days of history (bench/prometheus_collect.py's fleet,
turned into TSDB blocks by promtool), and the whole ``codeb-report run --config FLEET``
is timed: discovery and figures from Prometheus, 리소스 추세 and forecasts from its range
queries, analysis, and report.md, report.html and report.pdf in output/YYYY-MM-DD/.

``--snapshots``: without Prometheus, lays out 29 earlier nights of a generated
1,000-server fleet (tests/fleet_gen.py, the figures a monitoring system has: memory,
swap, disks, load, uptime; 5 % of the servers in trouble) as the nightly run stores
them (OUTPUT/YYYY-MM-DD/snapshot.json), then times a fresh process that does what
``codeb-report run`` does after collecting: analyse, read the 30-day history (changes
since yesterday, trends, disk forecasts) and write report.md, report.html and
report.pdf.

Target (issue 11): the whole 1,000-server run to PDF under 60 s and 1 GB.

Usage: .venv/bin/python bench/scale_run.py [--runs 3] [--servers 1000] [--days 30]
       .venv/bin/python bench/scale_run.py --snapshots
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
CODEB = ROOT / ".venv" / "bin" / "codeb-report"

import fleet_gen  # noqa: E402

from codeb_report.snapshot import save  # noqa: E402

NIGHT = """
import sys
from pathlib import Path
from codeb_report.analysis import analyse
from codeb_report.history.settings import TrendSettings
from codeb_report.nightly.stages import NightlyHistory
from codeb_report.snapshot import load

root, current, out = Path(sys.argv[1]), load(Path(sys.argv[2])), Path(sys.argv[3])
stages = NightlyHistory(root, analyse, trend_settings=TrendSettings(snapshots=int(sys.argv[4])))
analysis = stages.analyse(current)
assert stages.history is not None and len(stages.history.trends.times) == int(sys.argv[4])
stages.render(current, analysis, ["md", "html", "pdf"], out)
"""


def run_once(argv: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, float]:
    """Wall time, CPU time and peak RSS (MB) of one child process (wait4)."""
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
    ])  # fmt: skip
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in ok:
        raise SystemExit(f"bench: the night exited {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def pages(pdf: Path) -> str:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True)
    return next((ln.split()[-1] for ln in info.stdout.splitlines() if ln.startswith("Pages")), "?")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--snapshots", action="store_true", help="stored nights, no Prometheus")
    parser.add_argument("--pdf", type=Path, help="keep the first run's report.pdf here")
    args = parser.parse_args()
    return from_snapshots(args) if args.snapshots else from_prometheus(args)


def summary(samples: list[tuple[float, float, float]], pdf: Path) -> bool:
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    peak = max(s[2] for s in samples)
    runs = " ".join(f"{s[0]:.1f}" for s in samples)
    print(f"run to PDF: median {wall:.1f} s (runs {runs}), CPU {cpu:.1f} s, peak RSS "
          f"{peak:.0f} MB; PDF {pdf.stat().st_size // 1024} KB, {pages(pdf)} pages")  # fmt: skip
    ok = wall < 60 and peak < 1024
    print(f"target < 60 s and < 1 GB: {wall / 60:.2f} / {peak / 1024:.2f}",
          "met" if ok else "MISSED", f"(load average now {os.getloadavg()[0]:.2f})")  # fmt: skip
    return ok


def from_prometheus(args: argparse.Namespace) -> int:
    from prometheus_collect import fleet
    from servers.prometheus import load_openmetrics, start_prometheus, write_fleet

    with tempfile.TemporaryDirectory(prefix="codeb-scale-") as tmp:
        work = Path(tmp)
        write_fleet(work / "fleet.om", fleet(args.servers), time.time(), days=args.days + 1,
                    step=6 * 3600)  # fmt: skip
        load_openmetrics(work / "fleet.om", work / "data")
        (work / "fleet.om").unlink()
        server = start_prometheus(
            work / "prometheus", data=work / "data", extra_args=["--query.lookback-delta=1h"]
        )
        try:
            config = work / "fleet.toml"
            config.write_text(
                f'[prometheus]\nurl = "{server.url}"\nservers = \'up{{job="node"}}\'\n'
                f"scrape_interval = 600.0\nhistory_days = {args.days}\n"
                '[roles.app]\nlabel = "App Server"\n[roles.db]\nlabel = "DB Server"\n'
            )
            print(f"{args.servers} node_exporter targets x {args.days} days in Prometheus; "
                  f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
            samples = []
            for i in range(args.runs):
                out = work / f"output{i}"
                argv = [str(CODEB), "run", "-q", "--config", str(config), "--output-root", str(out)]
                samples.append(run_once(argv, ok=(0, 4)))
            pdf = next((work / "output0").glob("20*/report.pdf"))
            ok = summary(samples, pdf)
            if args.pdf:
                args.pdf.write_bytes(pdf.read_bytes())
        finally:
            server.stop()
    return 0 if ok else 1


def from_snapshots(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="codeb-scale-") as tmp:
        root = Path(tmp) / "output"
        today = fleet_gen.figures_only(fleet_gen.large_fleet(args.servers, trouble=0.05))
        for back in range(1, args.days):
            night = fleet_gen.day_before(today, back)
            folder = root / night.collected_at.date().isoformat()
            folder.mkdir(parents=True)  # save writes into a folder, never creates one
            save(night, folder / "snapshot.json")
        current = Path(tmp) / "today.json"
        save(today, current)
        size = current.stat().st_size // 1024
        print(f"{args.servers} servers, {args.days} nights ({size} KB a snapshot); "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
        out = Path(tmp) / "report"
        argv = [sys.executable, "-c", NIGHT, str(root), str(current), str(out), str(args.days)]
        samples = [run_once(argv) for _ in range(args.runs)]
        ok = summary(samples, out / "report.pdf")
        if args.pdf:
            args.pdf.write_bytes((out / "report.pdf").read_bytes())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
