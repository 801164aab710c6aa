#!/usr/bin/env python3
"""Fleet collection over SSH: codeb-report against Ansible's fact gathering, side by side.

Starts 32 loopback OpenSSH servers (each its own sshd, host key and port; sshd's default
MaxStartups), then times whole processes, alternating the two tools, several runs each:

  codeb-report collect --config FLEET -q -o snapshot.json
  ansible all -i INVENTORY -m setup -f N          (ansible-core in its own venv)

for 1, 8 and 32 servers, and once more with 32 inventory entries all pointing at ONE
sshd, where MaxStartups (10:30:100) drops connections and retries must save them.
Every run is checked for completeness: a server lost counts as a failure of the run.
``--scale`` runs one case instead: 100 servers, entries spread over the 32 sshd (three or
four entries share each sshd, as in a fleet behind a few jump hosts).

Targets (issue 3): 8 servers < 1.5x the time of 1; at 32 servers >= 5x faster than
Ansible; none lost to MaxStartups. (issue 11, --scale): at 100 servers >= 8x faster than
Ansible, none lost.

``--against DIR`` (repeatable) also runs codeb-report from another checkout in each
round, before this one (every checkout byte-compiled, run as ``python -c`` with its
PYTHONPATH): a row per checkout, all against the same Ansible runs.

Usage (as root, after scripts/setup.sh --test):
  .venv/bin/python bench/collect_fleet.py [--runs 5] [--ansible-venv /tmp/bench-ansible]
  .venv/bin/python bench/collect_fleet.py --scale --runs 3 --login plain
  git worktree add --detach /tmp/before main && \
    .venv/bin/python bench/collect_fleet.py --scale --runs 5 --login plain --against /tmp/before
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.sshd import Sshd, SshdFactory  # noqa: E402

CODEB = ROOT / ".venv" / "bin" / "codeb-report"
CLI_CODE = "from codeb_report.cli import main; main()"
SIZES = (1, 8, 32)
SCALE = 100
PLAIN_USER = "codeb-bench"


def add_plain_user(work: Path) -> str:
    """A user whose login shell (/bin/sh = dash) reads no start-up files, removed at the end.

    Its password field matches no password, yet is not "locked" ("!" or "*"): sshd without
    PAM refuses locked accounts even for key logins.
    """
    home = work / "home"
    argv = ["useradd", "--system", "--shell", "/bin/sh", "--home-dir", str(home)]
    argv += ["--create-home", "--password", "no-password-login", PLAIN_USER]
    subprocess.run(argv, check=True)
    return PLAIN_USER


def remove_user(user: str) -> None:
    """userdel refuses while the user's last sessions are still ending: try for a while,
    else a leftover user makes the next run's useradd fail."""
    for _ in range(50):
        if subprocess.run(["userdel", "-r", user], capture_output=True).returncode in (0, 6):
            return  # 6: no such user
        time.sleep(0.2)
    print(f"could not remove the user {user}: remove it with userdel -r", file=sys.stderr)


def ensure_ansible(venv: Path) -> Path:
    """ansible-core in its own virtual environment, used by this benchmark only."""
    ansible = venv / "bin" / "ansible"
    if not ansible.exists():
        print(f"installing ansible-core into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "ansible-core"], check=True)
    return ansible


def write_codeb_config(
    path: Path, factory: SshdFactory, known: Path, servers: list[Sshd], user: str
) -> None:
    lines = [
        "[ssh]",
        f'known_hosts = "{known}"',
        f'config_file = "{path.parent / "no_ssh_config"}"',
        "use_agent = false",
        f"parallel = {len(servers)}",
    ]
    for i, sshd in enumerate(servers):
        lines += [
            "[[servers]]",
            f'name = "s{i:02d}"',
            'host = "127.0.0.1"',
            f"port = {sshd.port}",
            f'user = "{user}"',
            f'identity_file = "{factory.client_key.private}"',
        ]
    path.write_text("\n".join(lines) + "\n")


def write_inventory(
    path: Path, factory: SshdFactory, known: Path, servers: list[Sshd], user: str
) -> None:
    hosts = {
        f"s{i:02d}": {"ansible_host": "127.0.0.1", "ansible_port": sshd.port}
        for i, sshd in enumerate(servers)
    }
    inventory = {
        "all": {
            "hosts": hosts,
            "vars": {
                "ansible_user": user,
                "ansible_ssh_private_key_file": str(factory.client_key.private),
                "ansible_python_interpreter": "/usr/bin/python3",
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={known}",
            },
        }
    }
    path.write_text(json.dumps(inventory))  # YAML is a superset of JSON


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sshd_cpu(servers: list[Sshd]) -> float:
    """CPU seconds of the finished sessions of these sshd (the 'remote' side's work).

    Each sshd reaps its session processes, so their time lands in its cutime + cstime.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for sshd in {id(s): s for s in servers}.values():
        fields = Path(f"/proc/{sshd.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[13]) + int(fields[14])  # cutime, cstime
    return total / ticks


def maxstartups_drops(servers: list[Sshd]) -> int:
    """Connections these sshd dropped before their banner (MaxStartups), from their logs."""
    total = 0
    for sshd in {id(s): s for s in servers}.values():
        log = sshd.directory / "sshd.log"
        total += log.read_text(errors="replace").count("past MaxStartups") if log.exists() else 0
    return total


class Measure:
    """Wall time, CPU of the tool and its children, CPU of the sshd sessions, and the
    connections sshd dropped (MaxStartups) that the tool had to retry."""

    def __init__(self, servers: list[Sshd]) -> None:
        self.servers = servers

    def __enter__(self) -> Measure:
        self.wall, self.cpu, self.remote = (
            time.perf_counter(),
            children_cpu(),
            sshd_cpu(self.servers),
        )
        self.drops = maxstartups_drops(self.servers)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = children_cpu() - self.cpu

    def settle(self, cleanup: Callable[[], None] = lambda: None) -> None:
        """After ``cleanup`` (ending lingering sessions), count what the sshd spent.

        Reliable for codeb-report's sessions (0.085 s each, as measured one by one);
        Ansible's ControlMaster sessions of a non-root user are not all accounted to
        the listening sshd, so its figure is left out of the table.
        """
        cleanup()
        time.sleep(0.1)  # let sshd reap its last sessions
        self.remote = sshd_cpu(self.servers) - self.remote
        self.drops = maxstartups_drops(self.servers) - self.drops


def codeb_command(tree: Path | None) -> tuple[list[str], dict[str, str] | None]:
    """This checkout's installed command, or another checkout's package by PYTHONPATH."""
    if tree is None:
        return [str(CODEB)], None
    return [sys.executable, "-P", "-c", CLI_CODE], {**os.environ, "PYTHONPATH": str(tree)}


def run_codeb(
    config: Path, out: Path, servers: list[Sshd], tree: Path | None = None
) -> tuple[Measure, int]:
    argv, env = codeb_command(tree)
    with Measure(servers) as measure:
        done = subprocess.run(
            [*argv, "collect", "-q", "--config", str(config), "-o", str(out)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    measure.settle()
    if done.returncode not in (0, 4, 5) or not out.exists():
        raise SystemExit(f"codeb-report failed ({done.returncode}): {done.stderr.strip()}")
    if done.returncode == 5:
        errors = {s["error"] for s in json.loads(out.read_text())["servers"]}
        raise SystemExit(f"codeb-report collected no server: {sorted(errors)[:2]}")
    found = json.loads(out.read_text())["servers"]
    reached = sum(s["reachable"] for s in found)
    if reached != len(servers):
        errors = sorted({s["error"] for s in found if s["error"]})
        print(f"  codeb-report lost {len(servers) - reached}: {errors[:3]}", file=sys.stderr)
    return measure, reached


def run_ansible(
    ansible: Path, inventory: Path, servers: list[Sshd], work: Path
) -> tuple[Measure, int]:
    control_dir = Path(tempfile.mkdtemp(dir=work, prefix="cp"))
    env = {
        **os.environ,
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        # A cold run like codeb-report's: a fresh ControlMaster directory every time.
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir),
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
        "ANSIBLE_STDOUT_CALLBACK": "oneline",
    }
    argv = [str(ansible), "all", "-i", str(inventory), "-m", "setup", "-f", str(len(servers))]
    with Measure(servers) as measure:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    reached = done.stdout.count("| SUCCESS")

    def end_masters() -> None:  # the ControlPersist masters of this run, and their sessions
        for sock in control_dir.iterdir():
            subprocess.run(["ssh", "-O", "exit", "-S", str(sock), "x"], capture_output=True)

    measure.settle(end_masters)
    return measure, reached


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def codeb_figures(measures: list[Measure]) -> dict:
    return {
        "codeb_wall_s": median([m.wall for m in measures]),
        "codeb_cpu_s": median([m.cpu for m in measures]),
        "codeb_sshd_cpu_s": median([m.remote for m in measures]),
        "codeb_runs_s": [round(m.wall, 3) for m in measures],
        "codeb_drops": sum(m.drops for m in measures),
    }


def bench(
    name: str,
    servers: list[Sshd],
    factory: SshdFactory,
    known: Path,
    ansible: Path,
    work: Path,
    runs: int,
    user: str,
    against: list[Path] | None = None,
) -> dict:
    size = len(servers)
    config, inventory = work / f"{name}.toml", work / f"{name}.yml"
    write_codeb_config(config, factory, known, servers, user)
    write_inventory(inventory, factory, known, servers, user)
    others: dict[Path, tuple[list[Measure], list[int]]] = {t: ([], []) for t in against or []}
    codeb: list[Measure] = []
    ans: list[Measure] = []
    codeb_lost = ans_lost = 0
    for _ in range(runs):  # alternate, so that a busy moment hurts both alike
        for tree, (measures, lost) in others.items():
            measure, reached = run_codeb(config, work / "snapshot.json", servers, tree)
            measures.append(measure)
            lost.append(size - reached)
        # Beside other checkouts, this one is started the same way as they are.
        this = ROOT if others else None
        measure, reached = run_codeb(config, work / "snapshot.json", servers, this)
        codeb.append(measure)
        codeb_lost += size - reached
        measure, reached = run_ansible(ansible, inventory, servers, work)
        ans.append(measure)
        ans_lost += size - reached
    row = {
        "case": name,
        "servers": size,
        **codeb_figures(codeb),
        "ansible_wall_s": median([m.wall for m in ans]),
        "ansible_cpu_s": median([m.cpu for m in ans]),
        "ansible_runs_s": [round(m.wall, 3) for m in ans],
        "codeb_lost": codeb_lost,
        "ansible_lost": ans_lost,
        "ansible_drops": sum(m.drops for m in ans),
        "against": [
            {"tree": str(tree), **codeb_figures(measures), "codeb_lost": sum(lost)}
            for tree, (measures, lost) in others.items()
        ],
    }
    print(
        f"{name:>12}: codeb-report {row['codeb_wall_s']:.2f} s, "
        f"ansible {row['ansible_wall_s']:.2f} s (lost: {codeb_lost} / {ans_lost})",
        file=sys.stderr,
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ansible-venv", type=Path, default=Path("/tmp/bench-ansible"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--login",
        choices=("root", "plain"),
        default="root",
        help="root: log in as root (whose shell start-up files run on every exec); "
        f"plain: a throwaway user {PLAIN_USER} with /bin/sh, i.e. no start-up files",
    )
    parser.add_argument("--scale", action="store_true", help="only 100 servers on 32 sshd")
    parser.add_argument(
        "--against",
        type=Path,
        action="append",
        help="another checkout of codeb-report to run in each round (--scale only)",
    )
    args = parser.parse_args()
    if args.against and not args.scale:
        parser.error("--against goes with --scale")
    for tree in args.against or []:
        compileall.compile_dir(tree / "codeb_report", quiet=1)
    args.load_before = os.getloadavg()

    ansible = ensure_ansible(args.ansible_venv)
    work = Path(tempfile.mkdtemp(prefix="codeb-collect-bench-"))
    work.chmod(0o755)
    factory = SshdFactory(work / "sshd")
    user = "root" if args.login == "root" else add_plain_user(work)
    try:
        servers = [factory.start(f"s{i:02d}") for i in range(max(SIZES))]
        known = work / "known_hosts"
        known.write_text("".join(s.known_hosts_line() for s in servers))
        factory.client_key.private.parent.chmod(0o755)
        if args.scale:
            spread = [servers[i % len(servers)] for i in range(SCALE)]
            case = f"{SCALE} on {len(servers)} sshd"
            row = bench(case, spread, factory, known, ansible, work, args.runs, user, args.against)
            rows = [row]
            return report_scale(rows[0], args, user)
        rows = [
            bench(f"{n} servers", servers[:n], factory, known, ansible, work, args.runs, user)
            for n in SIZES
        ]
        crowded = [servers[0]] * 32  # 32 logins at once into one sshd: MaxStartups drops
        rows.append(bench("32 on 1 sshd", crowded, factory, known, ansible, work, args.runs, user))
    finally:
        factory.stop_all()
        if user != "root":
            remove_user(user)
        shutil.rmtree(work, ignore_errors=True)

    by = {r["case"]: r for r in rows}
    one, eight, many = by["1 servers"], by["8 servers"], by["32 servers"]
    summary = {
        "login": user,
        "runs": args.runs,
        "load_before": args.load_before,
        "load_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        "rows": rows,
        "codeb_8_over_1": eight["codeb_wall_s"] / one["codeb_wall_s"],
        "ansible_over_codeb_at_32": many["ansible_wall_s"] / many["codeb_wall_s"],
        "lost_to_maxstartups": by["32 on 1 sshd"]["codeb_lost"],
    }
    print(render(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    ok = (
        summary["codeb_8_over_1"] < 1.5
        and summary["ansible_over_codeb_at_32"] >= 5
        and all(r["codeb_lost"] == 0 for r in rows)
    )
    return 0 if ok else 1


def report_scale(row: dict, args: argparse.Namespace, user: str) -> int:
    summary = {
        "login": user,
        "runs": args.runs,
        "load_before": args.load_before,
        "load_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        "rows": [row],
        "ansible_over_codeb": row["ansible_wall_s"] / row["codeb_wall_s"],
    }
    print(render(summary))
    print(f"at {row['servers']} servers Ansible takes {summary['ansible_over_codeb']:.1f}x as long"
          f" (target >= 8x); lost: codeb-report {row['codeb_lost']} (target 0), "
          f"Ansible {row['ansible_lost']}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if summary["ansible_over_codeb"] >= 8 and row["codeb_lost"] == 0 else 1


def render(summary: dict) -> str:
    lines = [
        f"login {summary['login']}; medians of {summary['runs']} runs, whole processes, "
        f"{summary['cpus']} CPUs, load average {summary['load_before'][0]:.1f} before, "
        f"{summary['load_after'][0]:.1f} after",
        "",
        "| case | codeb-report | ansible -m setup | ansible / codeb-report "
        "| CPU codeb-report (itself / its sshd sessions) | CPU ansible (with its ssh) "
        "| lost (codeb / ansible) | MaxStartups drops, all runs (codeb / ansible) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["rows"]:
        versions = [{**row, **other, "case": f"{row['case']}, {other['tree']}"}
                    for other in row.get("against", [])]  # fmt: skip
        for r in [*versions, {**row, "case": row["case"] + (", this" if versions else "")}]:
            ratio = r["ansible_wall_s"] / r["codeb_wall_s"]
            lines.append(
                f"| {r['case']} | {r['codeb_wall_s']:.2f} s | {r['ansible_wall_s']:.2f} s | "
                f"{ratio:.1f}x | {r['codeb_cpu_s']:.2f} / {r['codeb_sshd_cpu_s']:.2f} s | "
                f"{r['ansible_cpu_s']:.2f} s | {r['codeb_lost']} / {r['ansible_lost']} | "
                f"{r['codeb_drops']} / {r['ansible_drops']} |"
            )
    if "codeb_8_over_1" not in summary:  # --scale: its own closing line
        for row in summary["rows"]:
            for r in [*row.get("against", []), row]:
                runs = " / ".join(f"{t:.2f}" for t in r["codeb_runs_s"])
                lines.append(f"codeb-report {r.get('tree', 'this checkout')}: runs {runs} s")
            runs = " / ".join(f"{t:.2f}" for t in row["ansible_runs_s"])
            lines.append(f"ansible: runs {runs} s")
        return "\n".join(lines)
    lines += [
        "",
        f"codeb-report, 8 servers / 1 server: {summary['codeb_8_over_1']:.2f}x (target < 1.5x)",
        f"at 32 servers Ansible takes {summary['ansible_over_codeb_at_32']:.1f}x as long"
        " (target >= 5x)",
        f"servers lost to MaxStartups (32 logins into one sshd): {summary['lost_to_maxstartups']}"
        " (target 0)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
