"""What section 3 says the Vultr account costs, as the person paying the bill reads it:
automatic backups and block storage are part of the month, the account's pending
charges and credit are said, and prices are written one way."""

from __future__ import annotations

import re
from pathlib import Path

from test_example_snapshot import EXAMPLE

from codeb_report.analysis import analyse
from codeb_report.provider.model import BlockStorage
from codeb_report.render import render_report
from codeb_report.snapshot import Snapshot, load


def sections_3_and_4(snapshot: Snapshot, out: Path) -> str:
    [md] = render_report(snapshot, analyse(snapshot), ["md"], out)
    return md.read_text(encoding="utf-8").split("## 3. ")[1].split("## 5. ")[0]


def test_the_month_counts_automatic_backups(tmp_path: Path) -> None:
    # n3 and n4 have automatic backups: 20 % of $80 and of $40 on top of $280.
    text = sections_3_and_4(load(EXAMPLE), tmp_path)
    assert "**월 요금**: $304 (인스턴스 $280, 자동 백업 $24)" in text
    assert "이번 달 누적 사용 요금 $180.65 (미청구)" in text
    assert "크레딧 잔액 $25" in text


def test_block_storage_is_part_of_the_month(tmp_path: Path) -> None:
    snapshot = load(EXAMPLE)
    assert snapshot.provider is not None
    snapshot.provider.blocks = [BlockStorage(id="bs-1", label="pg-data", size_gb=100, cost=10)]
    text = sections_3_and_4(snapshot, tmp_path)
    assert "**월 요금**: $314 (인스턴스 $280, 자동 백업 $24, 블록 스토리지 $10)" in text


def test_prices_are_written_one_way(tmp_path: Path) -> None:
    text = sections_3_and_4(load(EXAMPLE), tmp_path)
    assert not re.findall(r"\$\d+\.00\b", text)  # $20, as the findings write it
    assert "월 $20)" in text and "1대 추가 시 월 $20 (vc2-2c-4gb)" in text
