"""known_hosts lines as sshd(8) describes them (SSH_KNOWN_HOSTS FILE FORMAT).

A line is ``[marker] hostnames keytype base64-key [comment]``:

- the marker is ``@cert-authority`` or ``@revoked``;
- hostnames is a comma-separated list of patterns, ``*`` and ``?`` acting as wildcards,
  matched against ``host`` on port 22 and ``[host]:port`` on any other port (so
  ``[127.0.0.*]:2222`` covers a subnet on port 2222);
- a pattern preceded by ``!`` negates: a host matching it is not covered by the line,
  even where another pattern of the line matches;
- ``|1|salt|hmac`` is a hashed name: HMAC-SHA1 of the name, keyed with the salt.

Names are compared without regard to case, as ssh lowercases the host it connects to.
paramiko's own HostKeys knows exact and hashed names only, hence this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import paramiko

CERT_AUTHORITY = "@cert-authority"
REVOKED = "@revoked"
MARKERS = (CERT_AUTHORITY, REVOKED)
HASH_MAGIC = "|1|"


@dataclass(frozen=True)
class Entry:
    """One usable line: what it says about which hosts, and where it was read."""

    marker: str | None
    hosts: str
    key: paramiko.PKey
    where: str  # FILE:LINE, for messages

    def covers(self, name: str) -> bool:
        return hosts_match(self.hosts, name)


class BadLine(ValueError):
    """A line ssh would skip (unknown marker, key type or base64)."""


def parse_line(line: str, where: str) -> Entry | None:
    """The entry of one line; None for blank lines and comments; BadLine for the rest."""
    import paramiko

    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return None
    marker = None
    if fields[0].startswith("@"):
        marker, *fields = fields
        if marker not in MARKERS:
            raise BadLine(f"unknown marker {marker}")
    if len(fields) < 3:
        raise BadLine("too few fields")
    hosts, keytype, data = fields[:3]
    try:
        key = paramiko.PKey.from_type_string(keytype, base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError, paramiko.SSHException) as exc:
        raise BadLine(str(exc)) from None
    except Exception as exc:  # paramiko's key classes raise what their parsers raise
        raise BadLine(f"{type(exc).__name__}: {exc}") from None
    return Entry(marker, hosts, key, where)


def parse_text(text: str, source: str, skipped: list[str]) -> Iterator[Entry]:
    """Every entry of a file's text; lines ssh would skip are skipped, their FILE:LINE
    added to ``skipped``."""
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{source}:{number}"
        try:
            entry = parse_line(line, where)
        except BadLine:
            skipped.append(where)
            continue
        if entry is not None:
            yield entry


def hosts_match(hosts: str, name: str) -> bool:
    """Whether the hostnames field covers ``name`` (``host`` or ``[host]:port``)."""
    name = name.lower()
    if hosts.startswith(HASH_MAGIC):
        return _hashed_match(hosts, name)
    matched = False
    for pattern in hosts.split(","):
        negated = pattern.startswith("!")
        if _glob(pattern[1:] if negated else pattern).fullmatch(name):
            if negated:
                return False  # a negated match wins over every other pattern
            matched = True
    return matched


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    """OpenSSH's match_pattern: ``*`` any run of characters, ``?`` one; nothing else is
    special (``[`` in ``[host]:port`` is literal, unlike fnmatch)."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.compile("".join(parts), re.DOTALL)


def _hashed_match(hosts: str, name: str) -> bool:
    salt_b64, _, digest_b64 = hosts[len(HASH_MAGIC) :].partition("|")
    try:
        salt = base64.b64decode(salt_b64, validate=True)
        digest = base64.b64decode(digest_b64, validate=True)
    except binascii.Error:
        return False
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(mac, digest)


def hashed_name(name: str, salt: bytes | None = None) -> str:
    """``|1|salt|hmac`` as ``ssh-keygen -H`` and HashKnownHosts write it."""
    salt = salt if salt is not None else os.urandom(hashlib.sha1().digest_size)
    mac = hmac.new(salt, name.lower().encode(), hashlib.sha1).digest()
    return f"{HASH_MAGIC}{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"
