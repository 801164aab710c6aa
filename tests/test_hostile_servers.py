"""Servers that print too much or print escape sequences, against real sshd and the CLI.

One server cannot take down the run: past `[ssh] max_output_mib` a server's collection
stops with its reason and the collector's memory stays bounded; what a server prints can
neither forge a line of run.log nor reach the operator's terminal as an escape sequence.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from servers.sshd import Sshd, SshdFactory, fleet_config
from test_batch import ShellProbe

from codeb_report.analysis.reasons import connection_reason, probe_reason
from codeb_report.collect.batch import run_probes
from codeb_report.collect.runner import LocalRunner, OutputTooLarge
from codeb_report.snapshot import ProbeStatus, Server, load

MIB = 1024 * 1024
# Far past the 1 MiB limit the tests configure, yet finite: without a limit the collector
# holds it several times over (bytes, joined, decoded) instead of looping forever.
FLOOD_BYTES = 48 * MIB
FLOOD = f"head -c {FLOOD_BYTES} /dev/zero | tr '\\0' x"
# A line a server would like to see in run.log, and escape sequences that would retitle
# and clear the operator's terminal.
FORGED = "2026-11-29T06:30:00+09:00 INFO - run finished, exit code 0"
ESC_TITLE = "\x1b]0;owned\x07"
ESC_CLEAR = "\x1b[2J"


def _server() -> Server:
    return Server(name="n1", host="hostile-test", role="test", reachable=True)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_local_runner_stops_a_script_at_the_limit_and_kills_what_it_started(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "yes.pid"
    started = time.monotonic()
    with pytest.raises(OutputTooLarge, match="more than 1 MiB"):
        LocalRunner(max_output=MIB).run(f"yes & echo $! > {pid_file}; wait", timeout=30)
    assert time.monotonic() - started < 30  # by the limit, not the timeout (however loaded)
    # `yes` ran in the script's process group, which is stopped with the script.
    pid = int(pid_file.read_text())
    until = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < until:
        time.sleep(0.05)
    assert not _alive(pid)


def test_stderr_counts_towards_the_limit() -> None:
    with pytest.raises(OutputTooLarge):
        LocalRunner(max_output=MIB).run(f"{FLOOD} >&2", timeout=30)


def test_output_under_the_limit_is_read_whole() -> None:
    result = LocalRunner(max_output=MIB).run("head -c 1000000 /dev/zero | tr '\\0' y", 30)
    assert (len(result.stdout), set(result.stdout), result.exit_code) == (1000000, {"y"}, 0)


def test_a_probe_printing_too_much_fails_every_probe_of_its_server_with_the_reason() -> None:
    server = _server()
    probes = [ShellProbe("first", "echo fine"), ShellProbe("flood", FLOOD)]
    run_probes(LocalRunner(max_output=MIB), probes, server, timeout=30)
    assert [(p.status, p.reason) for p in server.probes] == [
        (ProbeStatus.FAILED, "output too large: more than 1 MiB")
    ] * 2
    assert probes[0].stored is None  # output cut at an arbitrary place is not trusted
    reason = probe_reason(server.probes[0].reason)
    assert reason is not None and reason.short == "출력 크기 초과 (1MiB 넘음)"


# -- a fleet of real sshd servers, collected by the CLI in its own process ------------------


def _fake_df(base: Path) -> Path:
    """A folder whose `df` never stops talking (48 MiB on one line)."""
    bin_dir = base / "flood-bin"
    bin_dir.mkdir(exist_ok=True)
    df = bin_dir / "df"
    df.write_text(f"#!/bin/sh\n{FLOOD}\n")
    df.chmod(0o755)
    return bin_dir


@pytest.fixture(scope="module")
def hostile(sshd_factory: SshdFactory) -> dict[str, Sshd]:
    bin_dir = _fake_df(sshd_factory.base)
    stderr_text = f"boom\\n{FORGED}\\n{ESC_TITLE}{ESC_CLEAR}".replace("\x1b", "\\033")
    stderr_text = stderr_text.replace("\x07", "\\007")
    return {
        "good": sshd_factory.start("hostile-good"),
        # Its login prints far too much before any probe runs.
        "chatty": sshd_factory.start("hostile-chatty", extra=f"ForceCommand {FLOOD}\n"),
        # Its probes run, with a PATH whose df floods.
        "flooding-df": sshd_factory.start(
            "hostile-df",
            extra=f'ForceCommand PATH={bin_dir}:$PATH; eval "$SSH_ORIGINAL_COMMAND"\n',
        ),
        # Logs in, prints no probe output, only a forged log line and escape sequences.
        "forger": sshd_factory.start(
            "hostile-forger", extra=f"ForceCommand printf '{stderr_text}' >&2; exit 1\n"
        ),
    }


def _config(factory: SshdFactory, servers: dict[str, Sshd], names: list[str], path: Path) -> Path:
    chosen = {name: servers[name] for name in names}
    return fleet_config(factory, chosen, path, ssh="max_output_mib = 1\ndeadline = 60\n")


# The child's own high-water mark (VmHWM, kB), written at exit: unlike wait4's ru_maxrss
# it does not include the memory of the test process the child was forked from.
MEASURED_MAIN = """
import atexit, os, re
def _peak():
    status = open("/proc/self/status").read()
    with open(os.environ["PEAK_FILE"], "w") as f:
        f.write(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
atexit.register(_peak)
from codeb_report.cli import main
main()
"""


def _run_measured(args: list[str], cwd: Path) -> tuple[int, str, str, int]:
    """The CLI in a child process: exit code, stdout, stderr and its peak memory (bytes)."""
    peak_file = cwd / "peak.txt"
    env = {**os.environ, "HOME": str(cwd), "PEAK_FILE": str(peak_file)}
    done = subprocess.run(
        [sys.executable, "-c", MEASURED_MAIN, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr, int(peak_file.read_text()) * 1024


def test_servers_printing_too_much_fail_alone_and_memory_stays_bounded(
    sshd_factory: SshdFactory, hostile: dict[str, Sshd], tmp_path: Path
) -> None:
    names = ["good", "chatty", "flooding-df"]
    config = _config(sshd_factory, hostile, names, tmp_path / "fleet.toml")
    out = tmp_path / "snapshot.json"
    code, _, stderr, peak = _run_measured(
        ["collect", "--config", str(config), "-o", str(out)], tmp_path
    )
    snapshot = load(out)
    assert code == 4, stderr
    good = snapshot.server("good")
    assert good is not None and good.reachable and good.memory is not None
    assert good.filesystems  # the real df, not the flooding one
    for name in ("chatty", "flooding-df"):
        server = snapshot.server(name)
        assert server is not None and not server.reachable
        assert server.error == (
            "출력 초과: the probes printed more than 1 MiB (limit: [ssh] max_output_mib)"
        )
        assert connection_reason(server.error).short == "출력 크기 초과 (1MiB 넘음)"
        assert f"ERROR {name} unreachable: 출력 초과" in stderr
    # Without the limit one server printing 48 MiB took the collector to 199 MiB (it held
    # the bytes, their join and the decoded text); with it, 58 MiB for this whole fleet.
    assert peak < 120 * MIB, f"peak memory {peak / MIB:.0f} MiB"


def _assert_no_forgery(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text
    assert not re.search(r"^\S+ INFO - run finished, exit code 0$", text, re.M)
    assert "boom\\n2026-11-29T06:30:00+09:00 INFO - run finished" in text
    assert "\\x1b]0;owned\\x07\\x1b[2J" in text


def test_a_servers_stderr_cannot_forge_a_log_line_nor_reach_the_terminal(
    sshd_factory: SshdFactory, hostile: dict[str, Sshd], tmp_path: Path
) -> None:
    config = _config(sshd_factory, hostile, ["good", "forger"], tmp_path / "fleet.toml")
    root = tmp_path / "output"
    code, _, stderr, _ = _run_measured(
        ["run", "--config", str(config), "--output-root", str(root)], tmp_path
    )
    assert code == 4, stderr
    run_log = (root / "latest" / "run.log").read_text()
    _assert_no_forgery(stderr)
    _assert_no_forgery(run_log)
    # Every line of the log is one event: time, level, server, message.
    assert all(re.match(r"^\S+ (INFO|WARNING|ERROR) \S+ ", line) for line in run_log.splitlines())
    report = (root / "latest" / "report.md").read_text()
    assert "\x1b" not in report and "x1b]0;owned" in report
    # collect prints each failed server on stderr as it happens.
    code, _, stderr, _ = _run_measured(
        ["collect", "--config", str(config), "-o", str(tmp_path / "s.json")], tmp_path
    )
    assert code == 4, stderr
    _assert_no_forgery(stderr)
