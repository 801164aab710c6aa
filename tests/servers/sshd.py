"""Real OpenSSH sshd servers on 127.0.0.1 for the tests and the benchmark.

Each server gets its own directory, host key (ssh-keygen) and random port, runs in the
foreground (``sshd -D -e``) and is stopped by its PID. Root logs in with a generated
client key (``PermitRootLogin prohibit-password``); TCP forwarding is on so that one
server can be the jump host of another.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from servers.ports import free_port

SSHD = shutil.which("sshd", path="/usr/sbin:/usr/local/sbin:/sbin") or "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")


@dataclass(frozen=True)
class KeyPair:
    private: Path

    @property
    def public(self) -> Path:
        return self.private.with_name(self.private.name + ".pub")

    def public_line(self) -> str:
        """``ssh-ed25519 AAAA...`` without the comment."""
        return " ".join(self.public.read_text().split()[:2])


def keygen(path: Path) -> KeyPair:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return KeyPair(path)


@dataclass
class Sshd:
    name: str
    directory: Path
    port: int
    host_key: KeyPair
    process: subprocess.Popen | None = field(default=None, repr=False)

    def known_hosts_line(self, key: KeyPair | None = None) -> str:
        return f"[127.0.0.1]:{self.port} {(key or self.host_key).public_line()}\n"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {host_key}
PidFile none
AuthorizedKeysFile {authorized_keys}
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
MaxStartups {max_startups}
LogLevel {log_level}
"""


def _wait_for_banner(port: int, process: subprocess.Popen, within: float = 10.0) -> bool:
    until = time.monotonic() + within
    while time.monotonic() < until:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-2.0"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def start_sshd(
    base: Path,
    name: str,
    authorized: KeyPair,
    max_startups: str = "10:30:100",
    log_level: str = "INFO",
    extra: str = "",
) -> Sshd:
    """Start an sshd; ``max_startups`` is sshd's own default unless a test needs more.

    sshd logs to ``DIRECTORY/sshd.log``; DEBUG1 shows the forwarded (jump) connections.
    ``extra``: more sshd_config lines, e.g. a ForceCommand.
    """
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    directory = base / name
    directory.mkdir(parents=True, exist_ok=True)
    host_key = keygen(directory / "ssh_host_ed25519_key")
    authorized_keys = directory / "authorized_keys"
    authorized_keys.write_text(authorized.public.read_text())
    for _ in range(5):  # the free port may be taken between choosing and binding it
        port = free_port()
        config = directory / "sshd_config"
        config.write_text(
            CONFIG.format(
                port=port,
                host_key=host_key.private,
                authorized_keys=authorized_keys,
                max_startups=max_startups,
                log_level=log_level,
            )
            + extra
        )
        log = (directory / "sshd.log").open("ab")
        process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log, stdin=subprocess.DEVNULL
        )
        log.close()
        if _wait_for_banner(port, process):
            return Sshd(name, directory, port, host_key, process)
        process.kill()
        process.wait()
    raise RuntimeError(f"sshd {name} did not start; see {directory / 'sshd.log'}")


class SshdFactory:
    """Starts servers on demand and stops every one of them at the end."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.client_key = keygen(base / "client" / "id_ed25519")
        self.servers: list[Sshd] = []

    def start(
        self,
        name: str,
        max_startups: str = "10:30:100",
        log_level: str = "INFO",
        authorized: KeyPair | None = None,
        extra: str = "",
    ) -> Sshd:
        """``authorized``: the key sshd lets in, by default the factory's client key."""
        key = authorized or self.client_key
        server = start_sshd(self.base, name, key, max_startups, log_level, extra)
        self.servers.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


def sshd_available() -> bool:
    return os.path.exists(SSHD) and os.geteuid() == 0


@pytest.fixture(scope="session")
def sshd_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdFactory]:
    if not sshd_available():  # a loud failure: skipping would hide the SSH tests in CI
        pytest.fail("the SSH tests need OpenSSH sshd and root: scripts/setup.sh --test as root")
    factory = SshdFactory(tmp_path_factory.mktemp("sshd"))
    try:
        yield factory
    finally:
        factory.stop_all()


def fleet_config(
    factory: SshdFactory,
    servers: dict[str, Sshd],
    path: Path,
    *,
    ssh: str = "",
    server: str = "",
    tail: str = "",
) -> Path:
    """A configuration file naming ``servers`` (name -> sshd) as root with the factory's key.

    ``ssh``: more [ssh] lines; ``server``: more lines for every server; ``tail``: more
    tables (roles, mail). known_hosts is written beside ``path``.
    """
    known = path.with_name("known_hosts")
    known.write_text("".join(s.known_hosts_line() for s in servers.values()))
    text = (
        f'[ssh]\nknown_hosts = "{known}"\nconfig_file = "{path.with_name("no_ssh_config")}"\n'
        f"use_agent = false\n{ssh}"
    )
    for name, sshd in servers.items():
        text += (
            f'[[servers]]\nname = "{name}"\nhost = "127.0.0.1"\nport = {sshd.port}\n'
            f'user = "root"\nidentity_file = "{factory.client_key.private}"\n{server}'
        )
    path.write_text(text + tail)
    return path
