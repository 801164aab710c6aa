"""Host key verification as OpenSSH does it: known keys pass, unknown and changed keys refuse.

Keys are read from the user's and the system's known_hosts and any file the configuration
names (hashed entries and ``[host]:port`` names included, via paramiko's HostKeys).
An unknown key is refused with its fingerprint, or recorded in the configured file with
``--accept-new`` (OpenSSH's ``StrictHostKeyChecking=accept-new``). A changed key is
always refused: paramiko raises BadHostKeyException before any policy is asked.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from codeb_report.atomic import write_text_atomic

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
            f"{record_file}, or add it with: ssh-keyscan -p PORT HOST >> {record_file}"
        )


def changed_key_message(name: str, offered: paramiko.PKey, expected: paramiko.PKey) -> str:
    return (
        f"WARNING: the host key of {name} has CHANGED (offered {offered.get_name()} "
        f"{fingerprint(offered)}, known_hosts has {expected.get_name()} {fingerprint(expected)}); "
        "someone may be intercepting the connection. If the server was really reinstalled, "
        f"remove the old key with: ssh-keygen -R '{name}'"
    )


class KnownHosts:
    """All known_hosts files of one run, plus the file new keys are recorded in."""

    def __init__(
        self, record_file: Path, extra: Iterable[Path] = (), system: Path = SYSTEM_KNOWN_HOSTS
    ) -> None:
        self.record_file = record_file
        self.files = [p for p in (record_file, system, *extra) if p.is_file()]
        self._lock = threading.Lock()

    def install(self, client: paramiko.SSHClient, accept_new: bool) -> None:
        """Load every file into ``client`` and set the policy for unknown keys."""
        for path in self.files:
            client.load_system_host_keys(str(path))
        client.set_missing_host_key_policy(_policy_class()(self, accept_new))

    def record(self, name: str, key: paramiko.PKey) -> None:
        """Append ``name key`` to the record file, atomically and once per key."""
        line = f"{name} {key.get_name()} {key.get_base64()}\n"
        with self._lock:
            try:
                text = self.record_file.read_text(encoding="utf-8")
            except FileNotFoundError:
                text = ""
            if line in text.splitlines(keepends=True):
                return
            if text and not text.endswith("\n"):
                text += "\n"
            self.record_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_text_atomic(self.record_file, text + line)


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
            if not self.accept_new:
                raise UnknownHostKey(hostname, key, self.known.record_file)
            self.known.record(hostname, key)

    return VerifyPolicy
