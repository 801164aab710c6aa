"""A server printing a 1 MB hostname and a 1 MB container name, against real sshd and
the CLI: its probes that read them fail naming the field and the limit, everything else
of the fleet is collected whole, and the snapshot and report stay small."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers.sshd import Sshd, SshdFactory, fleet_config

from codeb_report.bounds import HOSTNAME_MAX, NAME_MAX
from codeb_report.snapshot import ProbeStatus, load

HUGE = 1_000_000  # characters: far past every bound, well within max_output_mib (8)

# The system probe's `head` of the kernel's files prints a 1 MB hostname (the kernel
# allows 64 bytes; a broken or hostile server may print anything); other heads are real.
FAKE_HEAD = f"""#!/bin/sh
case $3 in /proc/sys/kernel/hostname) ;; *) exec /usr/bin/head "$@" ;; esac
echo '==> /proc/sys/kernel/hostname <=='
/usr/bin/head -c {HUGE} /dev/zero | tr '\\0' h; echo
"""
# `docker ps` lists one container with a 1 MB name and one ordinary one; inspect: nothing.
FAKE_DOCKER = f"""#!/bin/sh
[ "$1" = ps ] || exit 0
printf '{{"ID":"aa11","Image":"busybox:1.35","State":"running","Status":"Up 2 hours","Names":"'
head -c {HUGE} /dev/zero | tr '\\0' c
printf '"}}\\n'
printf '%s\\n' '{{"ID":"bb22","Image":"busybox:1.35","State":"running","Names":"codeb-web"}}'
"""


def _fake_bin(base: Path) -> Path:
    bin_dir = base / "long-names-bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in (("head", FAKE_HEAD), ("docker", FAKE_DOCKER)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


@pytest.fixture(scope="module")
def fleet(sshd_factory: SshdFactory) -> dict[str, Sshd]:
    bin_dir = _fake_bin(sshd_factory.base)
    command = (
        f"ForceCommand DOCKER_HOST=unix:///nonexistent PATH={bin_dir}:$PATH;"
        ' export DOCKER_HOST PATH; eval "$SSH_ORIGINAL_COMMAND"\n'
    )
    return {
        "good": sshd_factory.start("bounds-good"),
        "long": sshd_factory.start("bounds-long-names", extra=command),
    }


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from codeb_report.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(cwd)},
        check=False,
        timeout=120,
    )


def test_huge_names_fail_their_probes_alone_and_the_report_stays_small(
    sshd_factory: SshdFactory, fleet: dict[str, Sshd], tmp_path: Path
) -> None:
    config = fleet_config(sshd_factory, fleet, tmp_path / "fleet.toml")
    out = tmp_path / "snapshot.json"
    done = _cli(["collect", "--config", str(config), "-o", str(out)], tmp_path)
    assert done.returncode == 4, done.stderr  # partial: two probes failed
    assert out.stat().st_size < 200_000
    snapshot = load(out)

    good = snapshot.server("good")
    assert good is not None and good.reachable and good.error is None
    assert good.system is not None and good.memory is not None and good.filesystems
    # This machine's own docker has no daemon to ask (or is not installed).
    failed = [p for p in good.probes if p.status is ProbeStatus.FAILED and p.probe != "docker"]
    assert failed == []

    long = snapshot.server("long")
    assert long is not None and long.reachable
    outcomes = {p.probe: p for p in long.probes}
    system, docker = outcomes["system"], outcomes["docker"]
    assert system.status is ProbeStatus.FAILED and docker.status is ProbeStatus.FAILED
    assert system.reason == (
        f"unreadable output: SystemInfo.hostname: String should have at most "
        f"{HOSTNAME_MAX} characters"
    )
    assert docker.reason == (
        f"unreadable output: Container.name: String should have at most {NAME_MAX} characters"
    )
    # The other probes of that server are whole.
    assert outcomes["memory"].status is ProbeStatus.OK and long.memory is not None
    assert outcomes["filesystems"].status is ProbeStatus.OK and long.filesystems
    assert long.system is None and long.containers == []

    report = tmp_path / "report"
    done = _cli(["render", str(out), "--format", "md,html", "--out", str(report)], tmp_path)
    assert done.returncode == 0, done.stderr
    markdown = (report / "report.md").read_text()
    assert len(markdown.encode()) < 100_000
    assert "hhhhhhhhhhhhhhhhhhhh" not in markdown and "cccccccccccccccccccc" not in markdown
    assert "값이 너무 김 (SystemInfo.hostname: 최대 255자)" in markdown
    assert json.loads(out.read_text())["schema_version"] == 2
