"""Render benchmark (issues 2 and 11): whole processes, medians and peak memory, one run.

Measures, each as a fresh ``codeb-report`` process:
  * ``codeb-report --help``                        target < 0.3 s
  * rendering the example fleet to md, html, pdf   target (pdf) < 1.0 s
  * rendering a generated 100-server fleet to pdf  target < 10 s and < 300 MB; more than
    [report] detail_threshold (20) servers, so in the large-fleet shape (docs/scale.md)
  * the same fleet with every server detailed (detail_threshold = 1000), as before the
    large-fleet shape: issue 2's target < 20 s and < 400 MB
  * a 1,000-server fleet, 5 % in trouble (tests/fleet_gen.py), to pdf: no target of its
    own (bench/scale_run.py times the whole night)

    .venv/bin/python bench/render_bench.py            # default repetitions
    .venv/bin/python bench/render_bench.py --quick    # one run each, for a smoke test
    .venv/bin/python bench/render_bench.py --against /tmp/before   # side by side

--against DIR (repeatable) runs every case from each other checkout of codeb-report and
from this one alternately, run by run (each as ``python -P -c 'codeb_report.cli.main()'``
with PYTHONPATH set, all byte-compiled), and prints medians with CPU ratios to the first:
on a shared machine only such ratios compare two versions.

Peak memory is the highest sum of resident memory of the child process and its
descendants (the PDF printer's process), sampled from /proc every few milliseconds.
The machine's load average is printed too: other work on the machine slows every figure.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fleet-snapshot.json"
CLI = Path(sys.executable).parent / "codeb-report"


@dataclass
class Case:
    name: str
    argv: list[str]
    runs: int
    target_s: float | None = None
    target_mb: float | None = None


@dataclass
class Result:
    case: Case
    seconds: list[float]
    cpu: list[float]
    peak_mb: float


def run_once(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall time, CPU time (user + system) and peak RSS (MB) of one child process.

    CPU time is shown beside the wall time because it moves less when other work shares
    the machine; the targets are wall times. CPU time counts the PDF printer's process
    too (wait4 adds the children a process waited for). Peak memory is the highest sum
    of the resident memory of the child and its descendants (the printer), sampled every
    few milliseconds from /proc: memory both map (libraries) is counted twice, so the
    figure errs high; wait4's own maximum, of the largest single process, is also kept.
    """
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env or os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
    ])  # fmt: skip
    tree_peak = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        tree_peak = max(tree_peak, tree_rss(pid))
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    cpu = usage.ru_utime + usage.ru_stime
    largest = usage.ru_maxrss * 1024  # Linux reports kilobytes
    return elapsed, cpu, max(tree_peak, largest) / 2**20


PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants now (0 for those gone)."""
    total = 0
    pending = [pid]
    while pending:
        one = pending.pop()
        try:
            total += int(Path(f"/proc/{one}/statm").read_text().split()[1]) * PAGE
            children = Path(f"/proc/{one}/task/{one}/children").read_text().split()
        except (OSError, IndexError, ValueError):
            continue
        pending.extend(int(child) for child in children)
    return total


def measure(case: Case) -> Result:
    run_once(case.argv)  # warm the page cache and .pyc files; not counted
    samples = [run_once(case.argv) for _ in range(case.runs)]
    return Result(
        case, [s[0] for s in samples], [s[1] for s in samples], max(s[2] for s in samples)
    )


def cli_code(tree: Path) -> str:
    """How the tree's ``codeb-report`` command starts (codeb_report.entry where it has one)."""
    entry = "entry" if (tree / "codeb_report" / "entry.py").is_file() else "cli"
    return f"from codeb_report.{entry} import main; main()"


def side_by_side(cases: list[Case], trees: list[Path]) -> None:
    """Every case from each tree, alternating run by run (one warm-up each), medians."""
    print(f"{'case':<34} {'median':>8} {'cpu':>7} {'peak RSS':>9} {'cpu ratio':>9}  tree")
    for tree in trees:
        compileall.compile_dir(tree / "codeb_report", quiet=1)
    for case in cases:
        argvs = [[sys.executable, "-P", "-c", cli_code(tree), *case.argv[1:]] for tree in trees]
        envs = [{**os.environ, "PYTHONPATH": str(tree)} for tree in trees]
        for argv, env in zip(argvs, envs, strict=True):
            run_once(argv, env)
        samples: list[list[tuple[float, float, float]]] = [[] for _ in trees]
        for _ in range(case.runs):
            for argv, env, found in zip(argvs, envs, samples, strict=True):
                found.append(run_once(argv, env))
        first = statistics.median(s[1] for s in samples[0])
        for tree, found in zip(trees, samples, strict=True):
            cpu = statistics.median(s[1] for s in found)
            print(
                f"{case.name:<34} {statistics.median(s[0] for s in found):>7.3f}s "
                f"{cpu:>6.3f}s {max(s[2] for s in found):>6.0f} MB {cpu / first:>9.2f}  {tree}"
            )


def fleet_of(count: int, out: Path) -> Path:
    """The example's four servers, repeated as n1..n<count> with varied figures."""
    sys.path.insert(0, str(ROOT))
    from codeb_report.snapshot import load, save

    example = load(EXAMPLE)
    rng = random.Random(100)
    servers = []
    for i in range(count):
        base = example.servers[i % len(example.servers)]
        server = base.model_copy(deep=True)
        server.name = f"n{i + 1}"
        server.host = f"{base.host}-{i + 1}"
        server.address = f"192.0.2.{i % 250 + 1}"
        if server.memory is not None:
            server.memory.used = int(server.memory.total * rng.uniform(0.05, 0.95))
            server.memory.available = server.memory.total - server.memory.used
        for fs in server.filesystems:
            fs.used = int(fs.size * rng.uniform(0.05, 0.97))
            fs.available = fs.size - fs.used
        servers.append(server)
    path = out / f"fleet-{count}.json"
    save(example.model_copy(update={"servers": servers}), path)
    return path


def thousand(out: Path) -> Path:
    """Generated in a child process: wait4's peak memory of every later child would
    otherwise start from this process' own (a fork inherits its high-water mark)."""
    import subprocess

    path = out / "fleet-1000.json"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from fleet_gen import large_fleet; "
        "from codeb_report.snapshot import save; from pathlib import Path; "
        "save(large_fleet(1000, trouble=0.05), Path(sys.argv[2]))"
    )
    subprocess.run([sys.executable, "-c", code, str(ROOT / "tests"), str(path)], check=True)
    return path


def every_server_detailed(out: Path) -> Path:
    path = out / "detailed.toml"
    path.write_text(
        '[report]\ndetail_threshold = 1000\n[[servers]]\nname = "x"\nhost = "127.0.0.1"\n'
    )
    return path


def report(results: list[Result]) -> bool:
    print(f"{'case':<34} {'runs':>4} {'median':>8} {'min':>7} {'max':>7} {'cpu':>7} {'peak RSS':>9}"
          f"  {'target':<16} {'median/target':>13}")  # fmt: skip
    ok = True
    for r in results:
        median = statistics.median(r.seconds)
        target = []
        ratios = []
        if r.case.target_s is not None:
            target.append(f"<{r.case.target_s:g} s")
            ratios.append(f"{median / r.case.target_s:.2f}")
            ok &= median < r.case.target_s
        if r.case.target_mb is not None:
            target.append(f"<{r.case.target_mb:g} MB")
            ratios.append(f"{r.peak_mb / r.case.target_mb:.2f}")
            ok &= r.peak_mb < r.case.target_mb
        print(
            f"{r.case.name:<34} {len(r.seconds):>4} {median:>7.3f}s {min(r.seconds):>6.3f}s "
            f"{max(r.seconds):>6.3f}s {statistics.median(r.cpu):>6.3f}s {r.peak_mb:>6.0f} MB  "
            f"{', '.join(target) or '-':<16} "
            f"{' / '.join(ratios) or '-':>13}"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per case")
    parser.add_argument(
        "--against", type=Path, action="append", help="another checkout to time beside this one"
    )
    args = parser.parse_args()
    runs = 1 if args.quick else None
    load = os.getloadavg()
    print(f"codeb-report render benchmark: {os.cpu_count()} CPUs, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"python {sys.version.split()[0]}")  # fmt: skip
    # The sources byte-compiled, as an installed codeb-report (and scripts/setup.sh) has
    # them: with PYTHONDONTWRITEBYTECODE set, the warm-up run would not write them.
    compileall.compile_dir(ROOT / "codeb_report", quiet=1)
    with tempfile.TemporaryDirectory(prefix="codeb-bench-") as tmp:
        out = Path(tmp)
        big = fleet_of(100, out)
        cli = str(CLI)
        cases = [
            Case("codeb-report --help", [cli, "--help"], runs or 15, target_s=0.3),
            *(
                Case(f"render example -> {fmt}",
                     [cli, "render", str(EXAMPLE), "--format", fmt, "--out", str(out / fmt)],
                     runs or 7, target_s=1.0 if fmt == "pdf" else None)
                for fmt in ("md", "html", "pdf")
            ),
            Case("render 100-server fleet -> pdf",
                 [cli, "render", str(big), "--format", "pdf", "--out", str(out / "big")],
                 runs or 3, target_s=10, target_mb=300),
            Case("100 servers, all detailed -> pdf",
                 [cli, "render", str(big), "--config", str(every_server_detailed(out)),
                  "--format", "pdf", "--out", str(out / "detailed")],
                 runs or 3, target_s=20, target_mb=400),
            Case("render 1,000-server fleet -> pdf",
                 [cli, "render", str(thousand(out)), "--format", "pdf", "--out",
                  str(out / "k")], runs or 1),
        ]  # fmt: skip
        if args.against:
            side_by_side(cases, [*(tree.resolve() for tree in args.against), ROOT])
            return 0
        results = [measure(c) for c in cases]
        ok = report(results)
        for name, folder in (
            ("example", "pdf"),
            ("100-server", "big"),
            ("100 all detailed", "detailed"),
            ("1,000-server", "k"),
        ):
            pdf = out / folder / "report.pdf"
            size = pdf.stat().st_size / 1024
            print(f"{name} PDF: {size:.0f} KB, {_pages(pdf)} pages")
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def _pages(pdf: Path) -> str:
    import subprocess

    try:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return next(
        (line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages")), "?"
    )


if __name__ == "__main__":
    sys.exit(main())
