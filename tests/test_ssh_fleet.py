"""A test fleet of real OpenSSH servers on 127.0.0.1, collected by the real CLI.

Good servers (one through a ~/.ssh/config alias, two behind a jump host), and the
failures the issue lists, each on its own sshd: stopped, changed host key, unknown host
key, refused login. The snapshot is checked fact by fact against this machine, which
every loopback server is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers.sshd import Sshd, SshdFactory, keygen

from codeb_report.analysis.reasons import connection_reason
from codeb_report.collect.fleet import collect_fleet, collection_exit
from codeb_report.collect.local import collect_local
from codeb_report.config import load_config
from codeb_report.errors import Exit
from codeb_report.probes import default_probes
from codeb_report.probes.system import MemoryProbe, SystemProbe
from codeb_report.snapshot import ProbeStatus, Snapshot, load

GOOD = ("alias", "direct", "gate", "inner", "inner-alias")
FAILING = ("authfail", "stopped", "unknown", "wrongkey")


@dataclass
class Fleet:
    base: Path
    servers: dict[str, Sshd]
    known_hosts: Path
    hashed_known_hosts: Path
    config: Path
    factory: SshdFactory


def fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(pub)], capture_output=True, text=True)
    return out.stdout.split()[1]


def server_block(name: str, host: str, **extra: object) -> str:
    lines = ["[[servers]]", f'name = "{name}"', f'host = "{host}"']
    for key, value in extra.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def write_fleet_config(fleet: Fleet, names: tuple[str, ...], path: Path) -> Path:
    """Servers by name; ``inner-alias`` and ``alias`` are resolved through ssh_config."""
    s = fleet.servers
    blocks = {
        "direct": server_block("direct", "127.0.0.1", port=s["direct"].port, user="root"),
        "alias": server_block("alias", "alias-host", role="app", tags=["web"]),
        "gate": server_block("gate", "127.0.0.1", port=s["gate"].port),
        "inner": server_block("inner", "127.0.0.1", port=s["inner"].port, jump="gate"),
        "inner-alias": server_block("inner-alias", "inner-host"),
        "stopped": server_block("stopped", "127.0.0.1", port=s["stopped"].port),
        "wrongkey": server_block("wrongkey", "127.0.0.1", port=s["wrongkey"].port),
        "unknown": server_block("unknown", "127.0.0.1", port=s["unknown"].port),
        "authfail": server_block("authfail", "127.0.0.1", port=s["authfail"].port),
    }
    head = (
        "[ssh]\n"
        f'known_hosts = "{fleet.known_hosts}"\n'
        f'extra_known_hosts = ["{fleet.hashed_known_hosts}"]\n'
        f'config_file = "{fleet.base / "ssh_config"}"\n'
        "use_agent = false\nparallel = 4\nconnect_timeout = 5\ndeadline = 60\n"
        '[roles.app]\nlabel = "App Server"\n'
        f'[descriptions.ports]\n{s["gate"].port} = "점프 호스트 <sshd>"\n'
    )
    path.write_text(head + "".join(blocks[n] for n in names))
    return path


@pytest.fixture(scope="module")
def fleet(sshd_factory: SshdFactory) -> Fleet:
    f = sshd_factory
    base = f.base / "fleet"
    base.mkdir()
    servers = {name: f.start(name) for name in (*GOOD, "stopped", "wrongkey", "unknown")}
    servers["gate"].stop()  # the jump host logs the forwarded connections it opens
    servers["gate"] = f.start("gate-debug", log_level="DEBUG1")
    servers["authfail"] = f.start("authfail", authorized=keygen(base / "other" / "id_ed25519"))
    servers["stopped"].stop()
    impostor = keygen(base / "impostor" / "ssh_host_ed25519_key")
    plain = ["direct", "gate", "inner", "authfail", "stopped"]
    known = "".join(servers[n].known_hosts_line() for n in plain)
    known += servers["wrongkey"].known_hosts_line(impostor)
    (base / "known_hosts").write_text(known)
    hashed = base / "hashed_known_hosts"
    hashed.write_text(
        servers["alias"].known_hosts_line() + servers["inner-alias"].known_hosts_line()
    )
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(hashed)], check=True, capture_output=True)
    assert "127.0.0.1" not in hashed.read_text()
    (base / "ssh_config").write_text(
        f"Host alias-host\n  HostName 127.0.0.1\n  Port {servers['alias'].port}\n"
        f"Host inner-host\n  HostName 127.0.0.1\n  Port {servers['inner-alias'].port}\n"
        f"  ProxyJump root@127.0.0.1:{servers['gate'].port}\n"
        f"Host *\n  User root\n  IdentityFile {f.client_key.private}\n"
        "  HashKnownHosts no\n"  # else the system's file decides (Debian: yes)
    )
    fleet = Fleet(base, servers, base / "known_hosts", hashed, base / "fleet.toml", f)
    write_fleet_config(fleet, (*GOOD, *FAILING), fleet.config)
    return fleet


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "from codeb_report.cli import main; main()"
    env = {**os.environ, "HOME": str(cwd)}  # no user ~/.ssh reaches the tests
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def collected(fleet: Fleet) -> tuple[subprocess.CompletedProcess[str], Snapshot]:
    out = fleet.base / "snapshot.json"
    done = run_cli("collect", "--config", str(fleet.config), "-o", str(out), cwd=fleet.base)
    return done, load(out)


def meminfo_total() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


def test_partial_exit_code_and_only_the_failures_on_stderr(collected) -> None:
    done, _ = collected
    assert done.returncode == Exit.PARTIAL, done.stderr
    # Without a terminal collect says what run says: a log line per failure, ERROR for a
    # server not collected, WARNING for a failed probe (docker without its daemon here).
    lines = done.stderr.strip().splitlines()
    errors = [line.split()[2] for line in lines if line.split()[1] == "ERROR"]
    assert sorted(errors) == sorted(FAILING)
    assert all(line.split()[1] in ("ERROR", "WARNING") for line in lines)
    assert "Traceback" not in done.stderr


def test_every_configured_server_is_in_the_snapshot(collected) -> None:
    _, snapshot = collected
    assert sorted(s.name for s in snapshot.servers) == sorted((*GOOD, *FAILING))
    reachable = {s.name for s in snapshot.servers if s.reachable}
    assert reachable == set(GOOD)


@pytest.mark.parametrize("name", GOOD)
def test_good_servers_carry_this_machines_facts(collected, name: str) -> None:
    _, snapshot = collected
    server = snapshot.server(name)
    assert server is not None and server.error is None
    assert server.address == "127.0.0.1"
    assert server.system is not None and server.system.hostname == socket.gethostname()
    assert server.memory is not None and server.memory.total == meminfo_total()
    assert server.system.cpu_count == os.cpu_count()
    mounts = {fs.mount for fs in server.filesystems}
    assert "/" in mounts


@pytest.mark.parametrize("name", GOOD)
def test_probe_outcomes_match_a_local_collection(collected, name: str) -> None:
    """The same probes run over SSH as locally, so the same ones succeed, skip or fail."""
    _, snapshot = collected
    local = collect_local(default_probes()).servers[0]
    remote = snapshot.server(name)
    assert remote is not None
    base = {p.name for p in default_probes()}
    statuses = {p.probe: p.status for p in remote.probes if p.probe in base}
    assert statuses == {p.probe: p.status for p in local.probes}
    # Every role also looks for CI runner units (stack probes; none are configured here).
    assert {p.probe for p in remote.probes} == base | {"watched.units"}


def test_role_label_and_tags_from_the_configuration(collected) -> None:
    _, snapshot = collected
    alias = snapshot.server("alias")
    assert alias is not None and (alias.role, alias.tags, alias.host) == (
        "App Server",
        ["web"],
        "alias-host",
    )
    assert snapshot.server("direct").role == "server"


def test_jump_hosts_forward_the_connections(fleet: Fleet, collected) -> None:
    """Both inner servers went through the gate: its sshd logged the forwardings."""
    log = (fleet.servers["gate"].directory / "sshd.log").read_text()
    forwarded = {
        int(p) for p in re.findall(r"direct_tcpip: .* target 127\.0\.0\.1 port (\d+)", log)
    }
    assert fleet.servers["inner"].port in forwarded
    assert fleet.servers["inner-alias"].port in forwarded
    assert fleet.servers["direct"].port not in forwarded


def test_stopped_server_is_unreachable(fleet: Fleet, collected) -> None:
    server = collected[1].server("stopped")
    port = fleet.servers["stopped"].port
    assert server is not None and not server.reachable and server.probes == []
    assert server.error == f"root@127.0.0.1:{port}: connection refused"


def test_changed_host_key_is_refused_with_a_warning(fleet: Fleet, collected) -> None:
    server = collected[1].server("wrongkey")
    sshd = fleet.servers["wrongkey"]
    assert server is not None and not server.reachable
    assert server.error.startswith("호스트 키 불일치: WARNING: the host key of ")
    assert f"[127.0.0.1]:{sshd.port} has CHANGED" in server.error
    assert fingerprint(sshd.host_key.public) in server.error
    assert fingerprint(fleet.base / "impostor" / "ssh_host_ed25519_key.pub") in server.error
    assert f"ssh-keygen -R '[127.0.0.1]:{sshd.port}'" in server.error


def test_unknown_host_key_is_refused_with_its_fingerprint(fleet: Fleet, collected) -> None:
    server = collected[1].server("unknown")
    sshd = fleet.servers["unknown"]
    assert server is not None and not server.reachable
    assert server.error.startswith(
        f"호스트 키 미확인: [127.0.0.1]:{sshd.port} is not in known_hosts"
    )
    assert fingerprint(sshd.host_key.public) in server.error
    assert "--accept-new" in server.error
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> {fleet.known_hosts}" in server.error
    assert f":{sshd.port}" not in fleet.known_hosts.read_text()  # nothing recorded


def test_refused_login_is_an_authentication_failure(fleet: Fleet, collected) -> None:
    server = collected[1].server("authfail")
    assert server is not None and not server.reachable
    assert server.error.startswith(f"인증 실패: root@127.0.0.1:{fleet.servers['authfail'].port}")


def test_accept_new_records_unknown_keys_but_never_a_changed_one(fleet: Fleet) -> None:
    work = fleet.base / "accept"
    work.mkdir()
    record = work / "known_hosts"
    shutil.copy(fleet.known_hosts, record)
    before = record.read_text()
    config = write_fleet_config(fleet, ("unknown", "wrongkey"), work / "fleet.toml")
    config.write_text(config.read_text().replace(str(fleet.known_hosts), str(record)))

    first = run_cli("collect", "-c", str(config), "--accept-new", "-o", "s.json", cwd=work)
    snap = load(work / "s.json")
    assert first.returncode == Exit.PARTIAL
    assert snap.server("unknown").reachable and not snap.server("wrongkey").reachable
    added = record.read_text().removeprefix(before)
    assert added == fleet.servers["unknown"].known_hosts_line()

    second = run_cli("collect", "-c", str(config), "-o", "s2.json", cwd=work)
    assert second.returncode == Exit.PARTIAL  # wrongkey still refused
    assert load(work / "s2.json").server("unknown").reachable
    assert record.read_text() == before + added  # recorded once, changed key untouched


def test_exit_code_all_good(fleet: Fleet) -> None:
    """Docker's probe fails on a machine without its daemon, so the CLI cannot show 0 here:
    the fleet collector is called with the probes this machine passes."""
    config = load_config(
        write_fleet_config(fleet, ("direct", "gate", "inner"), fleet.base / "ok.toml")
    )
    snapshot = collect_fleet(config, lambda c, s: [SystemProbe(), MemoryProbe()])
    assert [s.error for s in snapshot.servers] == [None, None, None]
    assert collection_exit(snapshot) == Exit.OK
    inner = snapshot.server("inner")
    assert [(p.probe, p.status) for p in inner.probes] == [
        ("system", ProbeStatus.OK),
        ("memory", ProbeStatus.OK),
    ]


def test_exit_code_when_no_server_is_collected(fleet: Fleet) -> None:
    work = fleet.base / "codes"
    work.mkdir()
    bad = write_fleet_config(fleet, ("stopped", "authfail"), work / "bad.toml")
    failed = run_cli("collect", "-c", str(bad), "-o", "bad.json", cwd=work)
    assert failed.returncode == Exit.FAILED
    assert not any(s.reachable for s in load(work / "bad.json").servers)
    assert len(failed.stderr.strip().splitlines()) == 2
    quiet = run_cli("collect", "-q", "-c", str(bad), "-o", "bad.json", cwd=work)
    # -q: errors only, as for run: the two servers not collected.
    assert quiet.returncode == Exit.FAILED
    assert [line.split()[1] for line in quiet.stderr.splitlines()] == ["ERROR", "ERROR"]


def test_the_report_of_the_test_fleet(fleet: Fleet) -> None:
    """`run --config`: failed servers are ❌ with their reasons and a High finding each;
    the collected ones are whole."""
    work = fleet.base / "report"
    work.mkdir()
    done = run_cli(
        "run", "-c", str(fleet.config), "--output-root", str(work / "out"), "-q", cwd=work
    )
    assert done.returncode == Exit.PARTIAL, done.stderr
    day = work / "out" / "latest"
    report = (day / "report.md").read_text()
    snapshot = load(day / "snapshot.json")
    summary = report.split("## 2.")[0]
    for name in GOOD:
        row = next(line for line in summary.splitlines() if line.startswith(f"| **{name}**"))
        assert "✅ Active" in row
    for name in FAILING:
        row = next(line for line in summary.splitlines() if line.startswith(f"| **{name}**"))
        assert "❌ 연결 실패" in row
    high = report.split(" High Priority")[1].split(" Medium Priority")[0]
    failed_rows = [line for line in high.splitlines() if "서버 연결 실패" in line]
    assert sorted(line.split("|")[2].strip() for line in failed_rows) == sorted(FAILING)
    for name in FAILING:  # High table: the reason in short Korean; section 2: as collected
        row = next(line for line in failed_rows if f"| {name} |" in line)
        assert f"| {connection_reason(snapshot.server(name).error).short} |" in row
        details = report.split(f"### {name} - ")[1].split("\n---")[0]
        assert f"**원인**: `{snapshot.server(name).error}`" in details
    assert report.count("#### 리소스 현황") >= len(GOOD)
    gate = str(fleet.servers["gate"].port)
    described = [line for line in report.splitlines() if line.startswith(f"| {gate} |")]
    assert described and all(
        line.endswith("| 점프 호스트 &lt;sshd&gt; |") for line in described
    )  # the configuration's description, escaped as collected text is
