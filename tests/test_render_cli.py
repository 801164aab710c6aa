"""``codeb-report render`` as a user runs it: a whole process on the example fleet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "codeb-report"
EXAMPLE = ROOT / "examples" / "fleet-snapshot.json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=120)


def test_render_writes_the_three_reports_of_the_example(tmp_path: Path) -> None:
    done = run("render", str(EXAMPLE), "--format", "md,html,pdf", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    names = ["report.md", "report.html", "report.pdf"]
    assert done.stdout.split() == [str(tmp_path / n) for n in names]
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert (
        "| **n4** | videopick-phase2-backup | 141.164.37.63 | Backup | ✅ Active | 32일 |" in text
    )


def test_unwritable_output_is_exit_8_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = run("render", str(EXAMPLE), "--format", "md", "--out", str(blocker / "out"))
    assert done.returncode == 8
    assert len(done.stderr.strip().splitlines()) == 1
    assert f"{blocker / 'out'}: cannot create the folder: Not a directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_weasyprint_import_leaves_find_library_as_it_was() -> None:
    code = (
        "import ctypes.util as u; before = u.find_library\n"
        "from codeb_report.render.weasy import import_weasyprint\n"
        "w = import_weasyprint()\n"
        "assert u.find_library is before and u.find_library('c')\n"
        "assert w.HTML(string='<p>x</p>').write_pdf().startswith(b'%PDF-')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_an_empty_fleet_still_renders(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from codeb_report.analysis import analyse
    from codeb_report.render import render_report
    from codeb_report.snapshot import Snapshot

    snapshot = Snapshot(collected_at=datetime(2025, 12, 20, tzinfo=UTC), collector_version="0")
    paths = render_report(snapshot, analyse(snapshot), ["md", "html"], tmp_path)
    text = paths[0].read_text(encoding="utf-8")
    assert "## 1. 서버 현황 요약" in text and "## 6. 결론" in text


def test_render_with_the_example_configuration_uses_its_descriptions(tmp_path: Path) -> None:
    config = ROOT / "examples" / "codeb-report.toml"
    done = run("render", str(EXAMPLE), "-c", str(config), "-f", "md", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| 3101 | 0.0.0.0 | node | SSOT Registry |" in text
    assert "| codeb-watchdog | ✅ Active | 워치독 모니터 |" in text
