"""Sizes and durations as the reference report writes them."""

from __future__ import annotations

import pytest

from codeb_report import units

GiB, MiB, KiB = 2**30, 2**20, 2**10


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (16_355_432 * KiB, "15GB"),  # MemTotal of a 16 GB plan (15.6 GiB), as free -h shows it
        (8_126_000 * KiB, "7.7GB"),  # an 8 GB plan
        (int(1.52 * GiB), "1.5GB"),
        (int(1.5 * GiB), "1.5GB"),  # exactly 1.5 must not floor to 1.4
        (int(425.5 * MiB), "425MB"),
        (8 * GiB, "8GB"),  # no "8.0GB"
        (8 * GiB - 4096, "7.9GB"),  # floored, never overstated
        (3 * MiB, "3MB"),
        (int(300.5 * GiB), "300GB"),
        (int(39.9 * GiB), "39GB"),
        (0, "0B"),
        (1023, "1023B"),
        (1024, "1KB"),
        (2 * 1024**4, "2TB"),
    ],
)
def test_size(n: int, expected: str) -> None:
    assert units.size(n) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(95_338_496, "90.9MB"), (int(1.25 * GiB), "1.2GB"), (90 * MiB, "90MB"), (512, "512B")],
)
def test_size_fine_keeps_one_decimal_like_systemd(n: int, expected: str) -> None:
    assert units.size_fine(n) == expected


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(1.52, 15.6, 10), (2.5, 100, 3), (0.49, 100, 0), (1, 0, 0), (363.4, 7936, 5)],
)
def test_percent_rounds_half_up(part: float, whole: float, expected: int) -> None:
    assert units.percent(part, whole) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (25 * 3600, "25시간"),
        (47 * 3600, "47시간"),
        (47 * 3600 + 40 * 60, "2일"),  # docker rounds hours: 47h40m is 48 hours, so 2 days
        (50 * 3600, "2일"),
        (80 * 86400 + 5 * 3600, "80일"),
        (32 * 86400, "32일"),
        (59, "59초"),
        (61, "1분"),
        (3599, "59분"),
        (3600, "1시간"),
        (-5, "0초"),
    ],
)
def test_duration(seconds: float, expected: str) -> None:
    assert units.duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (86400 + 18 * 3600 + 7 * 60, "1일 18시간"),
        (203.456, "3분 23초"),
        (86400, "1일"),
        (86400 + 30, "1일"),  # two largest units only: days and hours
        (3600 + 5, "1시간"),
        (0, "0초"),
        (42, "42초"),
    ],
)
def test_span(seconds: float, expected: str) -> None:
    assert units.span(seconds) == expected
    assert units.cpu_time(seconds) == expected


def test_load() -> None:
    assert units.load((0.09, 0.05, 0.0)) == "0.09, 0.05, 0.00"
