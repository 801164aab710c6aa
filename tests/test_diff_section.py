"""The nightly report's "전일 대비 변경 사항" and "리소스 추세" sections, through the real
renderer down to the PDF, whose charts are checked as text and fonts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import history_gen as gen
import pytest

from codeb_report.analysis import analyse
from codeb_report.history.section import build_history
from codeb_report.history.trends import FORECAST_RULE
from codeb_report.nightly.stages import NightlyHistory
from codeb_report.render import render_report

LAST = 34


@pytest.fixture(scope="module")
def output_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("output")
    gen.write_history(root, days=LAST + 1)
    tonight = root / gen.day_of(LAST).isoformat()  # day 34 is collected "tonight"
    (tonight / "snapshot.json").unlink()
    tonight.rmdir()
    return root


@pytest.fixture(scope="module")
def rendered(output_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    stages = NightlyHistory(output_root, analyse)
    tonight = gen.snapshot_for(LAST)
    analysis = stages.analyse(tonight)
    out = tmp_path_factory.mktemp("report")
    paths = stages.render(tonight, analysis, ["md", "html", "pdf"], out)
    return {p.suffix[1:]: p for p in paths}


def test_diff_against_the_latest_earlier_snapshot(output_root: Path) -> None:
    tonight = gen.snapshot_for(30)  # n2's watchdog fails on day 30
    history = build_history(tonight, analyse(tonight), output_root, analyse, day=gen.day_of(30))
    assert history.previous == gen.day_of(29)
    assert history.diff is not None and history.diff.changed
    assert any("서비스 codeb-watchdog: " in line for line in history.summary)


def test_forecasts_join_the_findings(output_root: Path) -> None:
    stages = NightlyHistory(output_root, analyse)
    analysis = stages.analyse(gen.snapshot_for(LAST))
    forecast = [f for f in analysis.findings if f.rule == FORECAST_RULE]
    assert [(f.server, f.title) for f in forecast] == [("n1", "디스크 용량 소진 예상: 10일 후")]
    assert stages.history is not None and stages.history.forecasts == forecast


def test_without_an_earlier_snapshot_the_section_says_so(tmp_path: Path) -> None:
    tonight = gen.snapshot_for(0)
    history = build_history(tonight, analyse(tonight), tmp_path, analyse)
    assert history.diff is None and history.previous is None
    assert history.summary == [
        f"{gen.day_of(0).isoformat()} 이전의 스냅샷이 없어 비교할 수 없습니다."
    ]
    out = render_report(tonight, analyse(tonight), ["md"], tmp_path / "r", history=history)
    text = out[0].read_text()
    assert "## 7. 전일 대비 변경 사항" in text
    assert "이전의 스냅샷이 없어 비교할 수 없습니다." in text
    assert "스냅샷이 2회 이상 쌓이면 차트를 그립니다." in text


def test_a_broken_earlier_snapshot_is_left_out(tmp_path: Path) -> None:
    gen.write_history(tmp_path, days=3)
    (tmp_path / gen.day_of(2).isoformat() / "snapshot.json").write_text("{broken")
    tonight = gen.snapshot_for(3)
    history = build_history(tonight, analyse(tonight), tmp_path, analyse)
    assert history.previous == gen.day_of(1)
    assert len(history.trends.times) == 3


def test_markdown_has_both_sections(rendered: dict[str, Path]) -> None:
    text = rendered["md"].read_text()
    changes = text.split("## 7. 전일 대비 변경 사항")[1].split("## 8. 리소스 추세")[0]
    assert f"**비교 기준**: {gen.day_of(LAST - 1).isoformat()} 03:00" in changes
    assert "⏳ 지속" in changes  # n2's failed service, open since day 30
    assert "| 4일째 |" in changes
    trends = text.split("## 8. 리소스 추세")[1]
    assert "| n1 | `/data` | 10GB | 1GB | ⚠️ 10일 후 |" in trends
    assert "그 밖에 사용량이 늘고 있는 파일시스템 4개는 1년 이상 여유가 있습니다." in trends
    assert "<svg" not in text


def test_html_embeds_one_svg_pair_per_server(rendered: dict[str, Path]) -> None:
    html = rendered["html"].read_text()
    assert html.count("<svg") == 2 * 5
    assert "n1 — 메모리·디스크 사용률 (%)" in html


def test_charts_are_in_the_pdf_as_korean_text_in_nanumgothic(rendered: dict[str, Path]) -> None:
    pdf = rendered["pdf"]
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, check=True).stdout.decode()
    for name in ("n1", "n2", "n3", "n4", "n5"):
        assert f"{name} — 메모리·디스크 사용률 (%)" in text
        assert f"{name} — 부하 (5분 평균)" in text
    assert "디스크(/data)" in text  # legend
    assert gen.day_of(LAST).strftime("%m-%d") in text  # x axis
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, check=True).stdout.decode()
    families = {line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:]}
    # DejaVu Sans Mono prints section 4's code blocks (box drawing, commands) only.
    fonts_used = ("NanumGothic", "Noto-Color-Emoji", "DejaVu-Sans-Mono")
    assert families and all(f.startswith(fonts_used) for f in families), families


def test_the_mail_body_names_the_changes(output_root: Path, tmp_path: Path) -> None:
    import email
    from email import policy

    from codeb_report.mail.deliver import mail_report
    from codeb_report.mail.settings import MailSettings

    root = tmp_path / "output"
    gen.write_history(root, days=31)  # day 30: n2's watchdog fails
    folder = root / gen.day_of(30).isoformat()
    (folder / "report.pdf").write_bytes(b"%PDF-1.7 stand-in for the attachment\n")
    tonight = gen.snapshot_for(30)
    settings = MailSettings(host="127.0.0.1", sender="report@codeb.test", to=["ops@codeb.test"])
    eml = mail_report(settings, folder, tonight, analyse(tonight), gen.day_of(30), dry_run=True)
    assert eml is not None
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    block = plain.split("■ 전일 대비 변경 사항\n")[1].split("\n\n")[0]
    assert block == "- n2 서비스 codeb-watchdog: active/running → failed/failed"
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "<h3>전일 대비 변경 사항</h3><ul><li>n2 서비스 codeb-watchdog: " in html


def test_codeb_report_run_writes_both_sections(tmp_path: Path) -> None:
    import sys
    from datetime import timedelta

    from codeb_report.outputdir import today

    tonight = today()
    gen.write_history(tmp_path, days=3, start=tonight - timedelta(days=3))
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from codeb_report.cli import main; main()",
            "run",
            "--output-root",
            str(tmp_path),
        ],
        capture_output=True,
        timeout=300,
    )
    assert run.returncode in (0, 4), run.stderr.decode()[-2000:]
    report = (tmp_path / tonight.isoformat() / "report.md").read_text()
    yesterday = (tonight - timedelta(days=1)).isoformat()
    assert f"**비교 기준**: {yesterday} 03:00 →" in report
    assert "➖ 제거: n1 (App Server)" in report  # the generated fleet is not this machine
    assert "## 8. 리소스 추세" in report
    html = (tmp_path / tonight.isoformat() / "report.html").read_text()
    assert html.count("<svg") == 2 * 5  # n1..n4 of the history and this machine, 2 each


def test_a_run_with_a_vultr_account_reads_each_stored_night_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right-sizing reads the nights the trends read: loaded once for both, and a broken
    night is warned about once."""
    from datetime import timedelta

    from codeb_report.history.store import Stored
    from codeb_report.nightly.stages import night_of
    from codeb_report.snapshot import load, save

    tonight = load(Path(__file__).parent.parent / "examples" / "fleet-snapshot.json")
    assert tonight.provider is not None
    for back in (1, 2, 3):
        night = tonight.model_copy(
            update={"collected_at": tonight.collected_at - timedelta(days=back)}
        )
        folder = tmp_path / night.collected_at.date().isoformat()
        folder.mkdir()
        save(night, folder / "snapshot.json")
    (
        tmp_path / (tonight.collected_at - timedelta(days=3)).date().isoformat() / "snapshot.json"
    ).write_text("{")
    loads: list[Path] = []
    real = Stored.load

    def counted(self: Stored, servers: object = None) -> object:
        loads.append(self.path)
        return real(self, servers)  # type: ignore[arg-type]

    monkeypatch.setattr(Stored, "load", counted)
    stages = night_of(None, tmp_path, tonight.collected_at.date())
    stages.analyse(tonight)
    assert stages.history is not None and len(stages.history.trends.times) == 3
    assert len(stages.history.skipped) == 1
    assert sorted(loads) == sorted(set(loads)) and len(loads) == 3
