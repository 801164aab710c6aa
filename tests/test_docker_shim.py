"""The docker probe's first lines, run here: podman's `docker` script is told apart.

``docker`` is a script on PATH: the text podman-docker installs as /usr/bin/docker
(Debian 12, podman 4.3.1), or a program that is not podman's. No Docker daemon is
reachable (no socket, DOCKER_HOST pointing nowhere is not set), as on this machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeb_report.collect.batch import run_probes
from codeb_report.collect.runner import LocalRunner
from codeb_report.probes.containers import DockerProbe
from codeb_report.snapshot import ProbeStatus, Server

PODMAN_DOCKER = """\
#!/bin/sh
[ -e /etc/containers/nodocker ] || \\
echo "Emulate Docker CLI using podman. Create /etc/containers/nodocker to quiet msg." >&2
exec /usr/bin/podman "$@"
"""
# A program whose first bytes hold NUL bytes and no "podman", as an ELF docker's do.
OTHER_DOCKER = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00" + b"\x00" * 300 + b"podman later\n"


def _outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker: bytes) -> tuple[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_bytes(docker)
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.docker/config.json
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    if Path("/var/run/docker.sock").exists():
        pytest.skip("a Docker daemon's socket is here")
    server = Server(name="n1", host="localhost", role="app", reachable=True)
    run_probes(LocalRunner(), [DockerProbe()], server, timeout=30)
    outcome = server.outcome("docker")
    assert outcome is not None
    return outcome.status, outcome.reason or ""


def test_podmans_docker_script_skips_the_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, reason = _outcome(tmp_path, monkeypatch, PODMAN_DOCKER.encode())
    assert (status, reason) == (
        ProbeStatus.SKIPPED,
        "docker is podman's docker command (podman-docker)",
    )


def test_another_docker_without_a_daemon_fails_the_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, reason = _outcome(tmp_path, monkeypatch, OTHER_DOCKER)
    assert status == ProbeStatus.FAILED
    assert reason.startswith("exit 1: Cannot connect to the Docker daemon")
