"""Host key verification as OpenSSH does it: known keys pass, unknown and changed keys refuse.

Keys are read from the user's and the system's known_hosts and any file the configuration
names (hashed entries and ``[host]:port`` names included, via paramiko's HostKeys).
An unknown key is refused with its fingerprint, or recorded in the configured file with
``--accept-new`` (OpenSSH's ``StrictHostKeyChecking=accept-new``). A changed key is
always refused: paramiko raises BadHostKeyException before any policy is asked.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import paramiko

SYSTEM_KNOWN_HOSTS = Path("/etc/ssh/ssh_known_hosts")


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:...`` as ``ssh-keygen -l`` and ssh's own prompt print it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def host_label(hostname: str, port: int) -> str:
    """The name known_hosts files use: ``host`` on port 22, else ``[host]:port``."""
    return hostname if port == 22 else f"[{hostname}]:{port}"


class UnknownHostKey(Exception):
    def __init__(self, name: str, key: paramiko.PKey, record_file: Path) -> None:
        self.name, self.key = name, key
        super().__init__(
            f"{name} is not in known_hosts ({key.get_name()} {fingerprint(key)}); "
            f"if that is the server's key, rerun with --accept-new to record it in "
            f"{record_file}, or add it with: {keyscan_command(name)} >> {record_file}"
        )


def keyscan_command(name: str) -> str:
    """``ssh-keyscan`` for a known_hosts name: ``[h]:2222`` -> ``ssh-keyscan -p 2222 h``."""
    if name.startswith("[") and "]:" in name:
        host, _, port = name[1:].partition("]:")
        return f"ssh-keyscan -p {port} {host}"
    return f"ssh-keyscan {name}"


def changed_key_message(name: str, offered: paramiko.PKey, expected: paramiko.PKey) -> str:
    return (
        f"WARNING: the host key of {name} has CHANGED (offered {offered.get_name()} "
        f"{fingerprint(offered)}, known_hosts has {expected.get_name()} {fingerprint(expected)}); "
        "someone may be intercepting the connection. If the server was really reinstalled, "
        f"remove the old key with: ssh-keygen -R '{name}'"
    )


class RevokedHostKey(Exception):
    def __init__(self, name: str, key: paramiko.PKey) -> None:
        super().__init__(
            f"the host key of {name} ({key.get_name()} {fingerprint(key)}) is marked "
            "@revoked in known_hosts"
        )


class KnownHosts:
    """All known_hosts files of one run, plus the file new keys are recorded in.

    As OpenSSH does, lines paramiko cannot read are skipped rather than fatal, and keys
    marked ``@revoked`` are refused, even where another line lists them for the host.
    Such files are handed to paramiko as a cleaned copy in a private temporary folder;
    clean files are read as they are.
    """

    def __init__(
        self, record_file: Path, extra: Iterable[Path] = (), system: Path = SYSTEM_KNOWN_HOSTS
    ) -> None:
        self.record_file = record_file
        self.files = [p for p in (record_file, system, *extra) if p.is_file()]
        self.revoked: set[bytes] = set()
        self.skipped: list[str] = []  # "FILE:LINE" of lines that were not understood
        self._copies: tempfile.TemporaryDirectory[str] | None = None
        # Two passes: a key revoked in any file is dropped from every file before
        # paramiko sees it, so it is refused before login, not after.
        read = [self._read(path) for path in self.files]
        self._loadable = [
            self._cleaned(path, index, lines, dirty)
            for index, (path, (lines, dirty)) in enumerate(zip(self.files, read, strict=True))
        ]
        self._lock = threading.Lock()

    def _read(self, path: Path) -> tuple[list[tuple[str, bytes]] | None, bool]:
        """The usable ``(line, key)`` pairs of a file (None: unreadable), and whether
        anything was left out; ``@revoked`` keys are collected on the way."""
        from paramiko.hostkeys import HostKeyEntry

        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            self.skipped.append(str(path))
            return None, True
        kept, dirty = [], False
        for number, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            marker = None
            if line.startswith("@"):
                marker, _, line = line.partition(" ")
            try:
                entry = HostKeyEntry.from_line(line, number)
            except Exception:  # paramiko raises on bad base64 and unknown formats
                entry = None
            if entry is None or marker is not None:
                dirty = True
                if entry is None:
                    self.skipped.append(f"{path}:{number}")
                elif marker == "@revoked":
                    self.revoked.add(entry.key.asbytes())
                continue  # @cert-authority: host certificates are not used here
            kept.append((line, entry.key.asbytes()))
        return kept, dirty

    def _cleaned(
        self, path: Path, index: int, lines: list[tuple[str, bytes]] | None, dirty: bool
    ) -> Path:
        """The file itself when paramiko may read it as it is, else a cleaned copy."""
        if lines is None:
            return Path(os.devnull)
        kept = [line for line, key in lines if key not in self.revoked]
        if not dirty and len(kept) == len(lines):
            return path
        if self._copies is None:
            self._copies = tempfile.TemporaryDirectory(prefix="codeb-report-known-hosts-")
        copy = Path(self._copies.name) / f"{index}-{path.name}"
        copy.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        return copy

    def install(self, client: paramiko.SSHClient, accept_new: bool) -> None:
        """Load every file into ``client`` and set the policy for unknown keys."""
        for path in self._loadable:
            client.load_system_host_keys(str(path))
        client.set_missing_host_key_policy(_policy_class()(self, accept_new))

    def check_revoked(self, name: str, key: paramiko.PKey) -> None:
        if key.asbytes() in self.revoked:
            raise RevokedHostKey(name, key)

    def close(self) -> None:
        if self._copies is not None:
            self._copies.cleanup()
            self._copies = None

    def record(self, name: str, key: paramiko.PKey) -> None:
        """Append ``name key`` to the record file once per key, as ssh does.

        Appending in place (O_APPEND, under an exclusive flock) keeps the file's mode,
        a symlinked ~/.ssh/known_hosts, and any line another program appends meanwhile;
        a rewrite would lose all three. A new file is created 0600 in a 0700 folder.
        """
        line = f"{name} {key.get_name()} {key.get_base64()}\n".encode()
        with self._lock:
            self.record_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.record_file, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                text = _read_all(fd)
                if line in text.splitlines(keepends=True):
                    return
                if text and not text.endswith(b"\n"):
                    line = b"\n" + line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)  # releases the lock


def _read_all(fd: int) -> bytes:
    chunks, offset = [], 0
    while chunk := os.pread(fd, 65536, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _policy_class() -> type:
    """Built on first use so that importing this module does not import paramiko."""
    import paramiko

    class VerifyPolicy(paramiko.MissingHostKeyPolicy):
        """Asked only for keys no file knows: refuse, or record under --accept-new."""

        def __init__(self, known: KnownHosts, accept_new: bool) -> None:
            self.known, self.accept_new = known, accept_new

        def missing_host_key(
            self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
        ) -> None:
            self.known.check_revoked(hostname, key)  # before login, and never recorded
            if not self.accept_new:
                raise UnknownHostKey(hostname, key, self.known.record_file)
            self.known.record(hostname, key)

    return VerifyPolicy
