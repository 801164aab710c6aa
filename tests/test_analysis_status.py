"""Statuses of single figures, the 리소스 현황 rows, and the thresholds' model."""

from __future__ import annotations

import pytest
from analysis_fleet import GiB, MiB, server
from pydantic import ValidationError

from codeb_report.analysis.model import Level
from codeb_report.analysis.status import (
    container_status,
    load_status,
    resources,
    server_state,
    service_status,
    swap_status,
    usage_status,
)
from codeb_report.snapshot import Container, Filesystem, Server, Service, Swap
from codeb_report.thresholds import LoadBands, SwapBands, Thresholds, UsageBands

DEFAULTS = Thresholds()


@pytest.mark.parametrize(
    ("pct", "label"),
    [
        (2.66, "✅ 매우 여유"),  # n2's memory in the reference (3%)
        (4.58, "✅ 여유"),  # n4's memory (5%)
        (9.7, "✅ 여유"),  # n1's memory (10%)
        (13.8, "✅ 여유"),  # disks of 7-14%
        (79.9, "✅ 여유"),
        (80, "⚠️ 주의"),
        (89.9, "⚠️ 주의"),
        (90, "❌ 위험"),
        (100, "❌ 위험"),
    ],
)
def test_usage_bands(pct: float, label: str) -> None:
    assert usage_status(pct, DEFAULTS.memory).label == label
    assert usage_status(pct, DEFAULTS.disk).label == label


@pytest.mark.parametrize(
    ("pct", "label"), [(0, "✅ 정상"), (49.9, "✅ 정상"), (50, "⚠️ 주의"), (80, "❌ 위험")]
)
def test_swap_bands(pct: float, label: str) -> None:
    assert swap_status(pct, DEFAULTS.swap).label == label


@pytest.mark.parametrize(
    ("load5", "cpus", "word", "label"),
    [
        (0.05, 4, "매우 낮음", "✅ 안정"),  # n1: 0.09, 0.05, 0.02
        (0.00, 4, "거의 없음", "✅ 유휴"),  # n2
        (0.12, 4, "낮음", "✅ 안정"),  # n3: 0.13, 0.12, 0.14
        (0.02, 4, "거의 없음", "✅ 유휴"),  # n4: 0.08, 0.02, 0.01
        (2.4, 4, "보통", "✅ 안정"),
        (2.8, 4, "높음", "⚠️ 주의"),
        (4.0, 4, "과부하", "❌ 위험"),
        (1.2, 1, "과부하", "❌ 위험"),
    ],
)
def test_load_bands_per_cpu(load5: float, cpus: int, word: str, label: str) -> None:
    got_word, status = load_status(load5 / cpus, DEFAULTS.load)
    assert (got_word, status.label) == (word, label)


def test_load_row_reads_the_five_minute_figure() -> None:
    # A busy first minute (the collection itself) must not change the word.
    row = next(
        r for r in resources(server(load=(3.5, 0.05, 0.02)), DEFAULTS) if r.item.startswith("Load")
    )
    assert (row.value, row.usage, row.status.label) == ("3.50, 0.05, 0.02", "매우 낮음", "✅ 안정")


def test_resource_rows_like_the_reference() -> None:
    s = server(
        mem_total=16_355_432 * 1024,
        mem_used=int(1.52 * GiB),
        swap=Swap(total=8 * GiB, used=3 * MiB, free=8 * GiB - 3 * MiB),
        load=(0.09, 0.05, 0.02),
    )
    rows = [(r.item, r.value, r.usage, r.status.label) for r in resources(s, DEFAULTS)]
    assert rows == [
        ("Memory", "15GB (Total)", "1.5GB 사용 (10%)", "✅ 여유"),
        ("Disk", "300GB", "30GB 사용 (10%)", "✅ 여유"),
        ("Load Average", "0.09, 0.05, 0.02", "매우 낮음", "✅ 안정"),
        ("Swap", "8GB", "3MB 사용 (0%)", "✅ 정상"),
    ]


def test_no_swap_row_without_swap_and_root_disk_first() -> None:
    data = Filesystem(
        mount="/data", device="/dev/vdb", size=100 * GiB, used=95 * GiB, available=5 * GiB
    )
    s = server(swap=Swap(total=0, used=0, free=0))
    s.filesystems.insert(0, data)
    rows = resources(s, DEFAULTS)
    assert [r.item for r in rows] == ["Memory", "Disk", "Disk (/data)", "Load Average"]
    assert rows[2].usage == "95GB 사용 (95%)" and rows[2].status.label == "❌ 위험"


def test_disk_share_leaves_out_roots_reserve_like_df() -> None:
    s = server()
    s.filesystems = [
        Filesystem(
            mount="/", device="/dev/vda1", size=300 * GiB, used=39 * GiB, available=246 * GiB
        )
    ]
    disk = next(r for r in resources(s, DEFAULTS) if r.item == "Disk")
    assert disk.usage == "39GB 사용 (14%)"  # 39 / (39 + 246), not 39 / 300 (13%)
    assert disk.value == "300GB"  # ext4's 5% reserve: the reference's figures as they are


def test_disk_value_says_what_is_left_when_much_space_is_neither_used_nor_free() -> None:
    s = server()
    s.filesystems = [
        Filesystem(mount="/", device="/dev/vda", size=251 * GiB, used=23 * GiB, available=78 * GiB)
    ]
    disk = next(r for r in resources(s, DEFAULTS) if r.item == "Disk")
    # df's 23% is 23 / (23 + 78): with 여유 78GB beside 251GB the figures add up.
    assert (disk.value, disk.usage) == ("251GB (여유 78GB)", "23GB 사용 (23%)")


def test_thresholds_change_the_words() -> None:
    strict = Thresholds(memory=UsageBands(very_free_below=1, warn_at=5, crit_at=9))
    rows = resources(server(mem_used=int(1.2 * GiB)), strict)  # 7.5%
    assert rows[0].status.label == "⚠️ 주의"


@pytest.mark.parametrize(
    "bad",
    [
        {"memory": {"very_free_below": 50, "warn_at": 40}},
        {"load": {"warn_at": 2, "crit_at": 1}},
        {"swap": {"warn_at": 90, "crit_at": 80}},
        {"disk": {"warn_at": 120}},
        {"dsik": {}},  # a typo in the config must not pass silently
    ],
)
def test_thresholds_refuse_disordered_or_unknown_values(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Thresholds.model_validate(bad)


def test_threshold_defaults_are_documented_values() -> None:
    assert DEFAULTS.memory == UsageBands(very_free_below=4, warn_at=80, crit_at=90)
    assert DEFAULTS.swap == SwapBands(warn_at=50, crit_at=80)
    assert DEFAULTS.load == LoadBands(
        idle_below=0.01, very_low_below=0.02, low_below=0.5, warn_at=0.7, crit_at=1.0
    )


@pytest.mark.parametrize(
    ("state", "label"),
    [
        ("running", "✅ Up"),
        ("paused", "⚠️ Paused"),
        ("restarting", "⚠️ Restarting"),
        ("exited", "❌ Exited"),
        ("dead", "❌ Dead"),
    ],
)
def test_container_status(state: str, label: str) -> None:
    c = Container(runtime="docker", name="x", image="x:1", state=state)
    assert container_status(c).label == label


@pytest.mark.parametrize(
    ("active", "label"),
    [
        ("active", "✅ Active"),
        ("failed", "❌ Failed"),
        ("activating", "⚠️ Activating"),
        ("inactive", "⚠️ Inactive"),
    ],
)
def test_service_status(active: str, label: str) -> None:
    assert service_status(Service(unit="x.service", active=active, sub="dead")).label == label


def test_server_state() -> None:
    assert server_state(server()).label == "✅ Active"
    down = Server(name="n9", host="h", role="App", reachable=False, error="timed out")
    state = server_state(down)
    assert state.level == Level.CRIT and state.label == "❌ 연결 실패: 시간 초과 (응답 없음)"
    odd = down.model_copy(update={"error": "root@h:22: EOFError"})
    assert server_state(odd).label == "❌ 연결 실패"  # no Korean words: no English in table 1
