"""Why a server could not be reached, in Korean, against real sshd: a missing key file,
a jump host that is down or refuses forwarding is named, not blamed on the target."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers.sshd import Sshd, SshdFactory, fleet_config

from codeb_report.analysis import analyse
from codeb_report.analysis.reasons import connection_reason
from codeb_report.collect.fleet import collect_fleet
from codeb_report.config import load_config
from codeb_report.probes.system import SystemProbe
from codeb_report.render import render_report
from codeb_report.snapshot import Server, Snapshot


def _server(snapshot: Snapshot, name: str) -> Server:
    server = snapshot.server(name)
    assert server is not None
    return server


@pytest.fixture(scope="module")
def target(sshd_factory: SshdFactory) -> Sshd:
    return sshd_factory.start("reasons-target")


def test_a_missing_identity_file_is_an_authentication_failure_naming_it(
    sshd_factory: SshdFactory, target: Sshd, tmp_path: Path
) -> None:
    missing = tmp_path / "no_such_key"
    path = fleet_config(sshd_factory, {"n1": target}, tmp_path / "fleet.toml")
    path.write_text(path.read_text().replace(str(sshd_factory.client_key.private), str(missing)))
    snapshot = collect_fleet(load_config(path), lambda c, s: [SystemProbe()])
    server = _server(snapshot, "n1")
    assert server.error == (
        f"인증 실패: root@127.0.0.1:{target.port}: identity_file {missing}: no such file"
    )
    assert connection_reason(server.error).short == "인증 실패"


def _behind(gate: Sshd, target: Sshd, path: Path, factory: SshdFactory) -> Snapshot:
    """n1 (on ``target``) reached through the server gate (on ``gate``)."""
    tail = (
        f'[[servers]]\nname = "n1"\nhost = "127.0.0.1"\nport = {target.port}\nuser = "root"\n'
        f'identity_file = "{factory.client_key.private}"\njump = "gate"\n'
    )
    fleet_config(factory, {"gate": gate}, path, tail=tail)
    known = path.with_name("known_hosts")
    known.write_text(known.read_text() + target.known_hosts_line())
    return collect_fleet(load_config(path), lambda c, s: [SystemProbe()])


def test_a_jump_host_that_is_down_is_named_in_the_summary(
    sshd_factory: SshdFactory, target: Sshd, tmp_path: Path
) -> None:
    gate = sshd_factory.start("reasons-gate-down")
    gate.stop()
    snapshot = _behind(gate, target, tmp_path / "fleet.toml", sshd_factory)
    server = _server(snapshot, "n1")
    assert server.error is not None and server.error.startswith("점프 호스트 gate: ")
    assert connection_reason(server.error).short == "점프 호스트 gate: 연결 거부"
    assert connection_reason(_server(snapshot, "gate").error).short == "연결 거부"
    analysis = analyse(snapshot)
    [finding] = [f for f in analysis.findings if f.server == "n1"]
    assert finding.action == "점프 호스트 gate 상태 및 SSH 접속 확인"
    report = render_report(snapshot, analysis, ["md"], tmp_path / "report")[0].read_text()
    section1 = report.split("## 2.")[0]
    high = report.split("High Priority")[1].split("###")[0]
    for part in (section1, high):
        assert "점프 호스트 gate: 연결 거부" in part


def test_a_jump_host_refusing_to_forward_is_said_in_korean(
    sshd_factory: SshdFactory, target: Sshd, tmp_path: Path
) -> None:
    gate = sshd_factory.start("reasons-gate-noforward", extra="PermitOpen none\n")
    snapshot = _behind(gate, target, tmp_path / "fleet.toml", sshd_factory)
    assert _server(snapshot, "gate").reachable
    server = _server(snapshot, "n1")
    assert server.error is not None
    assert server.error.startswith(
        f"점프 호스트 gate: 전달 거부: forwarding to 127.0.0.1:{target.port} refused "
        "(Administratively prohibited"
    )
    assert "ChannelException" not in server.error
    assert (
        connection_reason(server.error).short == "점프 호스트 gate: 전달 거부 (포워딩 허용 안 됨)"
    )


def _failures(stderr: str) -> list[str]:
    """``LEVEL SERVER MESSAGE`` of each collection failure line, without its time."""
    lines = [line.split(" ", 1)[1] for line in stderr.splitlines() if " " in line]
    return sorted(line for line in lines if " unreachable: " in line or " probe " in line)


def test_collect_and_run_say_the_same_failures_on_stderr(
    sshd_factory: SshdFactory, target: Sshd, tmp_path: Path
) -> None:
    gate = sshd_factory.start("reasons-gate-agree")
    gate.stop()
    config = tmp_path / "fleet.toml"
    _behind(gate, target, config, sshd_factory)
    env = {**os.environ, "HOME": str(tmp_path)}
    main = "from codeb_report.cli import main; main()"
    said = {}
    for command, extra in (("collect", ["-o", "s.json"]), ("run", ["--output-root", "out"])):
        done = subprocess.run(
            [sys.executable, "-c", main, command, "--config", str(config), *extra],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 5, done.stderr
        said[command] = _failures(done.stderr)
    assert said["collect"] == said["run"]
    assert [line.split()[:2] for line in said["run"]] == [["ERROR", "gate"], ["ERROR", "n1"]]
