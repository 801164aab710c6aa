"""Label values past the snapshot's bounds for names (a 1,000-character nodename or a
100-character fstype: Prometheus' client keeps labels up to 1,024 characters) leave that part of
a server's figures out with the reason, like an impossible number; the rest of the
fleet's reading goes on. Served by a real HTTP server on 127.0.0.1 (``canned_http``)."""

from __future__ import annotations

from servers.prometheus import CannedAnswer
from test_prometheus_hostile import AT, TARGETS, vector

from codeb_report.prometheus.collect import read_fleet
from codeb_report.prometheus.settings import PrometheusSettings


def answer(nodename: str = "n1", fstype: str = "ext4") -> bytes:
    fs = {"mountpoint": "/", "device": "/dev/vda1", "fstype": fstype}
    return vector(
        [
            ("up", str(AT), {}),
            ("node_uname_info", "1", {"nodename": nodename, "release": "6.1.0"}),
            ("node_memory_MemTotal_bytes", "1000", {}),
            ("node_memory_MemAvailable_bytes", "500", {}),
            ("node_time_seconds", str(AT), {}),
            ("node_filesystem_size_bytes", "1000", fs),
            ("node_filesystem_free_bytes", "500", fs),
            ("node_filesystem_avail_bytes", "400", fs),
        ]
    )


def test_a_hostname_past_its_bound_leaves_the_system_part_out(
    canned_http: tuple[str, CannedAnswer],
) -> None:
    url, canned = canned_http
    canned.body = answer(nodename="N" * 1000)
    reading = read_fleet(PrometheusSettings(url=url), TARGETS, at=AT).readings["n1"]
    assert reading.error is None and reading.system is None
    assert reading.problems["system"] == (
        "unreadable series: SystemInfo.hostname: String should have at most 255 characters"
    )
    assert reading.memory is not None and reading.filesystems  # the other parts are kept
    assert reading.provided() == {"memory", "filesystems"}


def test_a_filesystem_type_past_its_bound_leaves_the_filesystems_out(
    canned_http: tuple[str, CannedAnswer],
) -> None:
    url, canned = canned_http
    canned.body = answer(fstype="f" * 100)
    reading = read_fleet(PrometheusSettings(url=url), TARGETS, at=AT).readings["n1"]
    assert reading.error is None and reading.filesystems is None
    assert reading.problems["filesystems"] == (
        "unreadable series: Filesystem.fstype: String should have at most 64 characters"
    )
    assert reading.system is not None and reading.system.hostname == "n1"
