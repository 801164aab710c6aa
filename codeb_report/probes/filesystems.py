"""Filesystems that hold data: block devices and network shares, not kernel pseudo-filesystems."""

from __future__ import annotations

import re

from codeb_report.probes.base import Probe, ProbeRun
from codeb_report.snapshot import Filesystem, Server

# Memory-backed, kernel-internal, read-only image and container-layer filesystems: their
# sizes say nothing about the disk a server may run out of.
PSEUDO_TYPES = frozenset(
    {
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devfs",
        "devpts", "devtmpfs", "efivarfs", "fusectl", "hugetlbfs", "iso9660", "mqueue", "none",
        "nsfs", "overlay", "overlayfs", "aufs", "proc", "pstore", "ramfs", "rpc_pipefs",
        "securityfs", "selinuxfs", "shm", "squashfs", "sysfs", "tmpfs", "tracefs", "udf",
        "fuse.gvfsd-fuse", "fuse.lxcfs", "fuse.portal", "fuse.snapfuse",
    }
)  # fmt: skip

# df -P prints one line per filesystem; only the mount point (last) may hold spaces.
DF_LINE = re.compile(
    r"^(?P<device>\S.*?)\s+(?P<fstype>\S+)\s+(?P<size>\d+)\s+(?P<used>\d+)\s+"
    r"(?P<available>\d+)\s+(?P<capacity>\d+%|-)\s+(?P<mount>/.*)$"
)


class FilesystemsProbe(Probe):
    """Mounted filesystems with their sizes in bytes (``df -PTB1``).

    Pseudo-filesystems (tmpfs, overlay, squashfs, ...) and empty ones are left out, and a
    device mounted several times (bind mounts, btrfs subvolumes) is listed once, at its
    shortest mount point.

    Sample output::

        Filesystem     Type      1-blocks        Used   Available Capacity Mounted on
        /dev/vda       ext4  270553174016 23782281216 85162012672      22% /
        tmpfs          tmpfs  25276502016       86016 25276416000       1% /dev/shm
        /dev/loop0     ext4      57381888     5257216    47428608      10% /srv/backup disk
    """

    name = "filesystems"

    def command(self) -> str:
        return "df -PTB1"

    def failure(self, run: ProbeRun) -> str | None:
        # df exits 1 when one mount point is unreadable (a stale share, another user's
        # FUSE mount) yet still reports all the others.
        if run.exit_code != 0 and any(DF_LINE.match(line) for line in run.stdout.splitlines()):
            return None
        return super().failure(run)

    def parse(self, output: str) -> list[Filesystem]:
        found: list[Filesystem] = []
        for line in output.splitlines():
            match = DF_LINE.match(line.rstrip())
            if not match or match["fstype"] in PSEUDO_TYPES or int(match["size"]) == 0:
                continue
            found.append(
                Filesystem(
                    mount=match["mount"],
                    device=match["device"],
                    fstype=match["fstype"],
                    size=int(match["size"]),
                    used=int(match["used"]),
                    available=int(match["available"]),
                )
            )
        return one_per_device(found)

    def store(self, server: Server, value: list[Filesystem]) -> None:
        server.filesystems = value


def one_per_device(filesystems: list[Filesystem]) -> list[Filesystem]:
    """A device mounted several times, listed once at its shortest mount point; by mount."""
    found: dict[str, Filesystem] = {}
    for fs in filesystems:
        seen = found.get(fs.device)
        if seen is None or (len(fs.mount), fs.mount) < (len(seen.mount), seen.mount):
            found[fs.device] = fs
    return sorted(found.values(), key=lambda f: f.mount)
