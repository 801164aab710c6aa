"""The SSH transport against real sshd: the runner, deadlines, dropped connections, sudo."""

from __future__ import annotations

import fcntl
import os
import selectors
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from servers.sshd import Sshd, SshdFactory, keygen

from codeb_report.collect.fleet import collect_fleet, collection_exit
from codeb_report.collect.hostkeys import KnownHosts
from codeb_report.collect.runner import CommandTimeout
from codeb_report.collect.ssh import Connector, ConnectSettings, SSHRunner, Target
from codeb_report.config import Config, parse_config
from codeb_report.errors import Exit
from codeb_report.probes.base import Probe
from codeb_report.snapshot import ProbeStatus, Server


class Whoami(Probe):
    """Who the probes run as, and who sudo says called it: ``root\\nroot``."""

    name = "whoami"
    seen: ClassVar[dict[str, list[str]]] = {}

    def command(self) -> str:
        return 'id -un; echo "${SUDO_USER:-none}"'

    def parse(self, output: str) -> list[str]:
        return output.split()

    def store(self, server: Server, value: Any) -> None:
        self.seen[server.name] = value


class Sleeper(Probe):
    name = "sleeper"
    timeout = 60
    seconds = 30

    def command(self) -> str:
        return f"sleep {self.seconds}"

    def parse(self, output: str) -> str:
        return output

    def store(self, server: Server, value: Any) -> None:
        raise AssertionError("a probe cut off by the deadline is never stored")


@pytest.fixture(scope="module")
def two(sshd_factory: SshdFactory) -> list[Sshd]:
    return [sshd_factory.start("transport-a"), sshd_factory.start("transport-b")]


def config_for(
    factory: SshdFactory,
    servers: list[tuple[str, Sshd, str]],
    extra: str = "",
    ssh_config: str = "Host *\n  HashKnownHosts no\n",
) -> Config:
    """``ssh_config`` is the user's file; it says HashKnownHosts either way, since the
    system's file (Debian: ``yes``) would decide otherwise."""
    known = factory.base / "transport_known_hosts"
    known.write_text("".join(sshd.known_hosts_line() for _, sshd, _ in servers))
    user_config = factory.base / "transport_ssh_config"
    user_config.write_text(ssh_config)
    text = (
        f'[ssh]\nknown_hosts = "{known}"\nconfig_file = "{user_config}"\nuse_agent = false\n{extra}'
    )
    for name, sshd, more in servers:
        text += (
            f'[[servers]]\nname = "{name}"\nhost = "127.0.0.1"\nport = {sshd.port}\n'
            f'user = "root"\nidentity_file = "{factory.client_key.private}"\n{more}'
        )
    return parse_config(text, "test.toml")


def connect(factory: SshdFactory, sshd: Sshd):
    known = factory.base / "runner_known_hosts"
    known.write_text(sshd.known_hosts_line())
    target = Target("a", "127.0.0.1", sshd.port, "root", (str(factory.client_key.private),))
    connector = Connector(KnownHosts(known, system=Path("/nonexistent")), ConnectSettings())
    return connector.connect(target, time.monotonic() + 10)


def test_runner_passes_stdin_and_keeps_stdout_stderr_and_exit_code(
    sshd_factory: SshdFactory, two: list[Sshd]
) -> None:
    client = connect(sshd_factory, two[0])
    try:
        script = "read -r secret; echo \"got $secret\"; printf '\\377ok\\n'; echo oops >&2; exit 3"
        result = SSHRunner(client).run(script, timeout=10, stdin="s3cret\n")
        assert result.stdout == "got s3cret\n\ufffdok\n"
        assert (result.stderr, result.exit_code) == ("oops\n", 3)
        assert "s3cret" not in SSHRunner(client).command(script)
    finally:
        client.close()


def test_runner_reads_what_is_printed_after_the_command_exits(
    sshd_factory: SshdFactory, two: list[Sshd]
) -> None:
    """sshd sends the exit status as soon as the command exits, and then what is still
    in the command's pipes: here a background job's late lines, on a loaded server the
    probes' own output. The runner reads until the server's EOF, as ssh does (it read
    until the exit status, and a loaded server's batch lost its end markers: "수집 실패:
    the probe script printed nothing")."""
    client = connect(sshd_factory, two[0])
    try:
        script = "(sleep 1.5; echo late; echo late-err >&2) & exit 3"
        result = SSHRunner(client).run(script, timeout=10)
        assert (result.stdout, result.stderr, result.exit_code) == ("late\n", "late-err\n", 3)
    finally:
        client.close()


def test_aes_gcm_is_asked_for_first_and_a_server_without_it_still_answers(
    sshd_factory: SshdFactory, two: list[Sshd]
) -> None:
    """AES-GCM spares paramiko its per-packet MAC check in Python; a server that offers
    only AES-CTR (as old OpenSSH and Dropbear do) gets it with HMAC, as before."""
    ctr_only = sshd_factory.start("transport-ctr", extra="Ciphers aes256-ctr\n")
    for sshd, cipher in ((two[0], "aes128-gcm@openssh.com"), (ctr_only, "aes256-ctr")):
        client = connect(sshd_factory, sshd)
        try:
            transport = client.get_transport()
            assert transport is not None and transport.local_cipher == cipher
            assert SSHRunner(client).run("echo ok", timeout=10).stdout == "ok\n"
        finally:
            client.close()
    ctr_only.stop()


def test_runner_gives_up_at_its_deadline(sshd_factory: SshdFactory, two: list[Sshd]) -> None:
    client = connect(sshd_factory, two[0])
    try:
        started = time.monotonic()
        with pytest.raises(CommandTimeout):
            SSHRunner(client).run("sleep 30", timeout=1.0)
        # At the deadline, not when the command ends (however late a loaded machine wakes).
        assert 1.0 <= time.monotonic() - started < 30
    finally:
        client.close()


def test_a_server_past_its_deadline_costs_only_itself(
    sshd_factory: SshdFactory, two: list[Sshd]
) -> None:
    config = config_for(
        sshd_factory, [("fast", two[0], ""), ("slow", two[1], "")], "deadline = 2\n"
    )

    def probes(config: Config, server) -> list[Probe]:
        return [Whoami(), Sleeper()] if server.name == "slow" else [Whoami()]

    started = time.monotonic()
    snapshot = collect_fleet(config, probes)
    assert 2 <= time.monotonic() - started < Sleeper.seconds  # the deadline's, not the probe's
    slow, fast = snapshot.server("slow"), snapshot.server("fast")
    assert not slow.reachable and slow.error == "시간 초과: collection did not finish within 2 s"
    assert fast.reachable and fast.error is None
    assert [(p.probe, p.status) for p in fast.probes] == [("whoami", ProbeStatus.OK)]
    assert collection_exit(snapshot) == Exit.PARTIAL


@dataclass
class Call:
    """One client of the silent server: when it was accepted and when it hung up."""

    accepted: float  # time.monotonic()
    hung_up: float | None = None


@dataclass
class Silent:
    """A hung sshd, and the clients that called it, in the order it accepted them."""

    port: int
    calls: dict[tuple[str, int], Call] = field(default_factory=dict)  # by client address
    changed: threading.Condition = field(default_factory=threading.Condition)

    def calls_so_far(self, timeout: float = 60.0) -> list[Call]:
        """Every client that connected before now, once each has hung up. A connection of
        our own is accepted after all of them (the listen queue is first in, first out),
        so however late the serving thread runs on a loaded machine, none is missed."""
        with socket.create_connection(("127.0.0.1", self.port)) as marker:
            me = marker.getsockname()
            with self.changed:
                assert self.changed.wait_for(lambda: me in self.calls, timeout)
                before = list(self.calls.values())[: list(self.calls).index(me)]
                done = self.changed.wait_for(lambda: all(c.hung_up for c in before), timeout)
                assert done, "a client is still connected"
                return before


@pytest.fixture
def silent() -> Iterator[Silent]:
    """A TCP server that accepts and never says a word (a hung sshd)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    server = Silent(listener.getsockname()[1])
    stop = threading.Event()
    watch = selectors.DefaultSelector()
    watch.register(listener, selectors.EVENT_READ)

    def serve() -> None:
        while not stop.is_set():
            for key, _ in watch.select(timeout=0.2):
                if key.fileobj is listener:
                    conn, peer = listener.accept()
                    watch.register(conn, selectors.EVENT_READ, peer)
                    with server.changed:
                        server.calls[peer] = Call(time.monotonic())
                        server.changed.notify_all()
                    continue
                try:
                    data = key.fileobj.recv(4096)  # the client's banner, then its close
                except OSError:
                    data = b""
                if not data:
                    with server.changed:
                        server.calls[key.data].hung_up = time.monotonic()
                        server.changed.notify_all()
                    watch.unregister(key.fileobj)
                    key.fileobj.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join()
    for key in list(watch.get_map().values()):
        key.fileobj.close()
    watch.close()


def test_a_silent_server_times_out_without_retries(
    sshd_factory: SshdFactory, two: list[Sshd], silent: Silent
) -> None:
    config = config_for(sshd_factory, [("ok", two[0], "")], "connect_timeout = 1\n")
    config.servers.append(
        config.servers[0].model_copy(update={"name": "hung", "port": silent.port})
    )
    started = time.monotonic()
    snapshot = collect_fleet(config, lambda c, s: [Whoami()])
    hung = snapshot.server("hung")
    assert hung.error == (
        f"시간 초과: root@127.0.0.1:{silent.port}: no answer within the connect timeout"
    )
    assert snapshot.server("ok").reachable
    # One connection, held until the connect timeout and not past what the retries that
    # were not made would have taken (a loaded machine stretches the wait, not the count).
    [call] = silent.calls_so_far()
    timeout, attempts = config.ssh.connect_timeout, config.ssh.connect_attempts
    assert call.hung_up - started >= timeout
    assert call.hung_up - call.accepted < timeout * attempts


# sshd's MaxStartups for the test below, and how many connections hold its slots.
SLOTS = 20
CLIENTS = 16


def _hold_start_up_slots(sshd: Sshd, count: int) -> list[socket.socket]:
    """Open ``count`` connections that never log in, as a port scanner leaves them: each
    holds one of sshd's MaxStartups slots until it is closed (or LoginGraceTime)."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", sshd.port), timeout=10)
        held.append(sock)
        assert sock.recv(64).startswith(b"SSH-2.0")  # accepted, so counted by sshd
    return held


def _drops(sshd: Sshd) -> int:
    return (sshd.directory / "sshd.log").read_text().count("past MaxStartups")


def test_connections_dropped_by_maxstartups_are_retried(
    sshd_factory: SshdFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    """While every start-up slot is held, sshd drops each login at once; once they are
    free again, every one of the dropped servers is collected on a later attempt.

    The slots are held rather than raced for: 16 logins racing for 4 slots made the
    test's outcome depend on how loaded the machine was (an unlucky login could lose
    every one of its attempts to the others)."""
    crowded = sshd_factory.start("crowded", max_startups=str(SLOTS), log_level="VERBOSE")
    held = _hold_start_up_slots(crowded, SLOTS)
    servers = [(f"c{i:02d}", crowded, "") for i in range(CLIENTS)]
    config = config_for(sshd_factory, servers, f"parallel = {CLIENTS}\nconnect_attempts = 12\n")
    with ThreadPoolExecutor(max_workers=1) as pool:
        collecting = pool.submit(collect_fleet, config, lambda c, s: [Whoami()])
        try:
            # Every login so far was dropped: as many drops as servers, at least.
            until = time.monotonic() + 30
            while _drops(crowded) < CLIENTS and time.monotonic() < until:
                time.sleep(0.05)
            dropped = _drops(crowded)
            assert not collecting.done()  # still retrying: no login got in
        finally:
            for sock in held:
                sock.close()
        snapshot = collecting.result(timeout=120)
    assert dropped >= CLIENTS
    assert [(s.name, s.error) for s in snapshot.servers if not s.reachable] == []
    assert "Traceback" not in capfd.readouterr().err  # paramiko's logger stays quiet


def test_sudo_runs_the_probes_through_sudo_n(sshd_factory: SshdFactory, two: list[Sshd]) -> None:
    config = config_for(
        sshd_factory, [("plain", two[0], ""), ("elevated", two[1], "sudo = true\n")]
    )
    Whoami.seen.clear()
    snapshot = collect_fleet(config, lambda c, s: [Whoami()])
    assert collection_exit(snapshot) == Exit.OK
    assert Whoami.seen == {"plain": ["root", "none"], "elevated": ["root", "root"]}


@pytest.fixture
def agent(sshd_factory: SshdFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real ssh-agent holding the client key; HOME without keys of its own."""
    sock = tmp_path / "agent.sock"
    process = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(sshd_factory.client_key.private)], env=env, check=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        monkeypatch.setenv("HOME", str(tmp_path))
        yield sock
    finally:
        process.terminate()
        process.wait()


def test_keys_in_ssh_agent_are_used(sshd_factory: SshdFactory, two: list[Sshd], agent) -> None:
    config = config_for(sshd_factory, [("a", two[0], "")], "")
    no_key = config.servers[0].model_copy(update={"identity_file": None})
    with_agent = config.model_copy(update={"servers": [no_key]})
    with_agent.ssh.use_agent = True
    snapshot = collect_fleet(with_agent, lambda c, s: [Whoami()])
    assert snapshot.server("a").reachable, snapshot.server("a").error
    with_agent.ssh.use_agent = False  # the same without the agent: no key to log in with
    refused = collect_fleet(with_agent, lambda c, s: [Whoami()]).server("a")
    assert not refused.reachable and refused.error.startswith("인증 실패: ")


def test_the_system_known_hosts_file_is_honoured(
    sshd_factory: SshdFactory, two: list[Sshd], tmp_path: Path
) -> None:
    system = tmp_path / "ssh_known_hosts"
    system.write_text(two[1].known_hosts_line())
    target = Target("b", "127.0.0.1", two[1].port, "root", (str(sshd_factory.client_key.private),))
    known = KnownHosts(tmp_path / "empty_known_hosts", system=system)
    client = Connector(known, ConnectSettings(use_agent=False)).connect(
        target, time.monotonic() + 10
    )
    try:
        assert SSHRunner(client).run("echo ok", timeout=10).stdout == "ok\n"
    finally:
        client.close()
    assert not (tmp_path / "empty_known_hosts").exists()  # nothing recorded without --accept-new


def test_a_login_where_the_probes_never_run_is_one_reason(sshd_factory: SshdFactory) -> None:
    """What `sudo -n` says when it wants a password, through a real sshd's ForceCommand."""
    refusing = sshd_factory.start(
        "refusing",
        extra="ForceCommand echo 'sudo: a password is required' >&2; exit 1\n",
    )
    config = config_for(sshd_factory, [("guarded", refusing, "sudo = true\n")])
    server = collect_fleet(config, lambda c, s: [Whoami(), Sleeper()]).server("guarded")
    assert not server.reachable
    assert server.error == "수집 실패: sudo: a password is required"
    assert {p.status for p in server.probes} == {ProbeStatus.FAILED}


def test_unreadable_known_hosts_lines_are_skipped_as_ssh_does(
    sshd_factory: SshdFactory, two: list[Sshd], tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(
        "garbage\n"
        f"[127.0.0.1]:{two[0].port} ssh-ed25519 AAAAnot-base64!!\n"
        "@cert-authority *.example.com ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
        + two[0].known_hosts_line()
    )
    hosts = KnownHosts(known, system=tmp_path / "none")
    assert hosts.skipped == [f"{known}:1", f"{known}:2"]
    target = Target("a", "127.0.0.1", two[0].port, "root", (str(sshd_factory.client_key.private),))
    client = Connector(hosts, ConnectSettings(use_agent=False)).connect(
        target, time.monotonic() + 9
    )
    client.close()
    hosts.close()


def test_a_revoked_key_is_refused_even_with_accept_new(
    sshd_factory: SshdFactory, two: list[Sshd], tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("@revoked * " + two[1].host_key.public_line() + "\n")
    before = known.read_text()
    config = config_for(sshd_factory, [("b", two[1], "")])
    config.ssh.known_hosts = str(known)
    server = collect_fleet(config, lambda c, s: [Whoami()], accept_new=True).server("b")
    assert not server.reachable
    assert server.error.startswith(f"호스트 키 폐기됨: the host key of [127.0.0.1]:{two[1].port}")
    assert "is marked @revoked in known_hosts" in server.error
    assert known.read_text() == before


@pytest.mark.parametrize("listed", ["same key", "other key"])
def test_a_revoked_key_listed_for_the_host_is_refused_before_login(
    sshd_factory: SshdFactory, tmp_path: Path, listed: str
) -> None:
    """OpenSSH refuses a revoked key even where a plain line lists it for the host."""
    sshd = sshd_factory.start(f"revoked-{listed.replace(' ', '-')}")
    other = keygen(tmp_path / "other_host_key")
    known = tmp_path / "known_hosts"
    known.write_text(
        sshd.known_hosts_line(other if listed == "other key" else None)
        + "@revoked * "
        + sshd.host_key.public_line()
        + "\n"
    )
    config = config_for(sshd_factory, [("r", sshd, "")])
    config.ssh.known_hosts = str(known)
    server = collect_fleet(config, lambda c, s: [Whoami()]).server("r")
    assert not server.reachable
    assert server.error.startswith(f"호스트 키 폐기됨: the host key of [127.0.0.1]:{sshd.port}")
    sshd.stop()
    log = (sshd.directory / "sshd.log").read_text()
    assert "Accepted publickey" not in log  # refused before the key was offered


def accept_new_into(sshd_factory: SshdFactory, sshd: Sshd, known: Path, name: str = "n") -> Server:
    config = config_for(sshd_factory, [(name, sshd, "")])
    config.ssh.known_hosts = str(known)
    return collect_fleet(config, lambda c, s: [Whoami()], accept_new=True).server(name)


def test_accept_new_appends_to_a_symlinked_known_hosts_keeping_its_mode(
    sshd_factory: SshdFactory, two: list[Sshd], tmp_path: Path
) -> None:
    real = tmp_path / "dotfiles" / "known_hosts"
    real.parent.mkdir()
    real.write_text("# kept\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqq")  # no \n
    real.chmod(0o640)
    link = tmp_path / "ssh" / "known_hosts"
    link.parent.mkdir()
    link.symlink_to(real)
    server = accept_new_into(sshd_factory, two[0], link)
    assert server.reachable, server.error
    assert link.is_symlink() and link.resolve() == real
    assert real.stat().st_mode & 0o777 == 0o640
    assert real.read_text().splitlines() == [
        "# kept",
        "other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqq",
        two[0].known_hosts_line().rstrip("\n"),
    ]
    again = accept_new_into(sshd_factory, two[0], link)
    assert again.reachable and len(real.read_text().splitlines()) == 3  # recorded once


def test_accept_new_creates_a_private_known_hosts(
    sshd_factory: SshdFactory, two: list[Sshd], tmp_path: Path
) -> None:
    known = tmp_path / "new" / "known_hosts"
    server = accept_new_into(sshd_factory, two[1], known)
    assert server.reachable, server.error
    assert known.read_text() == two[1].known_hosts_line()
    assert known.stat().st_mode & 0o777 == 0o600
    assert known.parent.stat().st_mode & 0o777 == 0o700


def test_recording_keeps_a_line_another_program_appends_meanwhile(tmp_path: Path) -> None:
    """A writer that opened known_hosts before the key is recorded (as ssh may have)
    appends to the same file, not to one a rewrite has replaced."""
    import paramiko

    known = tmp_path / "known_hosts"
    known.write_text("first ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5\n")
    key = paramiko.Ed25519Key.from_private_key_file(str(keygen(tmp_path / "hk").private))
    hosts = KnownHosts(known, system=tmp_path / "none")
    with known.open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        recorder = threading.Thread(target=hosts.record, args=("[127.0.0.1]:2222", key))
        recorder.start()
        wait_for_a_blocked_flock(known)
        other.write("second ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5\n")
        other.flush()
        fcntl.flock(other, fcntl.LOCK_UN)
    recorder.join(timeout=5)
    names = [line.split()[0] for line in known.read_text().splitlines()]
    assert names == ["first", "second", "[127.0.0.1]:2222"]


def wait_for_a_blocked_flock(path: Path, timeout: float = 60.0) -> None:
    """Until /proc/locks shows a process waiting ("->") for an flock on ``path``: a fixed
    sleep may end before a thread of a loaded machine got there, and prove nothing."""
    st = path.stat()
    file_id = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    deadline = time.monotonic() + timeout
    while True:
        locks = Path("/proc/locks").read_text().splitlines()
        if any("-> FLOCK" in line and file_id in line.split() for line in locks):
            return
        assert time.monotonic() < deadline, "the recorder never waited for the lock"
        time.sleep(0.01)


class Crowd(Probe):
    """The most servers' probes seen running at once. Each holds a marker and waits (up to
    40 s) until ``least`` are held or another has seen that many, keeps its own 0.5 s
    longer, then counts: overlap is waited for, not left to a slow login's timing."""

    name = "crowd"
    timeout = 60
    seen: ClassVar[list[int]] = []
    folder: ClassVar[str] = ""
    least: ClassVar[int] = 0

    def command(self) -> str:
        flag = f"{self.folder}-{self.least}.seen"
        return (
            f"d={self.folder}; mkdir -p $d; touch $d/$$; end=$(($(date +%s) + 40)); "
            "c=$(ls $d | wc -l); "
            f"while [ $c -lt {self.least} ] && [ ! -e {flag} ] && [ $(date +%s) -lt $end ]; do "
            "sleep 0.1; c=$(ls $d | wc -l); done; "
            f"[ $c -ge {self.least} ] && touch {flag}; "
            "sleep 0.5; e=$(ls $d | wc -l); rm -f $d/$$; [ $e -gt $c ] && c=$e; echo $c"
        )

    def parse(self, output: str) -> int:
        return int(output.strip())

    def store(self, server: Server, value: Any) -> None:
        self.seen.append(value)


def test_the_pool_bounds_how_many_servers_are_collected_at_once(
    sshd_factory: SshdFactory, two: list[Sshd], tmp_path: Path
) -> None:
    Crowd.folder = str(tmp_path / "crowd")
    servers = [(f"s{i}", two[i % 2], "") for i in range(6)]
    Crowd.seen, Crowd.least = [], 0
    bounded = collect_fleet(
        config_for(sshd_factory, servers, "parallel = 2\n"), lambda c, s: [Crowd()]
    )
    assert collection_exit(bounded) == Exit.OK
    assert len(Crowd.seen) == 6 and max(Crowd.seen) <= 2
    Crowd.seen, Crowd.least = [], 3  # they wait for each other
    wide = collect_fleet(
        config_for(sshd_factory, servers, "parallel = 6\n"), lambda c, s: [Crowd()]
    )
    assert collection_exit(wide) == Exit.OK
    assert max(Crowd.seen) > 2  # without the bound they do overlap
