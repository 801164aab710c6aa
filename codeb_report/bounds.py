"""Length bounds on what servers print: the snapshot's strings and per-server lists.

A server may print up to ``[ssh] max_output_mib`` in all; without these bounds a 1 MB
hostname or container name would pass into the snapshot, the report and every night's
history. Two kinds of collected string, treated differently past their bound:

- **Names** (hostname, container, image, unit, mount, device, address, process, state):
  what the report, the diff and the findings match servers' parts by. Cut short, two
  names could read as one, so a longer one is refused: the probe that read it fails
  with the field and the limit (``Container.name: String should have at most 512
  characters``) and the rest of the server is collected as usual.
- **Text** (descriptions, status lines, OS and kernel, versions, error reasons): only
  shown. A longer one is cut to the bound, ending in ``…``.

Lists a probe fills (containers, services, ports, filesystems, …) hold at most
``MAX_ITEMS`` entries; past that the probe fails naming the list and the limit.

A snapshot stored before these bounds must still load: ``fit_stored`` cuts a name or a
list past its bound (a name ending in ``…``) instead of refusing the file.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

ELLIPSIS = "…"

# Names, refused past their bound. Linux allows 64 bytes for a hostname (253 for a
# DNS name); Docker 255 for an image's repository, plus tag and digest; systemd 256 for
# a unit name; PATH_MAX is 4096, but a mount point or device a table can show is short.
HOSTNAME_MAX = 255
NAME_MAX = 512  # container and image names; Kubernetes builds long ones
UNIT_MAX = 256
PATH_MAX = 1024
ADDRESS_MAX = 128  # an IPv6 address with its zone, or a host:port
WORD_MAX = 64  # states, filesystem types, protocols, engines

# Text, cut with "…" past its bound.
SHORT_TEXT_MAX = 128  # versions, a kernel release
TEXT_MAX = 256  # descriptions, status lines, an OS name
MESSAGE_MAX = 1000  # errors and reasons

# Entries of one list of one server: containers, services, ports, filesystems, ...
# A busy host has hundreds; 8 MiB of output could otherwise make ~80,000 rows.
MAX_ITEMS = 10_000
# A reverse proxy's routes, and the listen addresses, hosts, paths and upstreams of one.
MAX_ROUTES = 100
MAX_ROUTE_ITEMS = 32


def clip(value: Any, limit: int) -> Any:
    """``value`` cut to ``limit`` characters, the last one ``…``; non-strings unchanged
    (the type check after this names them)."""
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + ELLIPSIS
    return value


def _clipped(limit: int) -> Any:
    def cut(value: Any) -> Any:  # clip() inlined: it runs for every text of a snapshot
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - 1] + ELLIPSIS
        return value

    return Annotated[str, BeforeValidator(cut), Field(max_length=limit)]


Hostname = Annotated[str, Field(max_length=HOSTNAME_MAX)]
Name = Annotated[str, Field(max_length=NAME_MAX)]
UnitName = Annotated[str, Field(max_length=UNIT_MAX)]
PathName = Annotated[str, Field(max_length=PATH_MAX)]
Address = Annotated[str, Field(max_length=ADDRESS_MAX)]
Word = Annotated[str, Field(max_length=WORD_MAX)]

ShortText = _clipped(SHORT_TEXT_MAX)
Text = _clipped(TEXT_MAX)
Message = _clipped(MESSAGE_MAX)


def items(limit: int = MAX_ITEMS) -> Any:
    """A list field of at most ``limit`` entries, empty by default."""
    return Field(default_factory=list, max_length=limit)


_BOUND_ERRORS = frozenset({"string_too_long", "too_long"})


def fit_stored(data: Any, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cut the names and lists of stored ``data`` that ``errors`` found past their bound;
    return the other errors (which cutting cannot mend), in their order.

    Only the servers' parts: the provider part was bounded from its first version, so
    a value past its bounds there was never written by codeb-report and stays refused.
    Deepest places first, so a cut list does not move the strings inside it.
    """

    def ours(err: dict[str, Any]) -> bool:
        return err["type"] in _BOUND_ERRORS and err["loc"][:1] == ("servers",)

    others = [err for err in errors if not ours(err)]
    bound = [err for err in errors if ours(err)]
    for err in sorted(bound, key=lambda e: len(e["loc"]), reverse=True):
        limit = err["ctx"]["max_length"]
        *path, last = err["loc"]
        try:
            parent = data
            for key in path:
                parent = parent[key]
            value = parent[last]
        except (KeyError, IndexError, TypeError):
            value = None
        if not isinstance(value, list | str):
            others.append(err)  # not a place this can cut: said as it is
            continue
        parent[last] = value[:limit] if isinstance(value, list) else clip(value, limit)
    return others
