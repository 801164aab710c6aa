"""Host key verification as OpenSSH does it: known keys pass, unknown and changed keys refuse.

Keys are read from the user's and the system's known_hosts and any file the configuration
names, matched as sshd(8) says (patterns, negations, hashed names, ``[host]:port``).
An unknown key is refused with its fingerprint, or recorded in the configured file with
``--accept-new`` (OpenSSH's ``StrictHostKeyChecking=accept-new``), hashed when
ssh_config says ``HashKnownHosts yes``. Host certificates are not verified: a host
covered only by a ``@cert-authority`` line is refused, saying so. A changed key is
always refused: paramiko raises BadHostKeyException before any policy is asked.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from codeb_report.atomic import make_private_folders
from codeb_report.collect.known_hosts_format import (
    CERT_AUTHORITY,
    HASH_MAGIC,
    REVOKED,
    Entry,
    hashed_name,
    parse_text,
)
from codeb_report.inputs import InputProblem, read_bounded

if TYPE_CHECKING:
    import paramiko

SYSTEM_KNOWN_HOSTS = Path("/etc/ssh/ssh_known_hosts")
# A known_hosts file is about 100 bytes a key; this holds hundreds of thousands of keys.
MAX_KNOWN_HOSTS = 64 * 2**20


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


class HostCertificateOnly(Exception):
    def __init__(self, name: str, where: str, record_file: Path) -> None:
        super().__init__(
            f"{name} is covered in known_hosts only by a @cert-authority line ({where}); "
            "codeb-report does not verify host certificates. After checking its "
            f"fingerprint, add the server's own key: {keyscan_command(name)} >> {record_file}"
        )


class KnownHosts:
    """All known_hosts files of one run, plus the file new keys are recorded in.

    Lines are matched as sshd(8) says (patterns, negations, hashed names, markers; see
    known_hosts_format). As OpenSSH does, lines that cannot be read are skipped rather
    than fatal, and keys marked ``@revoked`` are refused for every host, even where
    another line lists them. Each connection is given only the keys that cover its host.
    """

    def __init__(
        self, record_file: Path, extra: Iterable[Path] = (), system: Path = SYSTEM_KNOWN_HOSTS
    ) -> None:
        self.record_file = record_file
        self.files = [p for p in (record_file, system, *extra) if p.is_file()]
        self.skipped: list[str] = []  # "FILE:LINE" of lines that were not understood
        self.entries = [entry for path in self.files for entry in self._read(path)]
        self.revoked = {e.key.asbytes() for e in self.entries if e.marker == REVOKED}
        self._by_name, self._patterned = _index(
            e for e in self.entries if e.marker is None and e.key.asbytes() not in self.revoked
        )
        self._lock = threading.Lock()

    def _read(self, path: Path) -> list[Entry]:
        try:
            text = read_bounded(path, MAX_KNOWN_HOSTS).decode("utf-8", errors="replace")
        except (OSError, InputProblem):
            self.skipped.append(str(path))
            return []
        return list(parse_text(text, str(path), self.skipped))

    def keys_for(self, name: str) -> list[paramiko.PKey]:
        """The keys known for ``name`` (``host`` or ``[host]:port``), revoked ones left out,
        in the order of their lines."""
        found = self._by_name.get(name.lower(), [])
        found = found + [(n, e) for n, e in self._patterned if e.covers(name)]
        return [e.key for _, e in sorted(found, key=lambda item: item[0])]

    def install(
        self,
        client: paramiko.SSHClient,
        accept_new: bool,
        name: str,
        hashed: bool = False,
        offered: paramiko.PKey | None = None,
    ) -> None:
        """Give ``client`` the keys known for ``name`` and the policy for unknown keys.

        paramiko holds one key per type and host: the first line listing a type wins,
        unless ``offered`` (a key the host showed, listed on a later line, as during a
        key rotation) is given. ``hashed``: record new keys under a hashed name
        (ssh_config's HashKnownHosts).
        """
        host_keys = client.get_host_keys()
        types: set[str] = set()
        known = self.keys_for(name)
        if offered is not None:
            known.sort(key=lambda key: key != offered)  # stable: the rest keep their order
        for key in known:
            if key.get_name() not in types:
                types.add(key.get_name())
                host_keys.add(name, key.get_name(), key)
        client.set_missing_host_key_policy(_policy_class()(self, accept_new, hashed))

    def lists(self, name: str, key: paramiko.PKey) -> bool:
        """Whether some line gives ``key`` for ``name`` (revoked keys never count)."""
        return any(known == key for known in self.keys_for(name))

    def check_revoked(self, name: str, key: paramiko.PKey) -> None:
        if key.asbytes() in self.revoked:
            raise RevokedHostKey(name, key)

    def check_certificate_only(self, name: str) -> None:
        """A host that only a @cert-authority line covers is the CA's to vouch for; its
        plain key is neither trusted nor recorded, since certificates are not checked."""
        for entry in self.entries:
            if entry.marker == CERT_AUTHORITY and entry.covers(name):
                raise HostCertificateOnly(name, entry.where, self.record_file)

    def close(self) -> None:
        """Nothing is held open; kept for the connector's shutdown."""

    def record(self, name: str, key: paramiko.PKey, hashed: bool = False) -> None:
        """Append ``name key`` to the record file once per key, as ssh does; with
        ``hashed`` the name is written as ``|1|salt|hmac`` (HashKnownHosts yes).

        Appending in place (O_APPEND, under an exclusive flock) keeps the file's mode,
        a symlinked ~/.ssh/known_hosts, and any line another program appends meanwhile;
        a rewrite would lose all three. A new file is created 0600 in a 0700 folder.
        """
        label = hashed_name(name) if hashed else name
        line = f"{label} {key.get_name()} {key.get_base64()}\n".encode()
        with self._lock:
            make_private_folders(self.record_file.parent)
            fd = os.open(self.record_file, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                text = _read_all(fd)
                if _lists(text, name, key):
                    return
                if text and not text.endswith(b"\n"):
                    line = b"\n" + line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)  # releases the lock


Numbered = tuple[int, Entry]  # an entry and its place among all lines read


def _index(usable: Iterable[Entry]) -> tuple[dict[str, list[Numbered]], list[Numbered]]:
    """Entries whose names are all plain (no pattern, negation or hash), by name; the
    others in a list to match one by one. A fleet's known_hosts is mostly plain names: a
    thousand servers against a thousand lines would otherwise match a million patterns."""
    by_name: dict[str, list[Numbered]] = {}
    patterned: list[Numbered] = []
    for number, entry in enumerate(usable):
        names = entry.hosts.lower().split(",")
        if entry.hosts.startswith(HASH_MAGIC) or any(c in entry.hosts for c in "*?!"):
            patterned.append((number, entry))
            continue
        for name in dict.fromkeys(names):  # a name listed twice on a line counts once
            by_name.setdefault(name, []).append((number, entry))
    return by_name, patterned


def _lists(text: bytes, name: str, key: paramiko.PKey) -> bool:
    """Whether a plain line of ``text`` already gives ``key`` for ``name``."""
    entries = parse_text(text.decode("utf-8", errors="replace"), "", [])
    return any(e.marker is None and e.key == key and e.covers(name) for e in entries)


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

        def __init__(self, known: KnownHosts, accept_new: bool, hashed: bool) -> None:
            self.known, self.accept_new, self.hashed = known, accept_new, hashed

        def missing_host_key(
            self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
        ) -> None:
            self.known.check_revoked(hostname, key)  # before login, and never recorded
            self.known.check_certificate_only(hostname)
            if not self.accept_new:
                raise UnknownHostKey(hostname, key, self.known.record_file)
            self.known.record(hostname, key, self.hashed)

    return VerifyPolicy
