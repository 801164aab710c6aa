"""The diff's PDF prints like the report: running title, date and "N / M" on every page."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from codeb_report.history.view import DiffView, Table
from codeb_report.render.diff_report import diff_pdf


def _page(pdf: Path, number: int) -> str:
    run = subprocess.run(
        ["pdftotext", "-layout", "-f", str(number), "-l", str(number), pdf, "-"],
        capture_output=True,
        check=True,
        text=True,
    )
    return run.stdout


def test_diff_pdf_has_the_reports_header_date_and_page_numbers(tmp_path: Path) -> None:
    rows = [[f"m{i:03d}", "🆕 추가", "Worker"] for i in range(150)]  # several pages
    view = DiffView(
        old_label="2025-12-19 03:00",
        new_label="2025-12-20 03:00",
        summary=["🆕 추가: m000 (Worker)"],
        tables=[Table("서버", ["서버", "변경", "내용"], rows)],
    )
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(diff_pdf(view))
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, check=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 2
    for number in range(1, pages + 1):
        text = _page(pdf, number)
        head = text.strip().splitlines()[0]
        assert "2025-12-20" in head  # the date, top right
        assert re.search(rf"\b{number}\s*/\s*{pages}$", text.strip().splitlines()[-1])
        if number > 1:  # the title runs on every page after the first, as in the report
            assert "CodeB 서버 변경 사항 리포트" in head
