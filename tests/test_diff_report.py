"""``codeb-report diff`` as a user runs it: arguments, formats, exit status as diff(1)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import history_gen as gen
import pytest

from codeb_report.history.diff import diff_snapshots
from codeb_report.render.diff_report import render_diff
from codeb_report.snapshot import save

CLI = [sys.executable, "-c", "from codeb_report.cli import main; main()"]


@pytest.fixture(scope="module")
def output_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("output")
    gen.write_history(root)
    return root


def diff(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLI, "diff", *map(str, args)], capture_output=True, timeout=60)


def day(i: int) -> str:
    return gen.day_of(i).isoformat()


def test_dates_under_output_root_changed_exit_1(output_root: Path) -> None:
    run = diff(day(11), day(12), "--output-root", output_root)
    assert run.returncode == 1, run.stderr
    out = run.stdout.decode()
    assert out.startswith("# CodeB 서버 변경 사항 리포트")
    assert "| n1 | codeb-worker | 🆕 추가 | 없음 → codeb/worker:1 |" in out
    assert "| n1 | 3300/tcp | 0.0.0.0 | 🔓 열림 | docker-proxy |" in out


def test_folder_and_file_unchanged_exit_0(output_root: Path) -> None:
    folder = output_root / day(3)
    run = diff(folder, folder / "snapshot.json")
    assert run.returncode == 0, run.stderr
    assert "변경 사항 없음" in run.stdout.decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.json", "2025-11-16"], "nope.json: no such file, folder or date"),
        (["2025-01-01", "2025-11-16"], "2025-01-01: no snapshot for that date"),
        (["2025-11-16", "2025-11-17", "--format", "pdf"], "--format pdf needs --output"),
        (["2025-11-16"], "Missing argument"),
    ],
)
def test_trouble_is_exit_2_with_one_line(output_root: Path, args: list[str], message: str) -> None:
    run = diff(*args, "--output-root", output_root)
    assert run.returncode == 2
    assert message in run.stderr.decode()
    assert b"Traceback" not in run.stderr


def test_a_broken_snapshot_is_exit_2_naming_file_and_field(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    save(gen.snapshot_for(0), good)
    bad = tmp_path / "bad.json"
    data = json.loads(good.read_text())
    data["servers"][0]["memory"]["total"] = "lots"
    bad.write_text(json.dumps(data))
    run = diff(good, bad)
    assert run.returncode == 2
    assert "bad.json: servers[n1].memory.total" in run.stderr.decode()


def test_json_names_every_change(output_root: Path) -> None:
    run = diff(day(19), day(20), "--output-root", output_root, "--format", "json")
    assert run.returncode == 1
    data = json.loads(run.stdout)
    assert data["changed"] is True
    assert data["servers"] == [
        {
            "server": "n3",
            "event": "unreachable",
            "role": "Storage (DB)",
            "error": "connection timed out",
        }
    ]
    assert data["summary"][0] == "❌ 연결 실패: n3 (connection timed out)"


def test_findings_still_open_are_dated_through_the_stored_history(output_root: Path) -> None:
    # n2's failed service (from day 30) is a finding that stays open: four days at day 34.
    run = diff(day(33), day(34), "--output-root", output_root, "--format", "json")
    findings = json.loads(run.stdout)["findings"]
    failed = [f for f in findings if f["finding"]["server"] == "n2"]
    assert failed and all(f["state"] == "open" for f in failed)
    assert {f["days_open"] for f in failed} == {4}


def test_pdf_and_html_are_written(output_root: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "diff.pdf"
    run = diff(day(0), day(34), "--output-root", output_root, "-f", "pdf", "-o", pdf)
    assert run.returncode == 1, run.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    txt = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, check=True).stdout
    assert "codeb-watchdog" in txt.decode() and ".service" not in txt.decode()
    html = tmp_path / "diff.html"
    diff(day(0), day(34), "--output-root", output_root, "-f", "html", "-o", html)
    assert "<td>failed/failed</td>" in html.read_text()


def test_collected_text_cannot_break_the_markdown() -> None:
    old = gen.snapshot_for(11)
    new = old.model_copy(deep=True)
    n1 = new.server("n1")
    assert n1 is not None
    n1.containers[0].name = "evil|name <script>"
    md = render_diff(diff_snapshots(old, new), "md").decode()
    assert "evil\\|name &lt;script&gt;" in md
    html = render_diff(diff_snapshots(old, new), "html").decode()
    assert "<script>" not in html


def test_steps_from_the_option_or_the_configuration(output_root: Path, tmp_path: Path) -> None:
    args = [day(0), day(1), "--output-root", output_root, "-f", "json"]
    assert json.loads(diff(*args).stdout)["resources"] == []  # 1 %p < 5 %p
    by_option = json.loads(diff(*args, "--disk-step", "1").stdout)["resources"]
    assert [r["subject"] for r in by_option] == ["/data"]
    config = tmp_path / "fleet.toml"
    config.write_text('[diff]\ndisk_step = 1\n\n[[servers]]\nname = "n1"\nhost = "127.0.0.1"\n')
    by_config = json.loads(diff(*args, "--config", config).stdout)["resources"]
    assert [r["subject"] for r in by_config] == ["/data"]
    both = json.loads(diff(*args, "--config", config, "--disk-step", "9").stdout)["resources"]
    assert both == []


def test_swapped_order_warns_in_one_line_and_prints_no_negative_age(output_root: Path) -> None:
    run = diff(day(30), day(29), "--output-root", output_root, "--format", "json")
    assert run.returncode == 1
    [warning] = run.stderr.decode().splitlines()
    assert warning.startswith(f"warning: NEW {day(29)} (collected ")
    assert "is older than OLD" in warning and "give the older snapshot first" in warning
    ages = {f["state"]: f["days_open"] for f in json.loads(run.stdout)["findings"]}
    assert "open" in ages and all(age is None or age >= 0 for age in ages.values())
    markdown = diff(day(30), day(29), "--output-root", output_root).stdout.decode()
    assert "| ⏳ 지속 |" in markdown and not re.search(r"-\d+일째", markdown)
    assert diff(day(29), day(30), "--output-root", output_root).stderr == b""  # in order


def test_dates_are_looked_up_under_the_configurations_output_root(
    output_root: Path, tmp_path: Path
) -> None:
    config = tmp_path / "fleet.toml"
    config.write_text(
        f'[output]\nroot = "{output_root}"\n[[servers]]\nname = "n1"\nhost = "10.0.0.1"\n'
    )
    run = diff(day(11), day(12), "-c", config)  # no --output-root
    assert run.returncode == 1, run.stderr
    assert "| n1 | codeb-worker | 🆕 추가 | 없음 → codeb/worker:1 |" in run.stdout.decode()
    given = diff(day(11), day(12), "-c", config, "--output-root", tmp_path)  # the option wins
    assert given.returncode == 2 and b"no snapshot for that date under" in given.stderr
