"""SSH transport: resolve a server as ssh would, connect (through jump hosts), run scripts.

paramiko is imported inside the functions that use it so that ``codeb-report --help``
and local collection never pay for it.
"""

from __future__ import annotations

import errno
import getpass
import logging
import random
import select
import shlex
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from codeb_report.collect.hostkeys import (
    HostCertificateOnly,
    KnownHosts,
    RevokedHostKey,
    UnknownHostKey,
    changed_key_message,
    host_label,
)
from codeb_report.collect.runner import (
    MAX_OUTPUT,
    READ_SIZE,
    CommandResult,
    CommandTimeout,
    OutputBuffer,
)
from codeb_report.collect.ssh_config import SYSTEM_SSH_CONFIG

if TYPE_CHECKING:
    import paramiko

    from codeb_report.config import Config, ServerConfig

# paramiko logs a traceback for every dropped connection ("Error reading SSH protocol
# banner"); the reason reaches the user through the snapshot and progress instead.
_paramiko_log = logging.getLogger("paramiko")
_paramiko_log.addHandler(logging.NullHandler())
_paramiko_log.propagate = False


@dataclass(frozen=True)
class Target:
    """Where and as whom to log in, after ~/.ssh/config has had its say."""

    label: str  # the configured name, or the jump spec, for messages
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    jump: Target | None = None
    sudo: bool = False
    hash_known_hosts: bool = False  # ssh_config's HashKnownHosts: how --accept-new records

    def describe(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"


class ConnectError(Exception):
    """Connecting failed; the message starts with the Korean category the report shows."""


# How a failure at a jump host starts: "점프 호스트 gate: <the jump host's own reason>".
JUMP_HOST = "점프 호스트"


def _identity_files(target: Target) -> list[str] | None:
    """The identity files that exist, as ssh skips a missing one; none at all is a login
    failure naming them (paramiko would stop at the first with "No such file")."""
    if not target.identity_files:
        return None
    present = [path for path in target.identity_files if Path(path).exists()]
    if not present:
        files = ", ".join(target.identity_files)
        raise ConnectError(f"인증 실패: {target.describe()}: identity_file {files}: no such file")
    return present


def _ssh_config(path: Path, system: Path | None) -> paramiko.SSHConfig | None:
    """The user's file, then the system's, with Include followed (paramiko does not)."""
    from codeb_report.collect import paramiko_import, ssh_config

    paramiko = paramiko_import.load()

    try:
        user = ssh_config.user_text(path)
        if user is not None:
            paramiko.SSHConfig.from_text(user)  # its errors are the user's to fix
    except ssh_config.SSHConfigError as exc:
        raise ConnectError(f"설정 오류: {exc}") from None
    except Exception as exc:  # a broken ~/.ssh/config should name itself, not crash
        raise ConnectError(f"설정 오류: {path}: {exc}") from None
    try:
        extra = ssh_config.system_text(system)
        if extra is not None:
            paramiko.SSHConfig.from_text(extra)
    except Exception:
        # What paramiko cannot parse there (e.g. Fedora's "Match final all") is the
        # system's, which ssh reads fine: go on without it rather than fail every run.
        extra = None
    text = ssh_config.joined(user, extra)
    if text is None:
        return None
    if paramiko_import.uses_match_exec(text):
        paramiko_import.allow_match_exec()
    return paramiko.SSHConfig.from_text(text)


def _parse_jump(spec: str) -> tuple[str | None, str, int | None]:
    """``[user@]host[:port]`` (also ``ssh://`` URIs) -> (user, host, port)."""
    spec = spec.removeprefix("ssh://")
    user, _, hostport = spec.rpartition("@")
    host, port = hostport, None
    if hostport.startswith("["):  # [v6]:port
        host, _, rest = hostport[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else None
    elif hostport.count(":") == 1:
        host, _, p = hostport.partition(":")
        port = int(p) if p.isdigit() else None
        if port is None:
            raise ConnectError(f"설정 오류: ProxyJump {spec!r}: the port is not a number")
    return user or None, host, port


class Resolver:
    """Turns configured servers into Targets, honouring ~/.ssh/config like ssh does.

    Values set in the codeb-report file win over ~/.ssh/config, as command-line options
    win over it for ssh.
    """

    def __init__(self, config: Config, system_config: Path | None = SYSTEM_SSH_CONFIG) -> None:
        from codeb_report.config import expand

        self.config = config
        self.ssh_config = _ssh_config(expand(config.ssh.config_file), system_config)

    def _lookup(self, alias: str) -> dict:
        return dict(self.ssh_config.lookup(alias)) if self.ssh_config else {"hostname": alias}

    def server(self, server: ServerConfig, seen: frozenset[str] = frozenset()) -> Target:
        if server.name in seen:
            raise ConnectError(f"설정 오류: jump hosts loop through {server.name}")
        found = self._lookup(server.host)
        identity = [server.identity_file] if server.identity_file else found.get("identityfile", [])
        jump_spec = server.jump or found.get("proxyjump")
        return Target(
            label=server.name,
            hostname=found.get("hostname", server.host),
            port=server.port or int(found.get("port", 22)),
            user=server.user or found.get("user") or getpass.getuser(),
            identity_files=tuple(str(Path(p).expanduser()) for p in identity),
            jump=self._jump(jump_spec, seen | {server.name}),
            sudo=server.sudo,
            hash_known_hosts=_yes(found.get("hashknownhosts")),
        )

    def _jump(self, spec: str | None, seen: frozenset[str]) -> Target | None:
        if not spec or spec.lower() == "none":
            return None
        hops = [h.strip() for h in spec.split(",") if h.strip()]
        target: Target | None = None
        for hop in hops:  # ProxyJump a,b: reach a, then b through a
            target = self._hop(hop, target, seen)
        return target

    def _hop(self, hop: str, via: Target | None, seen: frozenset[str]) -> Target:
        named = self.config.server(hop)
        if named is not None:
            resolved = self.server(named, seen)
            return resolved if via is None else replace(resolved, jump=via)
        if hop in seen:
            raise ConnectError(f"설정 오류: ProxyJump loops through {hop}")
        user, host, port = _parse_jump(hop)
        found = self._lookup(host)
        identity = found.get("identityfile", [])
        inner = self._jump(found.get("proxyjump"), seen | {hop}) if via is None else via
        return Target(
            label=hop,
            hostname=found.get("hostname", host),
            port=port or int(found.get("port", 22)),
            user=user or found.get("user") or getpass.getuser(),
            identity_files=tuple(str(Path(p).expanduser()) for p in identity),
            jump=inner,
            hash_known_hosts=_yes(found.get("hashknownhosts")),
        )


def _yes(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "yes"


@dataclass
class ConnectSettings:
    connect_timeout: float = 10.0
    attempts: int = 6
    use_agent: bool = True
    accept_new: bool = False


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it was raised from: paramiko wraps socket errors."""
    found: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and node not in found and len(found) < 8:
        found.append(node)
        node = node.__cause__ or node.__context__
    return found


DROPPED = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError)


def _timed_out(exc: BaseException) -> bool:
    return any(isinstance(e, socket.timeout | TimeoutError) for e in _chain(exc))


def _retryable(exc: BaseException) -> bool:
    """Connections sshd drops before its banner (MaxStartups) are worth another try.

    A server that stays silent until the timeout is not: trying again only waits again.
    """
    import paramiko

    if isinstance(exc, paramiko.AuthenticationException | paramiko.BadHostKeyException):
        return False
    if _timed_out(exc):
        return False
    if any(isinstance(e, DROPPED) for e in _chain(exc)):
        return True
    if isinstance(exc, paramiko.SSHException):
        text = str(exc).lower()
        return "banner" in text or "reset" in text or "eof" in text
    return False


def _describe(exc: BaseException, target: Target) -> str:
    """One line for the snapshot. The report prints it after "❌ 연결 실패", so a plain
    refusal carries no Korean word of its own; other causes name themselves first."""
    import paramiko

    where = target.describe()
    if isinstance(exc, UnknownHostKey):
        return f"호스트 키 미확인: {exc}"
    if isinstance(exc, RevokedHostKey):
        return f"호스트 키 폐기됨: {exc}"
    if isinstance(exc, HostCertificateOnly):
        return f"호스트 인증서 미지원: {exc}"
    if isinstance(exc, paramiko.BadHostKeyException):
        name = host_label(target.hostname, target.port)
        return f"호스트 키 불일치: {changed_key_message(name, exc.key, exc.expected_key)}"
    if isinstance(exc, OSError) and exc.filename in target.identity_files:
        return f"인증 실패: {where}: cannot read identity_file {exc.filename}: {exc.strerror}"
    if isinstance(exc, paramiko.AuthenticationException):
        return f"인증 실패: {where}: {exc}"
    if isinstance(exc, paramiko.SSHException) and "No authentication methods" in str(exc):
        return f"인증 실패: {where}: no key to offer (identity_file, ~/.ssh/id_*, ssh-agent)"
    if _timed_out(exc):
        return f"시간 초과: {where}: no answer within the connect timeout"
    if isinstance(exc, socket.gaierror):
        return f"{target.hostname}: unknown host ({exc.strerror})"
    if isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED:
        return f"{where}: connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{where}: {exc.strerror}"
    detail = str(exc) or type(exc).__name__
    return f"{where}: {detail}"


class Connector:
    """Opens one authenticated SSHClient per target; jump hosts are shared by a run."""

    def __init__(self, known: KnownHosts, settings: ConnectSettings) -> None:
        self.known, self.settings = known, settings
        self._jumps: dict[Target, paramiko.SSHClient | ConnectError] = {}
        self._jump_locks: dict[Target, threading.Lock] = {}
        self._lock = threading.Lock()

    def connect(self, target: Target, deadline: float) -> paramiko.SSHClient:
        """Connect with retries of dropped connections, or raise ConnectError."""
        via = self._jump_client(target.jump, deadline) if target.jump else None
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._connect_once(target, via, deadline)
            except ConnectError:
                raise
            except Exception as exc:
                pause = min(2.0, 0.1 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
                if (
                    not _retryable(exc)
                    or attempt >= self.settings.attempts
                    or _remaining(deadline) < pause + 0.5
                ):
                    reason = _describe(exc, target)
                    if attempt > 1:
                        reason += f" (after {attempt} attempts)"
                    raise ConnectError(reason) from None
                time.sleep(pause)

    def _jump_client(self, jump: Target, deadline: float) -> paramiko.SSHClient:
        with self._lock:
            lock = self._jump_locks.setdefault(jump, threading.Lock())
        with lock:
            known = self._jumps.get(jump)
            if known is None:
                try:
                    known = self.connect(jump, deadline)
                except ConnectError as exc:
                    # The servers behind it are not at fault: said first, in every summary.
                    known = ConnectError(f"{JUMP_HOST} {jump.label}: {exc}")
                self._jumps[jump] = known
        if isinstance(known, ConnectError):
            raise known
        return known

    def _socket(self, target: Target, via: paramiko.SSHClient | None, timeout: float):
        if via is not None:
            transport = via.get_transport()
            if transport is None or not transport.is_active():
                raise ConnectError(f"{target.describe()}: the jump host connection closed")
            import paramiko

            try:
                return transport.open_channel(
                    "direct-tcpip",
                    (target.hostname, target.port),
                    ("127.0.0.1", 0),
                    timeout=timeout,
                )
            except paramiko.ChannelException as exc:
                jump = target.jump.label if target.jump else "?"
                raise ConnectError(
                    f"{JUMP_HOST} {jump}: 전달 거부: forwarding to {target.hostname}:"
                    f"{target.port} refused ({exc.text}; sshd's AllowTcpForwarding, PermitOpen)"
                ) from None
        sock = socket.create_connection((target.hostname, target.port), timeout=timeout)
        # paramiko leaves Nagle on: login then takes ~59 ms instead of ~18 ms on loopback.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _connect_once(
        self,
        target: Target,
        via: paramiko.SSHClient | None,
        deadline: float,
        offered: paramiko.PKey | None = None,
    ) -> paramiko.SSHClient:
        """One connection; ``offered``: a key the host showed last time that a later
        known_hosts line lists (paramiko compares only one key per type)."""
        import paramiko

        timeout = max(0.5, min(self.settings.connect_timeout, _remaining(deadline)))
        keys = _identity_files(target)
        sock = self._socket(target, via, timeout)
        client = paramiko.SSHClient()
        name = host_label(target.hostname, target.port)
        accept_new, hashed = self.settings.accept_new, target.hash_known_hosts
        self.known.install(client, accept_new, name, hashed, offered)
        try:
            client.connect(
                target.hostname,
                port=target.port,
                username=target.user,
                sock=sock,
                key_filename=keys,
                look_for_keys=not target.identity_files,
                allow_agent=self.settings.use_agent,
                # start_client gives up silently at `timeout` and leaves the banner's own
                # timeout error unseen ("No existing session"): let the banner time out first.
                timeout=timeout + 1.0,
                banner_timeout=timeout,
                auth_timeout=timeout,
                channel_timeout=timeout,
                transport_factory=_aead_first,
            )
        except paramiko.BadHostKeyException as exc:
            client.close()
            sock.close()
            # A revoked key is in none of the files paramiko reads; if the host has
            # other keys listed, paramiko calls it changed: say what it really is.
            self.known.check_revoked(name, exc.key)
            if offered is None and self.known.lists(name, exc.key):
                # Two keys of one type for the host (a rotation): either one is its key,
                # as for ssh. Again, comparing with the one it showed.
                return self._connect_once(target, via, deadline, exc.key)
            raise
        except BaseException:
            client.close()
            sock.close()
            raise
        return client

    def close(self) -> None:
        for client in self._jumps.values():
            if not isinstance(client, ConnectError):
                client.close()
        self._jumps.clear()
        self.known.close()


def _aead_first(sock: socket.socket | paramiko.Channel, **options: object) -> paramiko.Transport:
    """A Transport asking for AES-GCM before paramiko's other ciphers.

    With AES-CTR and HMAC, paramiko checks each packet's MAC byte by byte in Python, a
    tenth of its CPU time per server; AES-GCM's tag is checked inside OpenSSL. Servers
    without GCM (OpenSSH before 6.2, older Dropbear) still get paramiko's others, in its
    own order.
    """
    import paramiko

    transport = paramiko.Transport(sock, **options)  # type: ignore[arg-type]
    security = transport.get_security_options()
    security.ciphers = tuple(sorted(security.ciphers, key=lambda name: "-gcm@" not in name))
    return transport


@dataclass
class SSHRunner:
    """Runs a script over an open connection: one channel, one exec per call."""

    client: paramiko.SSHClient
    sudo: bool = False
    max_output: int = MAX_OUTPUT

    def command(self, script: str) -> str:
        # The login shell may not be POSIX (fish, csh): always hand the script to /bin/sh.
        argv = ["sudo", "-n", "/bin/sh", "-c", script] if self.sudo else ["/bin/sh", "-c", script]
        return shlex.join(argv)

    def run(self, script: str, timeout: float, stdin: str | None = None) -> CommandResult:
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise CommandTimeout("the connection is closed")
        deadline = time.monotonic() + timeout
        chan = transport.open_session(timeout=max(0.1, timeout))
        try:
            chan.exec_command(self.command(script))
            if stdin:
                chan.sendall(stdin.encode("utf-8"))
            chan.shutdown_write()
            buffer = OutputBuffer(self.max_output)
            _drain(chan, buffer, deadline, timeout)
            code = chan.recv_exit_status()
        finally:
            # Also when the output was too large: closing the channel is what stops the
            # server's side (its pipes close); the unread rest is never held here.
            chan.close()
        out, err = buffer.texts()
        return CommandResult(out, err, code)


def _drain(chan: paramiko.Channel, buffer: OutputBuffer, deadline: float, timeout: float) -> None:
    """Read both streams into ``buffer`` until the server's EOF and the exit status.

    The exit status alone does not mean all output is here: sshd sends it as soon as
    the command exits, then whatever it has not yet read from the command's pipes (on
    a loaded server, most of it). Like ssh, read until the server says EOF.

    paramiko holds at most one window (2 MiB) of unread data per channel, so memory
    stays within the buffer's limit plus that window however much the server prints.
    """
    while True:
        left = _remaining(deadline)
        if left <= 0:
            raise CommandTimeout(f"no answer within {timeout:g} s")
        # After EOF the channel stays readable: wait briefly for the exit status instead.
        if chan.eof_received:
            time.sleep(min(left, 0.01))
        else:
            select.select([chan], [], [], min(left, 1.0))
        while chan.recv_ready():
            buffer.add(chan.recv(READ_SIZE))
        while chan.recv_stderr_ready():
            buffer.add(chan.recv_stderr(READ_SIZE), stderr=True)
        if chan.recv_ready() or chan.recv_stderr_ready():
            continue
        if chan.closed or (chan.eof_received and chan.exit_status_ready()):
            break
